//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Dialects of the hybrid vsock reply to CONNECT.
const (
	replyFirecracker = "OK 1073741824\n" // Firecracker, Cloud Hypervisor: a host-side port
	replyVhostUser   = "OK 22\n"         // vhost-device-vsock: the guest port
)

// quiet is how long the fake multiplexer listens, after the CONNECT line and
// before its reply, for bytes that must not come: ssh writes its banner as
// soon as it has a connection, so a helper that handed over (or relayed)
// before the reply would send it within this window.
const quiet = 300 * time.Millisecond

// Mux is a fake hybrid vsock multiplexer the test owns.
type Mux struct {
	Sock     string
	Requests atomic.Int32 // connections that sent a CONNECT line
	bad      atomic.Value // string: the first protocol violation seen
}

// violation returns what the multiplexer saw the helper do wrong, if anything.
func (m *Mux) violation() string {
	s, _ := m.bad.Load().(string)
	return s
}

// StartMux listens on dir/name. For each connection it reads the request,
// checks it is exactly "CONNECT port\n" followed by silence, then lets
// answer decide: answer returns the reply to write ("" = close without a
// word) and the backend to splice the connection to after it ("" = none).
// With withBanner the reply and the backend's first line go out in one
// write, so that a helper reading the reply with a buffer would swallow the
// guest's banner.
func StartMux(t testing.TB, dir, name string, port uint32, answer func(n int) (reply, backend string), withBanner bool) *Mux {
	t.Helper()
	m := &Mux{}
	want := "CONNECT " + strconv.FormatUint(uint64(port), 10) + "\n"
	m.Sock = FakeDaemon(t, dir, name, func(c net.Conn) {
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := readLine(c, 64)
		if err != nil || got != want {
			m.bad.CompareAndSwap(nil, fmt.Sprintf("request %q (%v), want %q", got, err, want))
			return
		}
		n := int(m.Requests.Add(1))
		c.SetReadDeadline(time.Now().Add(quiet))
		var extra [256]byte
		if k, _ := c.Read(extra[:]); k > 0 {
			m.bad.CompareAndSwap(nil, fmt.Sprintf("bytes before the reply: %q", extra[:k]))
			return
		}
		c.SetReadDeadline(time.Time{})
		reply, backend := answer(n)
		if reply == "" {
			return // close without a word: nothing listens on the port
		}
		var b net.Conn
		var banner string
		if backend != "" {
			if b, err = net.Dial("unix", backend); err != nil {
				return
			}
			defer b.Close()
		}
		if b != nil && withBanner {
			br := bufio.NewReader(b)
			if banner, err = br.ReadString('\n'); err != nil {
				return
			}
			b = &bufConn{Conn: b, r: br}
		}
		if _, err := c.Write([]byte(reply + banner)); err != nil || b == nil {
			return
		}
		splice(c, b)
	})
	return m
}

// readLine reads one byte at a time up to '\n' or max bytes.
func readLine(c net.Conn, max int) (string, error) {
	var b [1]byte
	var line []byte
	for len(line) < max {
		if _, err := c.Read(b[:]); err != nil {
			return string(line), err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			break
		}
	}
	return string(line), nil
}

// bufConn reads through a bufio.Reader that may hold bytes already read.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// splice copies both ways, passing each end of stream on as a half-close.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else if bc, ok := dst.(*bufConn); ok {
			bc.Conn.(*net.UnixConn).CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// always answers every request the same way.
func always(reply, backend string) func(int) (string, string) {
	return func(int) (string, string) { return reply, backend }
}

// TestMuxSSH: ssh through the drop-in to vsock-mux/PATH and vsock-mux%PATH,
// each dialect, fd passing and relay; the fake multiplexer splices to a
// real sshd after its reply and checks it got "CONNECT 22\n" and not one
// byte more before replying.
func TestMuxSSH(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	s := StartSSHD(t)
	dialects := []struct {
		name       string
		reply      string
		withBanner bool
	}{
		{"firecracker", replyFirecracker, true},
		{"vhost-device-vsock", replyVhostUser, false},
	}
	var muxes []*Mux
	runs := 0
	// The group returns when its parallel subtests have all finished.
	t.Run("group", func(t *testing.T) {
		for _, d := range dialects {
			m := StartMux(t, s.Dir, d.name+".sock", 22, always(d.reply, s.Sock), d.withBanner)
			muxes = append(muxes, m)
			for _, mode := range sshModes {
				for _, h := range []string{"vsock-mux/" + m.Sock, "vsock-mux%" + m.Sock} {
					runs++
					t.Run(d.name+"/"+mode.name+"/"+h, func(t *testing.T) {
						t.Parallel()
						args := append(append([]string{}, mode.opts...), s.User+"@"+h, "echo", "hello", "through", "the", "mux")
						r := runCmd(t, sshLimit, s.Cmd(context.Background(), "ssh", args...))
						if r.Code != 0 || r.Stdout != "hello through the mux\n" {
							t.Fatalf("ssh: %s", r)
						}
					})
				}
			}
		}
	})
	total := 0
	for i, m := range muxes {
		if v := m.violation(); v != "" {
			t.Errorf("%s multiplexer: the helper broke the protocol: %s", dialects[i].name, v)
		}
		total += int(m.Requests.Load())
	}
	if total != runs {
		t.Errorf("the multiplexers got %d CONNECT requests for %d ssh runs", total, runs)
	}
}

// TestMuxErrors: the helper run as ssh would, against multiplexers that
// answer wrongly or not at all: each ends with its documented exit code and
// one line.
func TestMuxErrors(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	silent := StartMux(t, dir, "silent.sock", 22, always("", ""), false)
	garbage := StartMux(t, dir, "garbage.sock", 22, always("HTTP/1.1 400 Bad Request\r\n", ""), false)
	// No newline, then close.
	cut := StartMux(t, dir, "cut.sock", 22, always("OK 1073741824", ""), false)
	// A reply that never ends within 32 bytes; the connection stays open.
	long := FakeDaemon(t, dir, "long.sock", func(c net.Conn) {
		readLine(c, 64)
		c.Write([]byte("OK " + string(make([]byte, 40))))
		c.Read(make([]byte, 1))
	})
	// Reads the request and never answers.
	slow := HungDaemon(t, dir)
	cases := []exitCase{
		{"closed without a word", []string{"vsock-mux/" + silent.Sock, "22"}, 8, []string{"closed the connection without answering CONNECT 22", "still booting"}},
		{"garbage", []string{"vsock-mux%" + garbage.Sock, "22"}, 11, []string{"does not speak hybrid vsock", "HTTP/1.1 400"}},
		{"no newline", []string{"vsock-mux/" + cut.Sock, "22"}, 11, []string{"cut short"}},
		{"too long", []string{"vsock-mux/" + long, "22"}, 11, []string{"no newline in the first 32 bytes"}},
		{"slow reply", []string{"--timeout", "0.5", "vsock-mux/" + slow, "22"}, 9, []string{"timed out waiting for the multiplexer"}},
		{"no socket", []string{"vsock-mux/" + dir + "/absent.sock", "22"}, 11, []string{"no socket at " + dir + "/absent.sock"}},
		{"bad form", []string{"vsock-mux/", "22"}, 2, []string{"no socket path"}},
	}
	runExitCases(t, cases)
	t.Run("resolve", func(t *testing.T) {
		m := StartMux(t, dir, "resolve.sock", 2222, always(replyVhostUser, ""), false)
		r := runHelper(t, "resolve", "--json", "vsock-mux%"+m.Sock, "2222")
		var got map[string]any
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &got) != nil {
			t.Fatalf("resolve: %s", r)
		}
		if got["network"] != "vsock-mux" || got["path"] != m.Sock || got["port"] != 2222.0 || got["cid"] != nil {
			t.Errorf("resolve --json: %v", got)
		}
		if n := m.Requests.Load(); n != 0 {
			t.Errorf("resolve connects to nothing, but the multiplexer got %d requests", n)
		}
	})
}

// TestMuxHandoff: fd passing from a multiplexer: the fd ssh receives is
// past the OK line, and the first bytes the guest sent after it are there.
func TestMuxHandoff(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	echo := FakeDaemon(t, dir, "echo.sock", func(c net.Conn) {
		c.Write([]byte("GUEST-BANNER\n"))
		echoAfterEOF(c)
	})
	m := StartMux(t, dir, "mux.sock", 2222, always(replyFirecracker, echo), true)
	fd, r := runFdpass(t, "vsock-mux/"+m.Sock, "2222")
	expectExit(t, r, 0)
	if fd < 0 {
		return
	}
	got, _ := talkPassed(t, fd, "hi")
	if string(got) != "GUEST-BANNER\necho:hi" {
		t.Errorf("through the passed fd: got %q, want the banner then the echo", got)
	}
	if v := m.violation(); v != "" {
		t.Errorf("protocol: %s", v)
	}
}

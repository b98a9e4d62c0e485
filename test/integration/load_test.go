//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadScale is how hard the load tests push: the short form runs in every
// `make check`; LSP_LOAD=long (`make load`) is the long form.
type loadScale struct {
	echo     int64 // bytes each way through one ssh session
	sessions int   // concurrent ssh sessions per mode
	perSess  int64 // bytes each session moves
	eof      int64 // bytes each way in the EOF tests
	limit    time.Duration
}

func scale() loadScale {
	if os.Getenv("LSP_LOAD") == "long" {
		return loadScale{echo: 1 << 30, sessions: 200, perSess: 1 << 20, eof: 256 << 20, limit: 30 * time.Minute}
	}
	return loadScale{echo: 64 << 20, sessions: 20, perSess: 1 << 20, eof: 8 << 20, limit: 5 * time.Minute}
}

// stream returns size pseudo-random bytes; seed picks the stream.
func stream(seed uint64, size int64) io.Reader {
	var key [32]byte
	copy(key[:], strconv.FormatUint(seed, 10))
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// sumOf returns the SHA-256 of a stream.
func sumOf(seed uint64, size int64) string {
	h := sha256.New()
	io.Copy(h, stream(seed, size))
	return hex.EncodeToString(h.Sum(nil))
}

// loadSSH runs ssh with opts to host running command, with stdin from in
// and stdout to out, under the scale's limit. ConnectTimeout is raised: a
// hundred handshakes at once on two cores take their time.
func loadSSH(t *testing.T, s *SSHD, opts []string, in io.Reader, out io.Writer, command string) Result {
	t.Helper()
	args := append([]string{"-o", "ConnectTimeout=600"}, opts...)
	cmd := s.Cmd(context.Background(), "ssh", append(args, s.User+"@"+s.HostSlash(), command)...)
	cmd.Stdin, cmd.Stdout = in, out
	return runCmd(t, scale().limit, cmd)
}

// TestLoadIntegrity: `ssh host cat` moves the same pseudo-random bytes up and
// down at once (64 MiB each way; 1 GiB in the long form); the bytes that come
// back have the SHA-256 of those sent, in both modes.
func TestLoadIntegrity(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	s := StartSSHD(t)
	size := scale().echo
	want := sumOf(1, size)
	for _, m := range sshModes {
		t.Run(m.name, func(t *testing.T) {
			h := sha256.New()
			var n atomic.Int64
			r := loadSSH(t, s, m.opts, stream(1, size), io.MultiWriter(h, counter{&n}), "cat")
			got := hex.EncodeToString(h.Sum(nil))
			if r.Code != 0 || n.Load() != size || got != want {
				t.Fatalf("%d bytes each way: got %d back, sha256 %s, want %s; ssh: %s", size, n.Load(), got, want, r)
			}
			mbps := float64(2*size) / r.Elapsed.Seconds() / (1 << 20)
			t.Logf("%d MiB each way in %v (%.0f MiB/s both ways together)", size>>20, r.Elapsed.Round(time.Millisecond), mbps)
		})
	}
}

// TestLoadSessions: many ssh sessions at once through the helper (20; 200 in
// the long form), each running sha256sum over its own 1 MiB: all succeed with
// the right sum, and no helper process is left afterwards.
func TestLoadSessions(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	s := StartSSHD(t)
	sc := scale()
	if left := helpersUnder(0); len(left) != 0 {
		t.Fatalf("helpers running before the test: %v", left)
	}
	for _, m := range sshModes {
		t.Run(m.name, func(t *testing.T) {
			start := time.Now()
			results := make([]Result, sc.sessions)
			outs := make([]strings.Builder, sc.sessions)
			var wg sync.WaitGroup
			for i := range sc.sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = loadSSH(t, s, m.opts, stream(uint64(100+i), sc.perSess), &outs[i], "sha256sum")
				}()
			}
			wg.Wait()
			took := time.Since(start)
			var slow []time.Duration
			for i, r := range results {
				// No helper line: one after a good session (e.g.
				// "connection lost" as ssh exits) is a false alarm. (The
				// guest side's login shell may say things of its own.)
				want := sumOf(uint64(100+i), sc.perSess) + "  -\n"
				if r.Code != 0 || outs[i].String() != want || strings.Contains(r.Stderr, "libvirt-ssh-proxy") {
					t.Errorf("session %d: got %q, want %q and no helper line: %s", i, outs[i].String(), want, r)
				}
				slow = append(slow, r.Elapsed)
			}
			sort.Slice(slow, func(i, j int) bool { return slow[i] < slow[j] })
			t.Logf("%d sessions at once: all done in %v; per session median %v, max %v",
				sc.sessions, took.Round(time.Millisecond), slow[len(slow)/2].Round(time.Millisecond), slow[len(slow)-1].Round(time.Millisecond))
			// ssh has exited; a relaying helper may take a moment more to
			// see its stdin close (ssh sends it SIGHUP too).
			deadline := time.Now().Add(5 * time.Second)
			for left := helpersUnder(0); len(left) != 0; left = helpersUnder(0) {
				if time.Now().After(deadline) {
					t.Fatalf("%d helpers still running 5 s after their ssh exited: %v", len(left), left)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// fdTable lists a process's open descriptors and what each refers to, with
// socket and pipe inode numbers dropped (only the kind matters).
func fdTable(t *testing.T, pid int) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		l, _ := os.Readlink(dir + "/" + e.Name())
		kind, _, _ := strings.Cut(l, ":[")
		fds = append(fds, e.Name()+"->"+kind)
	}
	sort.Strings(fds)
	return fds
}

// TestLoadRelayFDs: a long-running relay holds the same descriptors before
// and after moving data (no fd leaks per transfer).
func TestLoadRelayFDs(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	s := StartSSHD(t)
	ctx, cancel := context.WithTimeout(context.Background(), scale().limit)
	defer cancel()
	cmd := s.Cmd(ctx, "ssh", append(append([]string{}, sshModes[1].opts...), s.User+"@"+s.HostSlash(), "cat")...)
	stdin, stdout, stderr := startPiped(t, cmd)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	echo := func(n int64, seed uint64) {
		t.Helper()
		go io.Copy(stdin, stream(seed, n))
		h := sha256.New()
		if _, err := io.CopyN(h, stdout, n); err != nil {
			t.Fatalf("echo of %d bytes: %v; ssh stderr %q", n, err, stderr.String())
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sumOf(seed, n) {
			t.Fatalf("echo of %d bytes came back different", n)
		}
	}
	echo(1, 0) // the session is up
	helpers := helpersUnder(cmd.Process.Pid)
	if len(helpers) != 1 {
		t.Fatalf("want one relaying helper under ssh, got %v", helpers)
	}
	before := fdTable(t, helpers[0])
	for i := range 8 {
		echo(scale().eof, uint64(200+i))
	}
	after := fdTable(t, helpers[0])
	if strings.Join(before, " ") != strings.Join(after, " ") {
		t.Errorf("helper's descriptors changed over 8 transfers:\nbefore %v\nafter  %v", before, after)
	}
	t.Logf("helper %d holds %d descriptors before and after: %v", helpers[0], len(after), after)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("ssh after stdin closed: %v; stderr %q", err, stderr.String())
	}
}

// TestLoadEOF: the relay's end-of-stream handling with exact byte counts, the
// helper run as ssh runs it without fd passing (two pipes) against scripted
// targets:
//
//	stdin ends, output still flowing: the target reads to EOF, then sends
//	target ends first: it sends and closes while stdin stays open
//	both at once: it sends while reading, and ends when stdin does
func TestLoadEOF(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	n := scale().eof
	cases := []struct {
		name        string
		serve       func(c net.Conn, read chan<- int64)
		send        bool // the test writes n bytes to stdin
		closeBefore bool // and closes stdin before reading stdout to its end
	}{
		{"stdin ends, output still flowing", func(c net.Conn, read chan<- int64) {
			m, _ := io.Copy(io.Discard, c)
			read <- m
			io.Copy(c, stream(3, n))
			c.Close()
		}, true, true},
		{"target ends first", func(c net.Conn, read chan<- int64) {
			io.Copy(c, stream(3, n))
			c.Close()
			read <- 0
		}, false, false},
		{"both at once", func(c net.Conn, read chan<- int64) {
			done := make(chan struct{})
			go func() {
				io.Copy(c, stream(3, n))
				c.(*net.UnixConn).CloseWrite()
				close(done)
			}()
			m, _ := io.Copy(io.Discard, c)
			<-done
			c.Close()
			read <- m
		}, true, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			read := make(chan int64, 1)
			sock := FakeDaemon(t, dir, fmt.Sprintf("eof%d.sock", i), func(conn net.Conn) { c.serve(conn, read) })
			r := startRelay(t, sock)
			wrote := make(chan error, 1)
			if c.send {
				go func() {
					_, err := io.Copy(r.Stdin, stream(4, n))
					if c.closeBefore {
						err = r.Stdin.Close()
					}
					wrote <- err
				}()
			}
			if c.closeBefore {
				if err := <-wrote; err != nil {
					t.Fatal(err)
				}
			}
			h := sha256.New()
			m, err := io.Copy(h, r.Stdout)
			if err != nil || m != n || hex.EncodeToString(h.Sum(nil)) != sumOf(3, n) {
				t.Errorf("stdout: %d bytes (%v), want %d, intact", m, err, n)
			}
			if c.send && !c.closeBefore {
				if err := <-wrote; err != nil {
					t.Fatal(err)
				}
			}
			r.Stdin.Close() // stdout has ended: the helper waits for this only
			var targetGot int64
			select {
			case targetGot = <-read:
			case <-time.After(scale().limit):
				t.Fatal("the target never finished")
			}
			want := int64(0)
			if c.send {
				want = n
			}
			if targetGot != want {
				t.Errorf("target read %d bytes, want %d", targetGot, want)
			}
			if code, _ := r.wait(t, 5*time.Second); code != 0 || r.Stderr() != "" {
				t.Errorf("helper: exit %d, stderr %q; want 0 and nothing", code, r.Stderr())
			}
		})
	}
}

// TestLoadEOFSSH: the same three endings through ssh and sshd, both modes,
// 8 MiB: byte counts exact.
func TestLoadEOFSSH(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	s := StartSSHD(t)
	const n = 8 << 20
	cases := []struct {
		name    string
		command string
		stdin   func(t *testing.T) io.Reader
		want    string // what stdout must be
	}{
		{"stdin ends, output still flowing", fmt.Sprintf("wc -c; head -c %d /dev/zero", n),
			func(*testing.T) io.Reader { return stream(5, n) }, fmt.Sprintf("%d\n", n) + strings.Repeat("\x00", n)},
		// stdin is a pipe nobody writes to or closes until the test ends.
		{"guest ends first", fmt.Sprintf("head -c %d /dev/zero", n),
			func(t *testing.T) io.Reader {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close(); w.Close() })
				return r
			}, strings.Repeat("\x00", n)},
		{"both at once", "cat",
			func(*testing.T) io.Reader { return strings.NewReader(strings.Repeat("x", n)) }, strings.Repeat("x", n)},
	}
	for _, m := range sshModes {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				var out strings.Builder
				r := loadSSH(t, s, m.opts, c.stdin(t), &out, c.command)
				if r.Code != 0 || out.Len() != len(c.want) || out.String() != c.want || strings.Contains(r.Stderr, "libvirt-ssh-proxy") {
					t.Errorf("stdout %d bytes, want %d (exact), and no helper line: %s", out.Len(), len(c.want), r)
				}
			})
		}
	}
}

package dial

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// socketPair returns two connected unix stream conns, standing in for a
// vsock connection: on this host a real vsock connect would leave the machine.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	return conn(fds[0]), conn(fds[1])
}

func TestDialVSockInjected(t *testing.T) {
	ours, peer := socketPair(t)
	var gotCID, gotPort uint32
	d := Dialer{VSock: func(_ context.Context, cid, port uint32) (net.Conn, error) {
		gotCID, gotPort = cid, port
		return ours, nil
	}}
	f, err := d.Dial(context.Background(), target.Target{Network: target.VSock, CID: 42, Port: 2222})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if gotCID != 42 || gotPort != 2222 {
		t.Fatalf("dialed %d:%d, want 42:2222", gotCID, gotPort)
	}
	// The file must outlive the conn Dial closed.
	if _, err := f.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := peer.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
}

func TestDialVSockErrors(t *testing.T) {
	tests := []struct {
		err   error
		class failure.Class
		text  string
	}{
		{syscall.ECONNRESET, failure.NotListening, "nothing listening on vsock port 22 of CID 42"},
		{syscall.ECONNREFUSED, failure.NotListening, "nothing listening on vsock port 22"},
		{syscall.ETIMEDOUT, failure.NotReady, "not ready"},
		{syscall.ENODEV, failure.NoTarget, "no VM holds vsock CID 42"},
		{syscall.EHOSTUNREACH, failure.NoTarget, "no VM holds vsock CID 42"},
		{syscall.EAFNOSUPPORT, failure.NoTarget, "no vsock support"},
		{&net.OpError{Op: "dial", Net: "vsock", Err: os.NewSyscallError("connect", syscall.ECONNRESET)}, failure.NotListening, "nothing listening"},
		{syscall.EPERM, failure.NoTarget, "connect to vsock CID 42 port 22: operation not permitted"},
	}
	for _, tt := range tests {
		d := Dialer{VSock: func(context.Context, uint32, uint32) (net.Conn, error) { return nil, tt.err }}
		_, err := d.Dial(context.Background(), target.Target{Network: target.VSock, CID: 42, Port: 22})
		if failure.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%v: got class %d %q, want class %d containing %q", tt.err, failure.ClassOf(err), err, tt.class, tt.text)
		}
	}
}

// TestNoVMHint: the hint for a CID no VM holds names the real domain and
// URI, shell-quoted, when libvirt named the CID, and no virsh command
// (there is no domain) for a direct vsock/CID.
func TestNoVMHint(t *testing.T) {
	d := Dialer{VSock: func(context.Context, uint32, uint32) (net.Conn, error) { return nil, syscall.ENODEV }}
	dom := &target.Domain{URI: "test+unix:///h.xml?socket=/s", Name: "my vm"}
	_, err := d.Dial(context.Background(), target.Target{Network: target.VSock, CID: 42, Port: 22, Domain: dom})
	if want := `check its CID with: virsh -c 'test+unix:///h.xml?socket=/s' dumpxml 'my vm'`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want the hint %q", err, want)
	}
	_, err = d.Dial(context.Background(), target.Target{Network: target.VSock, CID: 42, Port: 22})
	if err == nil || strings.Contains(err.Error(), "NAME") || strings.Contains(err.Error(), "virsh") || !strings.Contains(err.Error(), "libvirt-ssh-proxy list") {
		t.Errorf("vsock/42: got %v, want a hint without a virsh placeholder", err)
	}
}

func TestDialTimeout(t *testing.T) {
	d := Dialer{VSock: func(ctx context.Context, _, _ uint32) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := d.Dial(ctx, target.Target{Network: target.VSock, CID: 3, Port: 22})
	if failure.ClassOf(err) != failure.Timeout || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("got %v (class %d), want a timeout", err, failure.ClassOf(err))
	}
	// A deadline taken from ctx can fire before ctx's own timer: still a
	// timeout, not "no such target".
	for _, early := range []error{os.ErrDeadlineExceeded, &net.OpError{Op: "dial", Net: "unix", Err: context.DeadlineExceeded}} {
		d := Dialer{VSock: func(context.Context, uint32, uint32) (net.Conn, error) { return nil, early }}
		_, err := d.Dial(context.Background(), target.Target{Network: target.VSock, CID: 3, Port: 22})
		if failure.ClassOf(err) != failure.Timeout {
			t.Errorf("%v before ctx ended: got %v (class %d), want a timeout", early, err, failure.ClassOf(err))
		}
	}
}

func TestDialUnix(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("banner"))
			c.Close()
		}
	}()
	f, err := Dialer{}.Dial(context.Background(), target.Target{Network: target.Unix, Path: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 6)
	if _, err := f.Read(buf); err != nil || string(buf) != "banner" {
		t.Fatalf("read %q, %v", buf, err)
	}

	stale := filepath.Join(dir, "stale")
	sl, _ := net.Listen("unix", stale)
	sl.(*net.UnixListener).SetUnlinkOnClose(false)
	sl.Close()
	tests := []struct {
		path  string
		class failure.Class
		text  string
	}{
		{filepath.Join(dir, "absent"), failure.NoTarget, "no socket at"},
		{stale, failure.NotListening, "nothing listening on"},
	}
	for _, tt := range tests {
		_, err := Dialer{}.Dial(context.Background(), target.Target{Network: target.Unix, Path: tt.path})
		if failure.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: got class %d %v, want class %d containing %q", tt.path, failure.ClassOf(err), err, tt.class, tt.text)
		}
	}
	if _, err := (Dialer{}).Dial(context.Background(), target.Target{}); failure.ClassOf(err) != failure.Internal {
		t.Errorf("empty target: %v", err)
	}
}

// fakeMux is a hybrid vsock multiplexer the test owns: it accepts on a unix
// socket, reads the CONNECT line with one read (the helper sends it in one
// write) and answers with reply, then runs after on the connection.
func fakeMux(t *testing.T, reply string, after func(net.Conn)) (sock string, got chan string) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "mux.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		got <- string(buf[:n])
		if reply != "" {
			c.Write([]byte(reply))
		}
		if after != nil {
			after(c)
		}
	}()
	return sock, got
}

// TestDialMux: each multiplexer dialect, and each way a reply can be wrong.
func TestDialMux(t *testing.T) {
	// hold keeps the connection open until the helper side closes it.
	hold := func(c net.Conn) { c.Read(make([]byte, 1)) }
	tests := []struct {
		name  string
		reply string
		after func(net.Conn)
		class failure.Class // 0 = success
		text  string
	}{
		{"firecracker", "OK 1073741824\nSSH-2.0-guest\r\n", hold, 0, ""},
		{"vhost-device-vsock", "OK 22\n", func(c net.Conn) { c.Write([]byte("SSH-2.0-guest\r\n")); hold(c) }, 0, ""},
		{"silent close", "", nil, failure.NotListening, "closed the connection without answering CONNECT 2222"},
		{"garbage", "HTTP/1.1 400 Bad Request\r\n", nil, failure.NoTarget, "does not speak hybrid vsock"},
		{"refused in words", "ERR no listener\n", nil, failure.NoTarget, `reply is not "OK <n>"`},
		{"no newline", "OK 1073741824", nil, failure.NoTarget, "cut short"},
		{"too long", strings.Repeat("OK ", 20), hold, failure.NoTarget, "no newline in the first 32 bytes"},
		{"slow reply", "", func(c net.Conn) { time.Sleep(300 * time.Millisecond); c.Write([]byte("OK 22\n")) }, failure.Timeout, "timed out waiting for the multiplexer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock, got := fakeMux(t, tt.reply, tt.after)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			if tt.class == 0 {
				ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			}
			defer cancel()
			f, err := Dialer{}.Dial(ctx, target.Target{Network: target.Mux, Path: sock, Port: 2222})
			if req := <-got; req != "CONNECT 2222\n" {
				t.Errorf("multiplexer got %q in its first read, want exactly %q", req, "CONNECT 2222\n")
			}
			if tt.class != 0 {
				if failure.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("got class %d %v, want class %d containing %q", failure.ClassOf(err), err, tt.class, tt.text)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// The guest's first bytes came after the OK line: they must be
			// there to read through the fd, none swallowed by the handshake.
			f.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			n, err := f.Read(buf)
			if string(buf[:n]) != "SSH-2.0-guest\r\n" {
				t.Fatalf("read %q, %v through the fd; want the guest's banner", buf[:n], err)
			}
		})
	}
}

// TestDialMuxConnect: the multiplexer's socket is reached like a unix
// target, with the same failures.
func TestDialMuxConnect(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale")
	sl, _ := net.Listen("unix", stale)
	sl.(*net.UnixListener).SetUnlinkOnClose(false)
	sl.Close()
	for _, tt := range []struct {
		path  string
		class failure.Class
		text  string
	}{
		{filepath.Join(dir, "absent"), failure.NoTarget, "no socket at"},
		{stale, failure.NotListening, "nothing listening on"},
	} {
		_, err := Dialer{}.Dial(context.Background(), target.Target{Network: target.Mux, Path: tt.path, Port: 22})
		if failure.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: got class %d %v, want class %d containing %q", tt.path, failure.ClassOf(err), err, tt.class, tt.text)
		}
	}
}

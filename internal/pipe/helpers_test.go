//go:build linux

package pipe

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// All sockets in these tests are AF_UNIX socketpairs or TCP on loopback;
// AF_VSOCK must never be created here (it leaves the machine).

// newFile wraps fd, first putting it in the requested mode. A non-blocking
// fd becomes a netpoller file, so the test can Close it to unblock its own
// goroutines; a blocking one stays a plain blocking file.
func newFile(t testing.TB, fd int, nonblock bool, name string) *os.File {
	t.Helper()
	if err := unix.SetNonblock(fd, nonblock); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), name)
}

// socketPair returns a connected AF_UNIX stream pair; a is the relay's side
// (blocking or not), b the test's side (always non-blocking).
func socketPair(t testing.TB, aNonblock bool) (a, b *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return newFile(t, fds[0], aNonblock, "sock-a"), newFile(t, fds[1], true, "sock-b")
}

// pipePair returns a pipe whose read and write ends get their own modes
// (a pipe's two ends are separate open file descriptions).
func pipePair(t testing.TB, rNonblock, wNonblock bool) (r, w *os.File) {
	t.Helper()
	p := make([]int, 2)
	if err := unix.Pipe2(p, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	return newFile(t, p[0], rNonblock, "pipe-r"), newFile(t, p[1], wNonblock, "pipe-w")
}

// tcpPair returns both ends of a loopback TCP connection as files.
func tcpPair(t testing.TB) (a, b *os.File) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	ca, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	a, err = ca.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	b, err = r.c.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	ca.Close()
	r.c.Close()
	return a, b
}

// rig is a relay under test: Relay(ctx, in, out, conn) plus the test's ends.
type rig struct {
	in, inW   *os.File // test writes inW, relay reads in
	out, outR *os.File // relay writes out, test reads outR
	conn      *os.File // relay side of the connection
	peer      *os.File // the "VM" side
	tcp       bool
}

type rigKind struct {
	name  string
	stdio string // "pipe", "bpipe" (relay ends blocking), "socket"
	conn  string // "unix", "bunix" (relay end blocking), "tcp"
}

var rigKinds = []rigKind{
	{"pipes-unix", "pipe", "unix"},
	{"blockingpipes-blockingunix", "bpipe", "bunix"},
	{"sockets-unix", "socket", "bunix"},
	{"pipes-tcp", "pipe", "tcp"},
}

func newRig(t testing.TB, k rigKind) *rig {
	t.Helper()
	r := &rig{}
	switch k.stdio {
	case "pipe", "bpipe":
		nb := k.stdio == "pipe"
		r.in, r.inW = pipePair(t, nb, true)
		r.outR, r.out = pipePair(t, true, nb)
	case "socket":
		r.in, r.inW = socketPair(t, false)
		r.out, r.outR = socketPair(t, false)
	default:
		t.Fatalf("bad stdio kind %q", k.stdio)
	}
	switch k.conn {
	case "unix", "bunix":
		r.conn, r.peer = socketPair(t, k.conn == "unix")
	case "tcp":
		r.conn, r.peer = tcpPair(t)
		r.tcp = true
	default:
		t.Fatalf("bad conn kind %q", k.conn)
	}
	t.Cleanup(r.close)
	return r
}

func (r *rig) close() {
	for _, f := range []*os.File{r.in, r.inW, r.out, r.outR, r.conn, r.peer} {
		_ = f.Close()
	}
}

// start runs Relay in the background.
func (r *rig) start() <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- Relay(context.Background(), r.in, r.out, r.conn) }()
	return errc
}

func waitErr(t testing.TB, errc <-chan error, d time.Duration) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		t.Fatalf("Relay did not return within %v", d)
		return nil
	}
}

// shutWrite half-closes a socket file, like the VM side finishing output.
func shutWrite(t testing.TB, f *os.File) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
}

// abort closes a socket so that its peer sees a reset: SO_LINGER 0 makes
// TCP send RST, and AF_UNIX reports ECONNRESET when data was left unread.
func abort(t testing.TB, f *os.File) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	_ = sc.Control(func(fd uintptr) {
		_ = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	})
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitReadable waits until f has data queued, without reading it.
func waitReadable(t testing.TB, f *os.File, d time.Duration) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var perr error
	_ = sc.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		// EINTR: the Go runtime's preemption signal; the wait goes on
		for deadline := time.Now().Add(d); ; {
			n, perr = unix.Poll(pfd, int(max(time.Until(deadline), 0)/time.Millisecond))
			if perr != unix.EINTR {
				break
			}
		}
	})
	if perr != nil || n != 1 {
		t.Fatalf("peer never became readable: n=%d err=%v", n, perr)
	}
}

// fillUntilStuck writes to the non-blocking f until it has taken nothing
// for a while: whatever relays it is then holding all it can. How much that
// is depends on the relay's mode and the kernel's buffer sizes, so the test
// does not guess a number.
func fillUntilStuck(t testing.TB, f *os.File) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for idle := 0; idle < 5; {
		var wrote bool
		var werr error
		_ = sc.Write(func(fd uintptr) bool {
			for {
				n, err := unix.Write(int(fd), buf)
				if err != nil {
					if err != unix.EAGAIN {
						werr = err
					}
					return true
				}
				wrote = wrote || n > 0
			}
		})
		if werr != nil {
			t.Fatalf("fill: %v", werr)
		}
		if idle++; wrote {
			idle = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type streamResult struct {
	n   int64
	sum [sha256.Size]byte
	err error
}

// send writes n pseudo-random bytes (seeded) to w and returns their hash.
func send(w io.Writer, seed uint64, n int64) streamResult {
	h := sha256.New()
	src := io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), n)
	// Wrapped so io.Copy uses a plain buffer on both sides, whatever w is.
	m, err := io.CopyBuffer(struct{ io.Writer }{io.MultiWriter(w, h)}, struct{ io.Reader }{src}, make([]byte, 256<<10))
	var r streamResult
	r.n, r.err = m, err
	copy(r.sum[:], h.Sum(nil))
	return r
}

// recv reads r to EOF and returns the count and hash.
func recv(r io.Reader) streamResult {
	h := sha256.New()
	m, err := io.CopyBuffer(h, struct{ io.Reader }{r}, make([]byte, 256<<10))
	var res streamResult
	res.n, res.err = m, err
	copy(res.sum[:], h.Sum(nil))
	return res
}

func goResult(f func() streamResult) <-chan streamResult {
	c := make(chan streamResult, 1)
	go func() { c <- f() }()
	return c
}

func expectSame(t testing.TB, what string, sent, got streamResult) {
	t.Helper()
	if sent.err != nil {
		t.Errorf("%s: send: %v", what, sent.err)
	}
	if got.err != nil {
		t.Errorf("%s: recv: %v", what, got.err)
	}
	if got.n != sent.n || got.sum != sent.sum {
		t.Errorf("%s: got %d bytes (sha %x), sent %d (sha %x)", what, got.n, got.sum[:4], sent.n, sent.sum[:4])
	}
}

func isErrno(err error, errnos ...unix.Errno) bool {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func fdCount(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func fileFlags(t testing.TB, f *os.File) int {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fl int
	var ferr error
	if err := sc.Control(func(fd uintptr) { fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil {
		t.Fatal(err)
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	return fl
}

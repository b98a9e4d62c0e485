//go:build linux

package pipe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRelayHalfClose drives each clean ending order over every stdio/conn
// combination and checks exact byte streams in both directions.
func TestRelayHalfClose(t *testing.T) {
	large := int64(64 << 20)
	if testing.Short() {
		large = 8 << 20
	}
	scenarios := []struct {
		name string
		run  func(t *testing.T, r *rig, errc <-chan error)
	}{
		{"in EOF first, output keeps flowing", func(t *testing.T, r *rig, errc <-chan error) {
			outGot := goResult(func() streamResult { return recv(r.outR) })
			upSent := send(r.inW, 1, 100<<10)
			r.inW.Close()
			// The VM sees EOF (shutdown) while it can still talk back.
			expectSame(t, "in->conn", upSent, recv(r.peer))
			downSent := send(r.peer, 2, 1<<20)
			shutWrite(t, r.peer)
			expectSame(t, "conn->out", downSent, <-outGot)
			if err := waitErr(t, errc, 5*time.Second); err != nil {
				t.Fatalf("Relay: %v", err)
			}
		}},
		{"peer finishes first, in keeps flowing", func(t *testing.T, r *rig, errc <-chan error) {
			outGot := goResult(func() streamResult { return recv(r.outR) })
			downSent := send(r.peer, 3, 100<<10)
			shutWrite(t, r.peer)
			// out must be closed (EOF for ssh) while in is still open.
			expectSame(t, "conn->out", downSent, <-outGot)
			peerGot := goResult(func() streamResult { return recv(r.peer) })
			upSent := send(r.inW, 4, 1<<20)
			r.inW.Close()
			expectSame(t, "in->conn", upSent, <-peerGot)
			if err := waitErr(t, errc, 5*time.Second); err != nil {
				t.Fatalf("Relay: %v", err)
			}
		}},
		{"peer closes completely, then in EOF", func(t *testing.T, r *rig, errc <-chan error) {
			outGot := goResult(func() streamResult { return recv(r.outR) })
			downSent := send(r.peer, 5, 64<<10)
			r.peer.Close()
			expectSame(t, "conn->out", downSent, <-outGot)
			r.inW.Close()
			if err := waitErr(t, errc, 5*time.Second); err != nil {
				t.Fatalf("Relay: %v", err)
			}
		}},
		{"both end at once", func(t *testing.T, r *rig, errc <-chan error) {
			outGot := goResult(func() streamResult { return recv(r.outR) })
			peerGot := goResult(func() streamResult { return recv(r.peer) })
			upc := goResult(func() streamResult { s := send(r.inW, 6, 300<<10); r.inW.Close(); return s })
			downSent := send(r.peer, 7, 300<<10)
			shutWrite(t, r.peer)
			expectSame(t, "in->conn", <-upc, <-peerGot)
			expectSame(t, "conn->out", downSent, <-outGot)
			if err := waitErr(t, errc, 5*time.Second); err != nil {
				t.Fatalf("Relay: %v", err)
			}
		}},
		{"no data at all", func(t *testing.T, r *rig, errc <-chan error) {
			outGot := goResult(func() streamResult { return recv(r.outR) })
			r.inW.Close()
			shutWrite(t, r.peer)
			if got := recv(r.peer); got.n != 0 || got.err != nil {
				t.Errorf("peer got %d bytes, %v", got.n, got.err)
			}
			if got := <-outGot; got.n != 0 || got.err != nil {
				t.Errorf("out got %d bytes, %v", got.n, got.err)
			}
			if err := waitErr(t, errc, 5*time.Second); err != nil {
				t.Fatalf("Relay: %v", err)
			}
		}},
		{fmt.Sprintf("%d MiB each way concurrently", large>>20), func(t *testing.T, r *rig, errc <-chan error) {
			outGot := goResult(func() streamResult { return recv(r.outR) })
			peerGot := goResult(func() streamResult { return recv(r.peer) })
			upc := goResult(func() streamResult { s := send(r.inW, 8, large); r.inW.Close(); return s })
			downc := goResult(func() streamResult { s := send(r.peer, 9, large+12345); shutWrite(t, r.peer); return s })
			expectSame(t, "in->conn", <-upc, <-peerGot)
			expectSame(t, "conn->out", <-downc, <-outGot)
			if err := waitErr(t, errc, 20*time.Second); err != nil {
				t.Fatalf("Relay: %v", err)
			}
		}},
	}
	for _, k := range rigKinds {
		for _, sc := range scenarios {
			t.Run(k.name+"/"+sc.name, func(t *testing.T) {
				r := newRig(t, k)
				connFlags := fileFlags(t, r.conn)
				sc.run(t, r, r.start())
				if got := fileFlags(t, r.conn); got != connFlags {
					t.Errorf("conn flags changed: %#x -> %#x", connFlags, got)
				}
				// Relay closes out on conn EOF, so further use must fail.
				if _, err := r.out.Write([]byte{1}); err == nil {
					t.Error("out still writable after a clean relay")
				}
			})
		}
	}
}

// TestRelayErrors checks that a failing direction ends Relay promptly even
// though in stays open and silent, which would block a read(2)-based relay.
func TestRelayErrors(t *testing.T) {
	// A bound against hanging, not a timing assertion: generous for a
	// loaded 2-core machine.
	const prompt = 5 * time.Second
	// ended checks the relay's end after what happened at start: prompt,
	// in direction dir, with one of errnos.
	ended := func(t *testing.T, errc <-chan error, start time.Time, dir string, errnos ...unix.Errno) {
		t.Helper()
		err := waitErr(t, errc, 5*time.Second)
		if d := time.Since(start); d > prompt {
			t.Errorf("Relay took %v to notice", d)
		}
		if !isErrno(err, errnos...) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Relay = %v, want %s %v", err, dir, errnos[0])
		}
	}
	scenarios := []struct {
		name string
		run  func(t *testing.T, r *rig, errc <-chan error)
	}{
		{"conn reset mid-transfer", func(t *testing.T, r *rig, errc <-chan error) {
			// Leave unread data at the VM side so AF_UNIX reports a reset.
			if _, err := r.inW.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			waitReadable(t, r.peer, 5*time.Second)
			go send(r.peer, 10, 64<<20) // ends when the peer is closed
			drained := goResult(func() streamResult { return recv(r.outR) })
			buf := make([]byte, 512<<10)
			if _, err := io.ReadFull(r.outR, buf); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			abort(t, r.peer)
			ended(t, errc, start, "conn->out", unix.ECONNRESET)
			r.out.Close()
			<-drained
		}},
		{"out reader closes mid-transfer", func(t *testing.T, r *rig, errc <-chan error) {
			go send(r.peer, 11, 64<<20)
			buf := make([]byte, 256<<10)
			if _, err := io.ReadFull(r.outR, buf); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r.outR.Close()
			ended(t, errc, start, "conn->out", unix.EPIPE, unix.ECONNRESET)
			r.peer.Close() // stops the sender
		}},
		{"out reader closes while idle", func(t *testing.T, r *rig, errc <-chan error) {
			time.Sleep(20 * time.Millisecond) // let Relay settle into poll
			start := time.Now()
			r.outR.Close()
			ended(t, errc, start, "conn->out", unix.EPIPE, unix.ECONNRESET)
		}},
		{"conn reset after conn->out finished, in silent", func(t *testing.T, r *rig, errc <-chan error) {
			if _, err := r.inW.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			waitReadable(t, r.peer, 5*time.Second)
			shutWrite(t, r.peer)
			if got := recv(r.outR); got.err != nil || got.n != 0 {
				t.Fatalf("out: %d bytes, %v", got.n, got.err)
			}
			start := time.Now()
			abort(t, r.peer)
			ended(t, errc, start, "in->conn", unix.ECONNRESET, unix.EPIPE)
		}},
		{"peer gone, in sends more", func(t *testing.T, r *rig, errc <-chan error) {
			drained := goResult(func() streamResult { return recv(r.outR) })
			r.peer.Close()
			if got := <-drained; got.err != nil || got.n != 0 {
				t.Fatalf("out: %d bytes, %v", got.n, got.err)
			}
			// Writing into a connection nobody reads any more is an error,
			// possibly only on the second write for TCP (RST comes back).
			go func() {
				for i := 0; i < 50; i++ {
					if _, err := r.inW.Write(bytes.Repeat([]byte("x"), 4096)); err != nil {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			err := waitErr(t, errc, 5*time.Second)
			if !isErrno(err, unix.EPIPE, unix.ECONNRESET) || !strings.Contains(err.Error(), "in->conn") {
				t.Errorf("Relay = %v, want in->conn EPIPE", err)
			}
		}},
	}
	for _, k := range rigKinds {
		for _, sc := range scenarios {
			t.Run(k.name+"/"+sc.name, func(t *testing.T) {
				r := newRig(t, k)
				sc.run(t, r, r.start())
			})
		}
	}
}

// TestRelayFiles covers fds that are not pipes or sockets: regular files on
// either side, an O_APPEND file (splice refuses it, so read/write fallback),
// and a blocking terminal.
func TestRelayFiles(t *testing.T) {
	const n = 3<<20 + 7
	dir := t.TempDir()

	t.Run("regular file out", func(t *testing.T) { relayToFile(t, filepath.Join(dir, "plain"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, n) })
	t.Run("append-only file out (fallback)", func(t *testing.T) {
		relayToFile(t, filepath.Join(dir, "append"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, n)
	})

	t.Run("regular file in", func(t *testing.T) {
		path := filepath.Join(dir, "input")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		sent := send(f, 12, n)
		f.Close()
		in, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		outR, out := pipePair(t, true, true)
		defer outR.Close()
		conn, peer := socketPair(t, false)
		defer conn.Close()
		defer peer.Close()
		errc := make(chan error, 1)
		go func() { errc <- Relay(context.Background(), in, out, conn) }()
		expectSame(t, "file->conn", sent, recv(peer))
		shutWrite(t, peer)
		if got := recv(outR); got.n != 0 || got.err != nil {
			t.Errorf("out: %d bytes, %v", got.n, got.err)
		}
		if err := waitErr(t, errc, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("blocking terminal out", func(t *testing.T) {
		master, slave, keep := openPTY(t)
		defer master.Close()
		defer keep.Close()
		in, inW := pipePair(t, false, true)
		defer in.Close()
		defer inW.Close()
		conn, peer := socketPair(t, false)
		defer conn.Close()
		defer peer.Close()
		const tn = 512<<10 + 3
		got := goResult(func() streamResult { return recv(io.LimitReader(master, tn)) })
		errc := make(chan error, 1)
		go func() { errc <- Relay(context.Background(), in, slave, conn) }()
		sent := send(peer, 13, tn)
		shutWrite(t, peer)
		expectSame(t, "conn->tty", sent, <-got)
		inW.Close()
		if err := waitErr(t, errc, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}

func relayToFile(t *testing.T, path string, flag int, n int64) {
	out, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	in, inW := pipePair(t, false, true)
	defer in.Close()
	defer inW.Close()
	conn, peer := socketPair(t, false)
	defer conn.Close()
	defer peer.Close()
	errc := make(chan error, 1)
	go func() { errc <- Relay(context.Background(), in, out, conn) }()
	sent := send(peer, 14, n)
	shutWrite(t, peer)
	inW.Close()
	if err := waitErr(t, errc, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expectSame(t, "conn->file", sent, recv(f))
}

// openPTY returns a raw-mode pty: the master (non-blocking, for the test),
// a blocking slave for Relay, and a second slave fd that the test keeps so
// that Relay closing its slave does not hang up the master.
func openPTY(t *testing.T) (master, slave, keep *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pty: %v", err)
	}
	sc, _ := master.SyscallConn()
	var num int
	var perr error
	_ = sc.Control(func(fd uintptr) {
		if perr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); perr == nil {
			num, perr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	})
	if perr != nil {
		master.Close()
		t.Fatalf("pty setup: %v", perr)
	}
	name := fmt.Sprintf("/dev/pts/%d", num)
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open %s: %v", name, err)
	}
	tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	if err := unix.IoctlSetTermios(sfd, unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	kfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, os.NewFile(uintptr(sfd), name), os.NewFile(uintptr(kfd), name+"-keep")
}

// TestRelayNoLeaks runs relays to completion and to failure and checks that
// no fds or goroutines are left behind and no fd flags changed.
func TestRelayNoLeaks(t *testing.T) {
	// Make sure the runtime's own netpoller fds exist before counting.
	warmR, warmW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	warmR.Close()
	warmW.Close()
	runtime.GC()
	fds0, g0 := fdCount(t), runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		for _, k := range rigKinds {
			func() {
				r := newRig(t, k)
				errc := r.start()
				outGot := goResult(func() streamResult { return recv(r.outR) })
				peerGot := goResult(func() streamResult { return recv(r.peer) })
				send(r.inW, 15, 1<<20)
				r.inW.Close()
				send(r.peer, 16, 1<<20)
				shutWrite(t, r.peer)
				<-outGot
				<-peerGot
				if err := waitErr(t, errc, 5*time.Second); err != nil {
					t.Fatal(err)
				}
				r.close()
			}()
			func() { // failure path: out's reader goes away
				r := newRig(t, k)
				errc := r.start()
				r.outR.Close()
				if err := waitErr(t, errc, 5*time.Second); err == nil {
					t.Fatal("Relay succeeded with out's reader gone")
				}
				r.close()
			}()
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > g0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > g0 {
		t.Errorf("goroutines: %d before, %d after", g0, g)
	}
	if fds := fdCount(t); fds != fds0 {
		t.Errorf("open fds: %d before, %d after", fds0, fds)
	}
}

// TestRelayStdoutEPIPE runs Relay in a child whose real fd 1 is a pipe with
// no reader. Go kills a process on EPIPE at fd 1 when the write goes through
// os.File; Relay must instead return the error without any signal setup.
func TestRelayStdoutEPIPE(t *testing.T) {
	if os.Getenv("PIPE_TEST_EPIPE_CHILD") == "1" {
		conn := os.NewFile(3, "conn")
		err := Relay(context.Background(), os.Stdin, os.Stdout, conn)
		fmt.Fprintf(os.Stderr, "relay error: %v\n", err)
		os.Exit(3)
	}
	inR, inW := pipePair(t, false, false)
	defer inW.Close()
	outR, outW := pipePair(t, false, false)
	outR.Close() // nobody will ever read the child's stdout
	conn, peer := socketPair(t, false)
	defer peer.Close()
	// Data is already waiting, so the child's first action is a write to fd 1.
	if _, err := peer.Write(bytes.Repeat([]byte("y"), 100<<10)); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestRelayStdoutEPIPE$")
	cmd.Env = append(os.Environ(), "PIPE_TEST_EPIPE_CHILD=1")
	cmd.Stdin, cmd.Stdout = inR, outW
	cmd.ExtraFiles = []*os.File{conn}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	inR.Close()
	outW.Close()
	conn.Close()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 {
		t.Fatalf("child: %v (state %v), stderr %q; want exit 3 after a returned error", err, cmd.ProcessState, stderr.String())
	}
	if !strings.Contains(stderr.String(), "conn->out") || !strings.Contains(stderr.String(), "broken pipe") {
		t.Fatalf("child stderr %q, want a conn->out broken pipe error", stderr.String())
	}
}

// TestRelayIdleNoSpin puts relays into every waiting state that involves a
// hung-up fd (poll reports POLLHUP even when no events are requested) and
// checks that the process burns no CPU while they wait.
func TestRelayIdleNoSpin(t *testing.T) {
	states := []struct {
		name string
		// setup brings the relay into the state; Relay must still be running.
		setup func(t *testing.T, r *rig)
	}{
		{"all idle", func(t *testing.T, r *rig) {}},
		{"peer gone and out closed, in silent", func(t *testing.T, r *rig) {
			r.peer.Close()
			if got := recv(r.outR); got.n != 0 || got.err != nil {
				t.Fatalf("out: %d bytes, %v", got.n, got.err)
			}
		}},
		{"peer gone, out not reading", func(t *testing.T, r *rig) {
			fillUntilStuck(t, r.peer)
			r.peer.Close()
		}},
		{"in at EOF with data the peer does not read", func(t *testing.T, r *rig) {
			fillUntilStuck(t, r.inW)
			r.inW.Close()
		}},
	}
	var errcs []<-chan error
	var rigs []*rig
	for _, k := range rigKinds {
		for _, st := range states {
			r := newRig(t, k)
			rigs = append(rigs, r)
			errc := r.start()
			done := make(chan struct{})
			go func() { st.setup(t, r); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s/%s: setup stuck", k.name, st.name)
			}
			errcs = append(errcs, errc)
		}
	}
	time.Sleep(50 * time.Millisecond) // let every relay reach poll
	cpu := func() time.Duration {
		var ru unix.Rusage
		if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	const window = 300 * time.Millisecond
	c0 := cpu()
	time.Sleep(window)
	if used := cpu() - c0; used > window/10 {
		t.Errorf("%d waiting relays used %v CPU in %v", len(errcs), used, window)
	}
	for i, errc := range errcs {
		select {
		case err := <-errc:
			t.Errorf("relay %d returned while it should wait: %v", i, err)
		default:
		}
	}
	// End every relay through the test's own ends before the cleanup closes
	// the relays' fds: a relay left running would go on using fd numbers
	// the next test gets, and steal its data.
	for i, r := range rigs {
		r.inW.Close()
		r.peer.Close()
		r.outR.Close()
		select {
		case <-errcs[i]:
		case <-time.After(5 * time.Second):
			t.Fatalf("relay %d did not end after all its peers left", i)
		}
	}
}

// TestRelaySharedStdioSocket runs Relay inetd style: in and out are two fds
// on one blocking socket. conn->out finishing first must not put in back
// into blocking mode while in->conn still runs, and the flags must be the
// original ones afterwards.
func TestRelaySharedStdioSocket(t *testing.T) {
	// TCP, because its splice obeys only the socket's own O_NONBLOCK.
	in, far := tcpPair(t)
	defer far.Close()
	defer in.Close()
	setBlocking(t, in)
	out := dupFile(t, in)
	conn, peer := socketPair(t, false)
	defer conn.Close()
	defer peer.Close()
	flags := fileFlags(t, in)

	errc := make(chan error, 1)
	go func() { errc <- Relay(context.Background(), in, out, conn) }()

	// The VM finishes first: far sees that data and EOF (out shut down).
	downSent := send(peer, 19, 200<<10)
	shutWrite(t, peer)
	expectSame(t, "conn->out", downSent, recv(far))
	time.Sleep(10 * time.Millisecond)
	if fileFlags(t, in)&unix.O_NONBLOCK == 0 {
		t.Error("in is blocking again while in->conn still runs")
	}

	// in->conn keeps working.
	peerGot := goResult(func() streamResult { return recv(peer) })
	upSent := send(far, 20, 1<<20)
	shutWrite(t, far)
	expectSame(t, "in->conn", upSent, <-peerGot)
	if err := waitErr(t, errc, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fileFlags(t, in); got != flags {
		t.Errorf("in flags %#x after Relay, want %#x", got, flags)
	}
}

func setBlocking(t *testing.T, f *os.File) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	_ = sc.Control(func(fd uintptr) { serr = unix.SetNonblock(int(fd), false) })
	if serr != nil {
		t.Fatal(serr)
	}
}

// TestRelayPipeQuota checks which relays hold pipes of their own. Each one
// the relay makes is grown to 1 MiB and charged to the user's pipe quota
// (fs.pipe-user-pages-soft, 64 MiB by default); past it, every new pipe the
// user makes shrinks to 8 KiB. With ssh's stdin and stdout being pipes, the
// normal case, the relay must splice straight through them and make none.
func TestRelayPipeQuota(t *testing.T) {
	cases := []struct {
		kind  rigKind
		pipes int // the relay's own pipes (2 fds each)
	}{
		{rigKinds[0], 0}, // pipes-unix
		{rigKinds[1], 0}, // blockingpipes-blockingunix
		{rigKinds[3], 0}, // pipes-tcp
		{rigKinds[2], 2}, // sockets-unix: splice needs a pipe in between
	}
	for _, c := range cases {
		t.Run(c.kind.name, func(t *testing.T) {
			before := pipeFDs(t)
			r := newRig(t, c.kind)
			rigPipes := pipeFDs(t) - before
			errc := r.start()
			// one round trip, so Relay is past its setup
			peerGot := goResult(func() streamResult { return recv(r.peer) })
			go send(r.inW, 19, 1000)
			buf := make([]byte, 1000)
			if _, err := io.ReadFull(r.peer, buf); err != nil {
				t.Fatal(err)
			}
			if got := (pipeFDs(t) - before - rigPipes) / 2; got != c.pipes {
				t.Errorf("relay holds %d pipes of its own, want %d", got, c.pipes)
			}
			r.inW.Close()
			shutWrite(t, r.peer)
			recv(r.outR)
			<-peerGot
			if err := waitErr(t, errc, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// pipeFDs counts this process's open fds that are pipes.
func pipeFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "pipe:") {
			n++
		}
	}
	return n
}

// TestRelayStop stops relays through their context, idle and in the
// middle of a transfer, and checks that Relay returns the cause only
// after every descriptor it made non-blocking is blocking again: a signal
// handler that exits after the return leaves shared sockets as it found them.
func TestRelayStop(t *testing.T) {
	errTerm := errors.New("SIGTERM")
	states := []struct {
		name  string
		setup func(t *testing.T, r *rig)
	}{
		{"idle", func(t *testing.T, r *rig) {}},
		{"streaming down", func(t *testing.T, r *rig) {
			go send(r.peer, 21, 64<<20) // ends when the peer is closed
			if _, err := io.ReadFull(r.outR, make([]byte, 256<<10)); err != nil {
				t.Fatal(err)
			}
		}},
		{"in at EOF, conn->out running", func(t *testing.T, r *rig) {
			r.inW.Close()
			if got := recv(r.peer); got.err != nil {
				t.Fatal(got.err)
			}
		}},
	}
	for _, k := range rigKinds {
		for _, st := range states {
			t.Run(k.name+"/"+st.name, func(t *testing.T) {
				r := newRig(t, k)
				files := []*os.File{r.in, r.out, r.conn}
				var flags []int
				for _, f := range files {
					flags = append(flags, fileFlags(t, f))
				}
				ctx, cancel := context.WithCancelCause(context.Background())
				defer cancel(nil)
				errc := make(chan error, 1)
				go func() { errc <- Relay(ctx, r.in, r.out, r.conn) }()
				st.setup(t, r)
				cancel(errTerm)
				err := waitErr(t, errc, 5*time.Second)
				if !errors.Is(err, errTerm) || !errors.Is(err, ErrStopped) {
					t.Fatalf("Relay = %v, want ErrStopped and the cause", err)
				}
				for i, f := range files {
					if got := fileFlags(t, f); got != flags[i] {
						t.Errorf("%s flags %#x after the stop, want %#x", [...]string{"in", "out", "conn"}[i], got, flags[i])
					}
				}
				r.peer.Close()
			})
		}
	}
}

//go:build linux

package pipe

// The relay engine, and why each part is here (issue 14 asked for every
// part to earn its place; a goroutine per direction with blocking read and
// write would be a third of this, and cannot be stopped, see Relay):
//
//   - Relay: checks and restores fd flags, grows ssh's pipes, and runs
//     the loop: each half steps until it would block, then one poll(2) for
//     both. One thread, so a failure in either direction ends the relay at
//     once, and a stop (SIGTERM) returns through the restores.
//   - relay.wait: builds the poll set from what each half waits on, and
//     turns hang-ups and errors on ends only watched into errors (an out
//     whose reader left, a conn reset while in is silent). quiet keeps a
//     hung-up end that poll would report forever from making a spin; there
//     is no sleep or back-off anywhere (TestRelayIdleNoSpin proves the
//     waiting states).
//   - fdInfo: what each fd is (pipe, socket, file, tty) decides the mode of
//     its half and whether a syscall on it may block (mayBlock).
//   - half: one direction in one of three modes, measured in
//     BenchmarkRelay: direct splice between ssh's pipe and conn (the usual
//     case; no copy, no pipe of ours), splice through a pipe of its own
//     (no end is a pipe: inetd-style sockets), read/write (into TCP, where
//     splice costs more than it saves, and fds that refuse splice, which
//     toCopyMode switches to mid-stream without losing what sits in the
//     pipe). srcWait/dstWait say which end must poll ready first; blocked
//     asks the kernel which end of a direct splice said EAGAIN, since the
//     error alone does not tell.
//   - stepRounds: fairness between the directions, not timing.
//   - yieldEvery: keeps the Go runtime from taking the relay's thread
//     apart while it sleeps in poll thousands of times a second.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

const (
	// pipeSize is what we ask of every pipe the relay moves data through:
	// ssh's stdin and stdout, and the intermediate pipe of a half that has
	// no pipe end. The default 64 KiB pipe makes the relay and its peer
	// take turns every 64 KiB, one wake-up each; at 256 KiB stdin -> conn
	// went from slower than an io.Copy pair to faster (README, issue 14).
	// Growing costs the user's pipe quota (fs.pipe-user-pages-soft, 64 MiB
	// by default), so not more: 128 relays fit. Past the quota the kernel
	// refuses to grow (EPERM) and the relay works at the old size.
	pipeSize = 256 << 10

	// copyBufSize is the buffer of a direction that uses read/write, and
	// so the most it writes at once. io.Copy's size: into loopback TCP,
	// 256 KiB writes cost half again as much CPU per byte as 32 KiB ones.
	copyBufSize = 32 << 10

	// pipeBuf is PIPE_BUF: a pipe that polls writable takes a write this
	// small without blocking, which is all we can promise for a blocking
	// FIFO or terminal we are not allowed to make non-blocking.
	pipeBuf = 4096

	// SPLICE_F_NONBLOCK only makes the pipe ends non-blocking; the other
	// end is protected separately (see mayBlock).
	spliceFlags = unix.SPLICE_F_NONBLOCK | unix.SPLICE_F_MOVE

	// stepRounds bounds the work one direction does before the other gets
	// a turn, so a fast stream cannot starve the opposite one.
	stepRounds = 16

	// yieldEvery is how many polls the relay makes between passes through
	// the Go scheduler (runtime.Gosched). The runtime preempts a goroutine
	// that has not been through its scheduler for 10 ms, and when it finds
	// it asleep in a syscall, as the relay mostly is, it takes away its P
	// and wakes a thread to run it, and its monitor thread then looks every
	// 20 µs for a while: through ssh (512 MiB down, perf stat of the
	// helper) that was 9,000 futex and 5,000 nanosleep calls beside 12,700
	// polls, and a third of the relay's CPU time. At the rates where that
	// matters (a poll per ssh packet, over 6,400 a second) 64 polls take
	// less than the 10 ms; a yield wakes an idle thread itself, so not at
	// every poll (at every poll: 8,000 futex calls per 6,000 polls).
	yieldEvery = 64
)

// Relay copies in -> conn and conn -> out until both directions have
// ended. EOF on in shuts down the write side of conn (shutdown(SHUT_WR)) and
// keeps reading; EOF from conn closes out. It returns nil only if both
// directions ended cleanly; an error in either direction (reset, EPIPE on
// out, ...) ends the relay at once and is returned, wrapped with which
// direction failed ("in->conn" or "conn->out"); errors.Is sees the
// underlying errno.
//
// When ctx is done the relay stops where it is and returns an error that
// wraps context.Cause(ctx) (ErrStopped as well). This is how a signal
// handler ends a relay: it cancels, and the process exits only after
// Relay returned, because by then every descriptor has its original
// flags back (an os.Exit from the handler would leave a shared socket
// non-blocking for whoever else holds it).
//
// Relay is one goroutine around poll(2) on raw descriptors. Nothing ever
// sits in a blocking read, so a failure in one direction is noticed and
// returned at once instead of waiting for stdin; a read(2) blocked on a
// blocking stdin, as a goroutine-per-direction relay would have, cannot be
// interrupted, and its goroutine would outlive the call and go on using an
// fd number the caller may have closed and reused. Data never enters user
// space: a direction between a pipe (ssh's stdin or stdout, the usual case)
// and conn splices directly, any other through an intermediate pipe of its
// own; a direction whose fd rejects splice (EINVAL, e.g. an O_APPEND file)
// falls back to read/write.
//
// Blocking mode: descriptors are taken with SyscallConn rather than Fd,
// because Fd would permanently switch Go-managed non-blocking files to
// blocking mode. Any mode works: sockets that are blocking are made
// non-blocking for the duration of the call and restored before it returns
// (splice to a blocking socket could otherwise block the whole loop); pipes
// are left alone because SPLICE_F_NONBLOCK covers them, and terminals are
// left alone because their open file description is shared with the shell.
// A blocking fd that cannot be protected is only touched after poll reported
// it ready, and then with at most PIPE_BUF bytes.
//
// SIGPIPE: nothing to do for the caller. Relay writes with raw syscalls, so
// a reader that went away shows up as EPIPE. The process-killing SIGPIPE Go
// documents for fds 1 and 2 is raised by the os package's Write, which Relay
// never calls, and the kernel's SIGPIPE is dropped by the runtime handler
// unless someone called signal.Notify for it (which is harmless too).
// Calling signal.Ignore(syscall.SIGPIPE) in main does no harm either.
//
// Ownership: on a clean EOF from conn, out is closed with out.Close (and
// shut down first if it is a socket, in case another fd shares it), because
// that is how ssh learns the session is over. in and conn are never closed.
// The files must stay open and must not be used by anyone else while Relay
// runs; in and out must be different files.
func Relay(ctx context.Context, in, out, conn *os.File) error {
	if in == nil || out == nil || conn == nil {
		return errors.New("pipe: relay: nil file")
	}
	if in == out {
		return errors.New("pipe: relay: in and out must be different files")
	}
	defer runtime.KeepAlive(in)
	defer runtime.KeepAlive(out)
	defer runtime.KeepAlive(conn)

	var infos [3]*fdInfo
	for i, f := range []*os.File{in, conn, out} {
		fd, err := rawFD(f)
		if err == nil {
			infos[i], err = inspect(fd)
		}
		if err != nil {
			return fmt.Errorf("pipe: relay: %s: %w", [...]string{"in", "conn", "out"}[i], err)
		}
	}
	inI, connI, outI := infos[0], infos[1], infos[2]
	if connI.mode != unix.S_IFSOCK {
		return errors.New("pipe: relay: conn is not a socket")
	}
	// All original flags are read above before any is changed, so two fds
	// sharing one open file description still get their true original back.
	defer func() {
		for i := len(infos) - 1; i >= 0; i-- {
			infos[i].restore()
		}
	}()
	for _, info := range infos {
		if info.mode == unix.S_IFSOCK && !info.nonblock {
			if err := info.setNonblock(); err != nil {
				return fmt.Errorf("pipe: relay: set O_NONBLOCK: %w", err)
			}
		}
		if info.mode == unix.S_IFIFO {
			// Errors (EPERM past the quota, EBUSY) leave the size as it was.
			_, _ = unix.FcntlInt(uintptr(info.fd), unix.F_SETPIPE_SZ, pipeSize)
		}
	}

	r := &relay{in: inI, conn: connI, out: outI, stop: -1}
	r.up = newHalf(inI, connI)
	defer r.up.close()
	r.up.finish = r.shutdownConn
	r.down = newHalf(connI, outI)
	defer r.down.close()
	r.down.finish = func() error { return r.closeOut(out) }
	if ctx.Done() != nil {
		stopped, err := r.watch(ctx)
		if err != nil {
			return err
		}
		defer stopped()
	}
	for !r.up.done || !r.down.done {
		if ctx.Err() != nil {
			return fmt.Errorf("pipe: relay: %w: %w", ErrStopped, context.Cause(ctx))
		}
		progUp, err := r.up.step()
		if err != nil {
			return fmt.Errorf("pipe: relay in->conn: %w", err)
		}
		progDown, err := r.down.step()
		if err != nil {
			return fmt.Errorf("pipe: relay conn->out: %w", err)
		}
		if !progUp && !progDown && (!r.up.done || !r.down.done) {
			if err := r.wait(); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrStopped is wrapped in the error of a relay stopped through its context.
var ErrStopped = errors.New("stopped")

// relay is the state of one Relay call that the poll loop needs.
type relay struct {
	in, conn, out *fdInfo
	up, down      *half
	stop          int // eventfd that ctx's end makes readable, or -1
	pfds          [4]unix.PollFd
	polls         int // since the relay started: every yieldEvery-th yields first
	// quiet marks an fd we only watch for errors that already reported a
	// hangup: poll would report it again immediately every time, so we stop
	// watching it until we want to do I/O on it again.
	quiet [3]bool
}

// shutdownConn ends in->conn: the peer reads EOF and can still answer.
func (r *relay) shutdownConn() error {
	err := ignoreEINTR(func() error { return unix.Shutdown(r.conn.fd, unix.SHUT_WR) })
	// ENOTCONN: the peer is already completely gone (e.g. AF_VSOCK or TCP
	// after the peer closed); there is nobody left to tell about EOF.
	if err != nil && err != unix.ENOTCONN {
		return os.NewSyscallError("shutdown", err)
	}
	return nil
}

// closeOut ends conn->out: closing out is how ssh learns the session is over.
func (r *relay) closeOut(out *os.File) error {
	if r.out.mode == unix.S_IFSOCK {
		_ = unix.Shutdown(r.out.fd, unix.SHUT_WR)
	}
	// A socket has one open file description, so if in is the same
	// socket (inetd style), restoring here would make in blocking while
	// in->conn still runs; in's own restore at the end covers both.
	if r.out.mode == unix.S_IFSOCK && r.out.dev == r.in.dev && r.out.ino == r.in.ino {
		r.out.changed = false
	}
	r.out.restore()
	r.out.closed = true
	return out.Close()
}

// watch makes ctx's end wake the poll loop: poll cannot wait for a channel,
// so it waits for an eventfd that ctx's end writes. The returned func must
// run before the relay returns.
func (r *relay) watch(ctx context.Context) (stopped func(), err error) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pipe: relay: %w", os.NewSyscallError("eventfd", err))
	}
	r.stop = efd
	woken := make(chan struct{})
	stopWake := context.AfterFunc(ctx, func() {
		_, _ = unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		close(woken)
	})
	return func() {
		// A wake-up that already started must end before efd is closed.
		if !stopWake() {
			<-woken
		}
		_ = unix.Close(efd)
	}, nil
}

const slotIn, slotConn, slotOut, slotStop = 0, 1, 2, 3

// wait sleeps in poll until one of the ends the halves wait on is ready, and
// turns errors on ends only watched into the relay's error.
// The poll set is built, polled and read back in this one function, a
// little over the usual length, so that what each slot means cannot drift
// between the three.
func (r *relay) wait() error {
	up, down := r.up, r.down
	var ev [3]int16
	if up.wantSrc() {
		ev[slotIn] |= unix.POLLIN
	}
	if up.wantDst() {
		ev[slotConn] |= unix.POLLOUT
	}
	if down.wantSrc() {
		ev[slotConn] |= unix.POLLIN
	}
	if down.wantDst() {
		ev[slotOut] |= unix.POLLOUT
	}
	// conn and out are also watched while idle: a reset conn or an out
	// whose reader left must end the relay even if in is silent.
	watch := [3]bool{false, true, !r.out.closed}
	fds := [3]int{r.in.fd, r.conn.fd, r.out.fd}
	pfds := r.pfds[:]
	for i := range ev {
		if ev[i] != 0 {
			r.quiet[i] = false
		}
		fd := -1
		if ev[i] != 0 || (watch[i] && !r.quiet[i]) {
			fd = fds[i]
		}
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: ev[i]}
	}
	pfds[slotStop] = unix.PollFd{Fd: int32(r.stop), Events: unix.POLLIN}
	if r.polls++; r.polls%yieldEvery == 0 {
		runtime.Gosched()
	}
	if _, err := unix.Poll(pfds, -1); err != nil {
		if err == unix.EINTR {
			return nil
		}
		return fmt.Errorf("pipe: relay: %w", os.NewSyscallError("poll", err))
	}

	for i := range ev {
		if pfds[i].Fd >= 0 && pfds[i].Revents&unix.POLLNVAL != 0 {
			dir := "in->conn"
			if i == slotOut || (i == slotConn && !down.done) {
				dir = "conn->out"
			}
			return fmt.Errorf("pipe: relay %s: %w", dir, os.NewSyscallError("poll", unix.EBADF))
		}
	}
	const anyIn = unix.POLLIN | unix.POLLHUP | unix.POLLERR
	const anyOut = unix.POLLOUT | unix.POLLHUP | unix.POLLERR
	if ev[slotIn]&unix.POLLIN != 0 && pfds[slotIn].Revents&anyIn != 0 {
		up.srcWait = false
	}
	if ev[slotConn]&unix.POLLOUT != 0 && pfds[slotConn].Revents&anyOut != 0 {
		up.dstWait = false
	}
	if ev[slotConn]&unix.POLLIN != 0 && pfds[slotConn].Revents&anyIn != 0 {
		down.srcWait = false
	}
	if ev[slotOut]&unix.POLLOUT != 0 && pfds[slotOut].Revents&anyOut != 0 {
		down.dstWait = false
	}

	// Errors on fds we were only watching. An out with POLLERR or POLLHUP
	// has lost its reader (pipe, socket peer gone, terminal hung up) or
	// has a pending error: nothing more can be delivered, so fail now.
	// A conn error while conn->out is still running is left for the next
	// read, so data the peer sent before the error still reaches out
	// first; once conn->out is over, only in->conn could report it, and
	// in may stay silent, so fail now as well.
	if ev[slotOut] == 0 && pfds[slotOut].Fd >= 0 && pfds[slotOut].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
		return fmt.Errorf("pipe: relay conn->out: %w", os.NewSyscallError("poll", pendingError(r.out.fd)))
	}
	if ev[slotConn] == 0 && pfds[slotConn].Fd >= 0 && pfds[slotConn].Revents&unix.POLLERR != 0 && down.done {
		return fmt.Errorf("pipe: relay in->conn: %w", os.NewSyscallError("poll", pendingError(r.conn.fd)))
	}
	for i := range ev {
		if ev[i] == 0 && pfds[i].Fd >= 0 && pfds[i].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			r.quiet[i] = true
		}
	}
	return nil
}

// pendingError explains a POLLERR: the socket's pending error if there is
// one, otherwise EPIPE, which is what POLLERR means on a pipe's write end.
func pendingError(fd int) error {
	if e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && e != 0 {
		return unix.Errno(e)
	}
	return unix.EPIPE
}

// fdInfo is what the relay needs to know about one descriptor.
type fdInfo struct {
	fd        int
	mode      uint32 // st_mode & S_IFMT
	dev, ino  uint64
	nonblock  bool // O_NONBLOCK is (now) set
	inet      bool // an AF_INET or AF_INET6 socket
	origFlags int
	changed   bool // we set O_NONBLOCK and owe a restore
	closed    bool // closed by the relay; fd may already be reused
}

func inspect(fd int) (*fdInfo, error) {
	var st unix.Stat_t
	if err := ignoreEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return nil, os.NewSyscallError("fstat", err)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	inet := false
	if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
		inet = err == nil && (d == unix.AF_INET || d == unix.AF_INET6)
	}
	return &fdInfo{
		fd:        fd,
		inet:      inet,
		mode:      st.Mode & unix.S_IFMT,
		dev:       st.Dev,
		ino:       st.Ino,
		nonblock:  fl&unix.O_NONBLOCK != 0,
		origFlags: fl,
	}, nil
}

func (i *fdInfo) setNonblock() error {
	if _, err := unix.FcntlInt(uintptr(i.fd), unix.F_SETFL, i.origFlags|unix.O_NONBLOCK); err != nil {
		return err
	}
	i.nonblock, i.changed = true, true
	return nil
}

// restore undoes setNonblock. Errors are ignored: the fd is still usable,
// and there is nobody to report them to on the way out.
func (i *fdInfo) restore() {
	if i.changed && !i.closed {
		_, _ = unix.FcntlInt(uintptr(i.fd), unix.F_SETFL, i.origFlags)
		i.changed = false
	}
}

// mayBlock reports whether an I/O syscall on the fd could block even though
// we never want it to: only blocking fds whose blocking we could not remove.
// Regular files and block devices never wait for a peer, and a blocking pipe
// is safe under splice thanks to SPLICE_F_NONBLOCK (but not under read/write).
func (i *fdInfo) mayBlock(splicing bool) bool {
	switch {
	case i.nonblock, i.mode == unix.S_IFREG, i.mode == unix.S_IFBLK:
		return false
	case splicing && i.mode == unix.S_IFIFO:
		return false
	}
	return true
}

// half is one direction of the relay, in one of three modes. direct: one
// end is a pipe (ssh's stdin or stdout), so splice(2) moves data straight
// between it and conn and nothing ever waits in the relay. Otherwise data
// waits either in an intermediate pipe (splice mode, pr >= 0) or in
// buf[off:off+pending] (copy mode).
type half struct {
	src, dst *fdInfo
	direct   bool
	pr, pw   int
	fillLen  int
	buf      []byte
	off      int
	pending  int
	eof      bool
	done     bool
	// srcWait/dstWait mean "do not touch this fd until poll reports it
	// ready": set after EAGAIN, so an idle fd costs no syscall per loop, and
	// after every call on an fd that may block, so it is only used when a
	// fresh readiness report says the call will return at once. They are
	// also exactly what the poll loop asks for (wantSrc, wantDst).
	srcWait, dstWait bool
	finish           func() error
}

func newHalf(src, dst *fdInfo) *half {
	h := &half{src: src, dst: dst, pr: -1, pw: -1}
	switch {
	case dst.inet:
		// Into TCP (the IP fallback), splice is the slower way: it hands
		// the pipe's pages to the socket instead of copying, and on
		// loopback that took twice the CPU per byte of read/write
		// (BenchmarkRelay tcp/up).
		h.buf = make([]byte, copyBufSize)
	case (src.mode == unix.S_IFIFO && dst.mode == unix.S_IFSOCK && dst.nonblock) ||
		(src.mode == unix.S_IFSOCK && src.nonblock && dst.mode == unix.S_IFIFO):
		// The socket end is non-blocking (Relay saw to that) and
		// SPLICE_F_NONBLOCK covers the pipe end, so a direct splice never
		// blocks. Besides saving a splice per chunk, this spares the user's
		// pipe quota (fs.pipe-user-pages-soft) the intermediate pipe.
		h.direct = true
		return h
	default:
		p := make([]int, 2)
		if err := unix.Pipe2(p, unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
			// Out of fds or similar: read/write still works, just with copies.
			h.buf = make([]byte, copyBufSize)
			break
		}
		h.pr, h.pw = p[0], p[1]
		// EPERM past the user's pipe quota is fine: the default size works.
		_, _ = unix.FcntlInt(uintptr(h.pw), unix.F_SETPIPE_SZ, pipeSize)
		h.fillLen = 64 << 10
		if sz, err := unix.FcntlInt(uintptr(h.pw), unix.F_GETPIPE_SZ, 0); err == nil && sz > 0 {
			h.fillLen = sz
		}
	}
	h.srcWait = src.mayBlock(h.pr >= 0)
	h.dstWait = dst.mayBlock(h.pr >= 0)
	return h
}

func (h *half) close() {
	if h.pr >= 0 {
		_ = unix.Close(h.pr)
		_ = unix.Close(h.pw)
		h.pr, h.pw = -1, -1
	}
}

// wantSrc and wantDst tell the poll loop what an unfinished direction is
// waiting for: only ends it waits on, since asking for a ready one would
// make poll return at once, a spin while the other end is not ready. The
// intermediate pipe is only refilled once empty, so an EAGAIN from filling
// always means "src has nothing" and never "our pipe is full", which poll
// could not express. A direct half holds nothing, so it may wait on dst
// with nothing pending.
func (h *half) wantSrc() bool { return !h.done && h.srcWait && h.pending == 0 && !h.eof }
func (h *half) wantDst() bool { return !h.done && h.dstWait && (h.pending > 0 || h.direct) }

// step moves as much data as possible without blocking. It reports whether
// anything happened; EAGAIN is not an error but a reason to poll.
func (h *half) step() (progress bool, err error) {
	for i := 0; i < stepRounds && !h.done; i++ {
		if h.pending > 0 {
			if err := h.flush(); err != nil {
				if err == unix.EAGAIN {
					return progress, nil
				}
				return progress, err
			}
			progress = true
			continue
		}
		if h.eof {
			h.done = true
			return true, h.finish()
		}
		n, err := h.fill()
		if err != nil {
			if err == unix.EAGAIN {
				return progress, nil
			}
			return progress, err
		}
		progress = true
		if n == 0 {
			h.eof = true
		}
	}
	return progress, nil
}

// fill reads the next chunk from src (a direct half: moves it to dst). Only
// called with nothing pending.
func (h *half) fill() (int, error) {
	if h.srcWait {
		return 0, unix.EAGAIN
	}
	if h.direct {
		if h.dstWait {
			return 0, unix.EAGAIN
		}
		n, err := splice(h.src.fd, h.dst.fd, pipeSize)
		switch {
		case err == unix.EAGAIN:
			h.srcWait, h.dstWait = h.blocked()
		case err == nil && n < pipeSize:
			// Short: src is most likely empty now (else dst is full).
			// Poll for src instead of a splice that would only say
			// EAGAIN and an ioctl to tell which end said it (through
			// ssh, 512 MiB down: 18,000 splices and ioctls instead of
			// 44,000). If dst was full after all, poll returns at once
			// and the next splice finds out.
			h.srcWait = true
		}
		if err == nil || !spliceUnsupported(err) {
			return n, spliceErr(err)
		}
		if err := h.toCopyMode(); err != nil {
			return 0, err
		}
	}
	if h.pr >= 0 {
		n, err := splice(h.src.fd, h.pw, h.fillLen)
		h.srcWait = err == unix.EAGAIN || h.src.mayBlock(true)
		if err == nil {
			h.pending = n
			return n, nil
		}
		if !spliceUnsupported(err) {
			return 0, spliceErr(err)
		}
		if err := h.toCopyMode(); err != nil {
			return 0, err
		}
		if h.srcWait {
			return 0, unix.EAGAIN
		}
	}
	n, err := ignoreEINTRn(func() (int, error) { return unix.Read(h.src.fd, h.buf) })
	h.srcWait = err == unix.EAGAIN || h.src.mayBlock(false)
	if err != nil {
		if err == unix.EAGAIN {
			return 0, err
		}
		return 0, os.NewSyscallError("read", err)
	}
	h.off, h.pending = 0, n
	return n, nil
}

// flush writes pending data to dst; partial writes are fine.
func (h *half) flush() error {
	if h.dstWait {
		return unix.EAGAIN
	}
	if h.pr >= 0 {
		want := h.chunk(h.dst.mayBlock(true))
		n, err := splice(h.pr, h.dst.fd, want)
		// A short splice means dst is full; waiting for POLLOUT is cheaper
		// than a splice that would only say EAGAIN.
		h.dstWait = err == unix.EAGAIN || (err == nil && n < want) || h.dst.mayBlock(true)
		if err == nil {
			if n == 0 {
				return io.ErrNoProgress
			}
			h.pending -= n
			return nil
		}
		if !spliceUnsupported(err) {
			return spliceErr(err)
		}
		// dst takes no splice (O_APPEND file, some devices): move what is
		// already in the pipe to the buffer and continue with write(2).
		if err := h.toCopyMode(); err != nil {
			return err
		}
		if h.dstWait {
			return unix.EAGAIN
		}
	}
	blocking := h.dst.mayBlock(false)
	want := h.chunk(blocking)
	n, err := ignoreEINTRn(func() (int, error) { return unix.Write(h.dst.fd, h.buf[h.off:h.off+want]) })
	h.dstWait = err == unix.EAGAIN || (err == nil && n < want) || blocking
	if err != nil {
		if err == unix.EAGAIN {
			return err
		}
		return os.NewSyscallError("write", err)
	}
	if n == 0 {
		return io.ErrShortWrite
	}
	h.off += n
	h.pending -= n
	return nil
}

// chunk is how much to hand dst in one syscall: everything, unless dst may
// block, where only PIPE_BUF is sure to be taken without blocking after poll.
func (h *half) chunk(dstMayBlock bool) int {
	if dstMayBlock && h.pending > pipeBuf {
		return pipeBuf
	}
	return h.pending
}

// blocked tells which end made a direct splice say EAGAIN. Data waiting in
// src means dst is full; none means src is empty. Where src cannot say
// (no TIOCINQ, alias FIONREAD and SIOCINQ: vsock on older kernels),
// wait for both, at the price of one more poll.
func (h *half) blocked() (srcWait, dstWait bool) {
	n, err := unix.IoctlGetInt(h.src.fd, unix.TIOCINQ)
	if err != nil {
		return true, true
	}
	return n == 0, n > 0
}

// toCopyMode switches the direction to read/write, carrying over whatever
// already sits in the intermediate pipe. A pipe that was safe to splice
// while blocking is not safe to read(2) or write(2), so fds that may now
// block are first polled again.
func (h *half) toCopyMode() error {
	h.direct = false
	h.srcWait = h.srcWait || h.src.mayBlock(false)
	h.dstWait = h.dstWait || h.dst.mayBlock(false)
	h.buf = make([]byte, max(copyBufSize, h.pending))
	for got := 0; got < h.pending; {
		n, err := ignoreEINTRn(func() (int, error) { return unix.Read(h.pr, h.buf[got:h.pending]) })
		if err != nil {
			return os.NewSyscallError("read relay pipe", err)
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		got += n
	}
	h.off = 0
	h.close()
	return nil
}

func splice(from, to, n int) (int, error) {
	return ignoreEINTRn(func() (int, error) {
		m, err := unix.Splice(from, nil, to, nil, n, spliceFlags)
		return int(m), err
	})
}

// spliceUnsupported reports the errors meaning "this fd cannot splice"
// rather than "this transfer failed".
func spliceUnsupported(err error) bool {
	return err == unix.EINVAL || err == unix.ENOSYS
}

func spliceErr(err error) error {
	if err == nil || err == unix.EAGAIN {
		return err
	}
	return os.NewSyscallError("splice", err)
}

func ignoreEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

func ignoreEINTRn(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}

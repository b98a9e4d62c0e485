//go:build linux

// Package pipe hands a connected socket over to ssh, the last step of the
// ProxyCommand helper.
//
// ssh runs the helper in one of two ways. With ProxyUseFdpass it gives the
// helper one end of an AF_UNIX socketpair as both fd 0 and fd 1 and expects
// exactly one byte carrying one SCM_RIGHTS fd back (SendFD); after that ssh
// talks to the socket itself and the helper only has to exit. Without it ssh
// gives the helper two pipes and the helper has to shovel bytes both ways for
// the whole session (Relay).
//
// Everything here works on raw file descriptors: the connected socket is
// usually AF_VSOCK, which Go's zero-copy paths (io.Copy's splice) do not
// recognise, and ssh's stdin and stdout are plain blocking pipes whose reads
// Go cannot interrupt.
package pipe

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// IsFDChannel reports whether stdin and stdout are ssh's fd-passing channel:
// both the same AF_UNIX SOCK_STREAM socket (same st_dev/st_ino).
//
// ssh gives no other hint that ProxyUseFdpass is on, and writing relay data
// to the channel instead of an fd makes ssh fail with "mm_receive_fd: no
// message header", so the helper has to recognise the channel by its shape.
// Two pipes, a terminal, or two different sockets are never the channel.
func IsFDChannel(stdin, stdout *os.File) bool {
	if stdin == nil || stdout == nil {
		return false
	}
	defer runtime.KeepAlive(stdin)
	defer runtime.KeepAlive(stdout)
	in, err := rawFD(stdin)
	if err != nil {
		return false
	}
	out, err := rawFD(stdout)
	if err != nil {
		return false
	}
	var si, so unix.Stat_t
	if unix.Fstat(in, &si) != nil || unix.Fstat(out, &so) != nil {
		return false
	}
	if si.Mode&unix.S_IFMT != unix.S_IFSOCK || si.Dev != so.Dev || si.Ino != so.Ino {
		return false
	}
	domain, err := unix.GetsockoptInt(in, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil || domain != unix.AF_UNIX {
		return false
	}
	typ, err := unix.GetsockoptInt(in, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && typ == unix.SOCK_STREAM
}

// SendFD passes conn to the peer of channel as one data byte plus one
// SCM_RIGHTS fd (what ssh's ProxyUseFdpass expects). It writes nothing else.
//
// ssh reads the message with a single recvmsg and treats anything else on
// the channel as a protocol error, so the byte and the fd must travel in the
// same sendmsg. The kernel duplicates the descriptor into ssh, so the caller
// may close conn and exit as soon as SendFD returns; ssh waits for that exit.
func SendFD(channel *os.File, conn *os.File) error {
	if channel == nil || conn == nil {
		return errors.New("pipe: SendFD: nil file")
	}
	defer runtime.KeepAlive(channel)
	defer runtime.KeepAlive(conn)
	ch, err := rawFD(channel)
	if err != nil {
		return fmt.Errorf("pipe: SendFD: channel: %w", err)
	}
	fd, err := rawFD(conn)
	if err != nil {
		return fmt.Errorf("pipe: SendFD: conn: %w", err)
	}
	oob := unix.UnixRights(fd)
	for {
		// MSG_NOSIGNAL: a vanished ssh must show up as an error, not as a
		// signal.
		n, err := unix.SendmsgN(ch, []byte{0}, oob, nil, unix.MSG_NOSIGNAL)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			// The channel may have been left non-blocking by whoever set
			// up stdio; the message is tiny, so waiting for room is enough.
			if err := waitFD(ch, unix.POLLOUT); err != nil {
				return fmt.Errorf("pipe: SendFD: poll: %w", err)
			}
			continue
		case err != nil:
			return fmt.Errorf("pipe: SendFD: sendmsg: %w", err)
		case n != 1:
			return fmt.Errorf("pipe: SendFD: sendmsg wrote %d bytes, want 1", n)
		}
		return nil
	}
}

// rawFD returns f's descriptor without the side effect of (*os.File).Fd,
// which switches a file that Go made non-blocking (os.Pipe, net's File())
// back to blocking mode for good; that would leave later Go I/O on the file
// tying up a thread. Callers must keep f alive (runtime.KeepAlive) and must
// not let it be closed while they use the number.
func rawFD(f *os.File) (int, error) {
	sc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := sc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// waitFD blocks until fd reports one of events (or an error/hangup, which
// the next syscall on fd will turn into a proper error).
func waitFD(fd int, events int16) error {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		_, err := unix.Poll(pfd, -1)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

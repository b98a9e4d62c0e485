//go:build linux

package pipe

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// HungUp reports whether every writer of the pipe f reads from (or the peer
// of the socket) is gone, waiting up to d for that to happen. Data still
// queued in f does not count: only the hang-up does.
//
// ssh exits by closing the relay's stdout reader, then its stdin writer; a
// relay whose stdout broke uses this to tell that end of a session from a
// reader that went away on its own.
func HungUp(f *os.File, d time.Duration) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	hup := false
	end := time.Now().Add(d)
	_ = rc.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(pfd, int(max(time.Until(end), 0).Milliseconds()))
			if err == nil && n > 0 && pfd[0].Revents&unix.POLLHUP != 0 {
				hup = true
				return
			}
			if !time.Now().Before(end) {
				return
			}
			if err == nil && n > 0 {
				// Readable but not hung up: poll would return at once
				// until the writer goes, so wait a little between looks.
				time.Sleep(time.Millisecond)
			}
		}
	})
	return hup
}

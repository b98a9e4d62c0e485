//go:build linux

package pipe

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PeerIsSSH reports whether the process at the other end of the AF_UNIX
// socket f is OpenSSH's ssh: the executable SO_PEERCRED names is called
// "ssh".
//
// The shape IsFDChannel checks (stdin and stdout one AF_UNIX socket) is not
// proof that ssh asked for the fd: libssh clients and `socat EXEC:` hand
// their ProxyCommand that very shape and then read the one byte SendFD
// writes as the server's banner. ssh creates the socketpair itself before
// it runs `$SHELL -c "exec ProxyCommand"`, so the socket's peer credentials
// are ssh's own, whatever shell ran in between. The executable comes from
// /proc/PID/exe, which the kernel gives resolved (a symlink such as slogin
// names the ssh binary; an ssh upgraded during the session reads
// "... (deleted)"); when that is not readable (another user's process, or
// one that made itself non-dumpable), /proc/PID/comm, the name it was run
// as, is.
func PeerIsSSH(f *os.File) bool {
	defer runtime.KeepAlive(f)
	fd, err := rawFD(f)
	if err != nil {
		return false
	}
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	return err == nil && ProcessIsSSH(int(cred.Pid))
}

// ProcessIsSSH reports whether process pid runs OpenSSH's ssh, by the name
// of its executable (see PeerIsSSH).
func ProcessIsSSH(pid int) bool {
	if pid <= 0 {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if exe, err := os.Readlink(proc + "/exe"); err == nil {
		return filepath.Base(strings.TrimSuffix(exe, " (deleted)")) == "ssh"
	}
	comm, err := os.ReadFile(proc + "/comm")
	return err == nil && strings.TrimSuffix(string(comm), "\n") == "ssh"
}

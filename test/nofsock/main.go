//go:build linux && (amd64 || arm64)

// Command nofsock runs a program with AF_VSOCK sockets made impossible.
//
//	nofsock [-r ROOT] [-q] [-e ERRNO | -k] [--] PROG [ARG...]
//	nofsock [-r ROOT] [-q] [-e ERRNO] --selftest
//
// It is the Go port of /work/shared/tools/nofsock.c and the guard every host
// test must put around the real helper whenever the helper could reach a
// vsock dial: on the development machines every AF_VSOCK connect leaves the
// machine.
//
// It installs a seccomp-BPF filter, synchronised to every thread of this
// process (SECCOMP_FILTER_FLAG_TSYNC) and inherited by PROG, its children and
// anything they exec, under which
//
//	socket(AF_VSOCK, ...)      fails with ENODEV
//	socketpair(AF_VSOCK, ...)  fails with ENODEV
//	io_uring_setup(...)        fails with ENOSYS (io_uring can create sockets
//	                           without calling socket(2))
//	any x32 syscall            fails with ENOSYS (amd64 only)
//	any non-native-ABI syscall kills the process (e.g. int 0x80 socketcall)
//
// and everything else is allowed. -e ECONNRESET or -e ECONNREFUSED makes the
// AF_VSOCK calls fail with that errno instead of ENODEV: to the helper it
// looks like a guest with nothing on its vsock port (the IP fallback's
// trigger), and still nothing is sent. -k makes them kill the process
// (SIGSYS) instead: proof that no AF_VSOCK socket was even created. Then it
// execs PROG (PATH lookup). With -r
// ROOT it first chroots to ROOT and changes to "/", so PROG is resolved inside
// ROOT. It fails closed: if the filter cannot be installed it exits 126
// without exec'ing anything.
//
// --selftest installs the filter, checks that socket(AF_VSOCK) and
// socketpair(AF_VSOCK) give ENODEV, on the calling thread and on another OS
// thread (proving TSYNC), and that socket(AF_UNIX) still works; it prints one
// line and exits 0 (1 on failure). No connect is ever attempted.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	exitFailClosed = 126
	exitExec       = 127
)

// Offsets into struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits of args[0] (int domain) on a little-endian machine
)

func stmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

func retErrno(errno unix.Errno) unix.SockFilter {
	return stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|(uint32(errno)&unix.SECCOMP_RET_DATA))
}

// filter returns the BPF program. The instruction indices match the C
// reference so the jump offsets can be checked against it.
func filter() []unix.SockFilter {
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	x32 := jump(jeq, 0xffffffff, 0, 1) // never true: keeps offsets equal
	if hasX32 {
		x32 = jump(jge, x32SyscallBit, 0, 1)
	}
	return []unix.SockFilter{
		/* 0 */ stmt(ldAbs, offArch),
		/* 1 */ jump(jeq, auditArch, 1, 0),
		/* 2 */ stmt(ret, unix.SECCOMP_RET_KILL_PROCESS),
		/* 3 */ stmt(ldAbs, offNr),
		/* 4 */ x32,
		/* 5 */ retErrno(unix.ENOSYS),
		/* 6 */ jump(jeq, unix.SYS_SOCKET, 4, 0),
		/* 7 */ jump(jeq, unix.SYS_SOCKETPAIR, 3, 0),
		/* 8 */ jump(jeq, unix.SYS_IO_URING_SETUP, 1, 0),
		/* 9 */ stmt(ret, unix.SECCOMP_RET_ALLOW),
		/* 10 */ retErrno(unix.ENOSYS),
		/* 11 */ stmt(ldAbs, offArg0),
		/* 12 */ jump(jeq, unix.AF_VSOCK, 0, 1),
		/* 13 */ vsockAction(),
		/* 14 */ stmt(ret, unix.SECCOMP_RET_ALLOW),
	}
}

// kill, set by -k, makes creating an AF_VSOCK socket kill the process
// (SIGSYS) instead of failing: a test then proves that none was ever
// created, not merely that none was connected.
var kill bool

// vsockAction is what socket(AF_VSOCK) and socketpair(AF_VSOCK) meet.
func vsockAction() unix.SockFilter {
	if kill {
		return stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_KILL_PROCESS)
	}
	return retErrno(vsockErrno)
}

// install sets no_new_privs and installs the filter on every thread of the
// process. The caller must have locked its OS thread.
func install() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	f := filter()
	prog := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(f)
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", errno)
	}
	if r != 0 {
		// With TSYNC a positive return is the id of a thread that could not
		// be synchronised: the filter is then on no thread at all.
		return fmt.Errorf("seccomp(TSYNC): thread %d could not be synchronised", r)
	}
	return nil
}

// probe creates (and immediately closes) sockets; it never connects.
func probe() (vsockErr, pairErr, unixErr error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		vsockErr = errors.New("socket(AF_VSOCK) succeeded")
	} else {
		vsockErr = err
	}
	sv, err := unix.Socketpair(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		unix.Close(sv[0])
		unix.Close(sv[1])
		pairErr = errors.New("socketpair(AF_VSOCK) succeeded")
	} else {
		pairErr = err
	}
	u, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		unix.Close(u)
	}
	unixErr = err
	return
}

func selftest(quiet bool) int {
	v, p, u := probe()
	// io_uring_setup with bad arguments: EFAULT/EINVAL without the filter,
	// ENOSYS with it. Nothing is created either way.
	_, _, ue := unix.RawSyscall(unix.SYS_IO_URING_SETUP, 1, 0, 0)
	// The same probe on a different OS thread: only TSYNC puts the filter there.
	type res struct{ v, p, u error }
	ch := make(chan res)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if unix.Gettid() == mainTid {
			ch <- res{errors.New("probe thread is the main thread"), nil, nil}
			return
		}
		var r res
		r.v, r.p, r.u = probe()
		ch <- r
	}()
	o := <-ch
	ok := errors.Is(v, vsockErrno) && errors.Is(p, vsockErrno) && u == nil && ue == unix.ENOSYS &&
		errors.Is(o.v, vsockErrno) && errors.Is(o.p, vsockErrno) && o.u == nil
	if !quiet || !ok {
		out, word := os.Stdout, "OK"
		if !ok {
			out, word = os.Stderr, "FAIL"
		}
		fmt.Fprintf(out, "nofsock selftest: %s socket(AF_VSOCK): %v; socketpair(AF_VSOCK): %v; socket(AF_UNIX): %v; io_uring_setup: %v; "+
			"other thread: %v; %v; %v\n", word, v, p, errOK(u), ue, o.v, o.p, errOK(o.u))
	}
	if !ok {
		return 1
	}
	return 0
}

func errOK(err error) string {
	if err == nil {
		return "ok"
	}
	return "FAILED: " + err.Error()
}

func usage() int {
	fmt.Fprintln(os.Stderr, "usage: nofsock [-r ROOT] [-q] [-e ERRNO | -k] [--] PROG [ARG...]\n       nofsock [-r ROOT] [-q] [-e ERRNO] --selftest")
	return exitFailClosed
}

var mainTid int

// vsockErrno is what socket(AF_VSOCK) and socketpair(AF_VSOCK) fail with.
var vsockErrno = unix.ENODEV

// errnos are the errnos -e accepts: ENODEV (no such CID) and the two a
// guest without a listener on the port answers with.
var errnos = map[string]unix.Errno{"ENODEV": unix.ENODEV, "ECONNRESET": unix.ECONNRESET, "ECONNREFUSED": unix.ECONNREFUSED}

func main() {
	runtime.LockOSThread()
	mainTid = unix.Gettid()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var root string
	quiet, test := false, false
	i := 0
loop:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			i++
			break loop
		case a == "-r" && i+1 < len(args):
			i++
			root = args[i]
		case a == "-q":
			quiet = true
		case a == "-k":
			kill = true
		case a == "-e" && i+1 < len(args):
			i++
			e, ok := errnos[args[i]]
			if !ok {
				return usage()
			}
			vsockErrno = e
		case a == "--selftest":
			test = true
		case len(a) > 0 && a[0] == '-':
			return usage()
		default:
			break loop
		}
	}
	if (!test && i >= len(args)) || (test && kill) {
		return usage()
	}
	if root != "" {
		if err := unix.Chroot(root); err != nil {
			fmt.Fprintf(os.Stderr, "nofsock: chroot %s: %v\n", root, err)
			return exitFailClosed
		}
		if err := unix.Chdir("/"); err != nil {
			fmt.Fprintf(os.Stderr, "nofsock: chdir /: %v\n", err)
			return exitFailClosed
		}
	}
	// Resolve PROG before the filter goes on (nothing here needs sockets, but
	// keep the filtered window to the exec itself).
	var prog string
	if !test {
		var err error
		if prog, err = exec.LookPath(args[i]); err != nil {
			fmt.Fprintf(os.Stderr, "nofsock: exec %s: %v\n", args[i], err)
			return exitExec
		}
	}
	if err := install(); err != nil {
		fmt.Fprintf(os.Stderr, "nofsock: installing seccomp filter: %v\n", err)
		return exitFailClosed // fail closed: never exec without the filter
	}
	if test {
		return selftest(quiet)
	}
	err := unix.Exec(prog, args[i:], os.Environ())
	fmt.Fprintf(os.Stderr, "nofsock: exec %s: %v\n", args[i], err)
	return exitExec
}

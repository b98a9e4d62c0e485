//go:build linux

package pipe

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// dupFile returns a second *os.File on the same open file description, the
// way fd 0 and fd 1 share ssh's socket.
func dupFile(t *testing.T, f *os.File) *os.File {
	t.Helper()
	var nfd int
	var derr error
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		t.Fatal(err)
	}
	if derr != nil {
		t.Fatal(derr)
	}
	d := os.NewFile(uintptr(nfd), f.Name()+"-dup")
	t.Cleanup(func() { d.Close() })
	return d
}

func TestIsFDChannel(t *testing.T) {
	closeAll := func(fs ...*os.File) {
		t.Cleanup(func() {
			for _, f := range fs {
				f.Close()
			}
		})
	}
	tests := []struct {
		name  string
		files func(t *testing.T) (stdin, stdout *os.File)
		want  bool
	}{
		{"socketpair end on both fds", func(t *testing.T) (*os.File, *os.File) {
			a, b := socketPair(t, false)
			closeAll(a, b)
			return a, dupFile(t, a)
		}, true},
		{"same file twice", func(t *testing.T) (*os.File, *os.File) {
			a, b := socketPair(t, true)
			closeAll(a, b)
			return a, a
		}, true},
		{"two pipes", func(t *testing.T) (*os.File, *os.File) {
			r1, w1 := pipePair(t, false, false)
			r2, w2 := pipePair(t, false, false)
			closeAll(r1, w1, r2, w2)
			return r1, w2
		}, false},
		{"both ends of one socketpair", func(t *testing.T) (*os.File, *os.File) {
			a, b := socketPair(t, false)
			closeAll(a, b)
			return b, a
		}, false},
		{"socket stdout, other socket stdin", func(t *testing.T) (*os.File, *os.File) {
			a, b := socketPair(t, false)
			c, d := socketPair(t, false)
			closeAll(a, b, c, d)
			return c, a
		}, false},
		{"socket stdout, pipe stdin", func(t *testing.T) (*os.File, *os.File) {
			a, b := socketPair(t, false)
			r, w := pipePair(t, false, false)
			closeAll(a, b, r, w)
			return r, a
		}, false},
		{"regular file on both", func(t *testing.T) (*os.File, *os.File) {
			f, err := os.Create(filepath.Join(t.TempDir(), "f"))
			if err != nil {
				t.Fatal(err)
			}
			closeAll(f)
			return f, dupFile(t, f)
		}, false},
		{"datagram socketpair", func(t *testing.T) (*os.File, *os.File) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
			closeAll(a, b)
			return a, dupFile(t, a)
		}, false},
		{"tcp socket on both", func(t *testing.T) (*os.File, *os.File) {
			a, b := tcpPair(t)
			closeAll(a, b)
			return a, dupFile(t, a)
		}, false},
		{"nil", func(t *testing.T) (*os.File, *os.File) { return nil, nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, out := tt.files(t)
			if got := IsFDChannel(in, out); got != tt.want {
				t.Errorf("IsFDChannel = %v, want %v", got, tt.want)
			}
		})
	}
}

// recvFD does what ssh's mm_receive_fd does, but with room to notice
// anything extra: it returns the data and every fd that arrived.
func recvFD(t *testing.T, f *os.File) (data []byte, fds []int) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4*4))
	var n, oobn, flags int
	var rerr error
	_ = sc.Control(func(fd uintptr) {
		n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
	})
	if rerr != nil {
		t.Fatalf("recvmsg: %v", rerr)
	}
	if flags&unix.MSG_CTRUNC != 0 {
		t.Fatal("control message truncated")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, got...)
	}
	return buf[:n], fds
}

func TestSendFD(t *testing.T) {
	for _, nonblock := range []bool{false, true} {
		name := "blocking"
		if nonblock {
			name = "nonblocking"
		}
		t.Run(name, func(t *testing.T) {
			helper, ssh := socketPair(t, nonblock) // the fdpass channel
			defer ssh.Close()
			conn, vm := socketPair(t, true) // stands in for the vsock connection
			defer vm.Close()

			if err := SendFD(helper, conn); err != nil {
				t.Fatal(err)
			}
			// The helper is done: it closes everything and exits.
			conn.Close()
			helper.Close()

			data, fds := recvFD(t, ssh)
			if len(data) != 1 || len(fds) != 1 {
				t.Fatalf("got %d data bytes and %d fds, want 1 and 1", len(data), len(fds))
			}
			// Nothing else may follow the message.
			if n, err := ssh.Read(make([]byte, 16)); n != 0 || err == nil {
				t.Fatalf("after the fd: read %d bytes, err %v; want EOF", n, err)
			}

			got := os.NewFile(uintptr(fds[0]), "received")
			defer got.Close()
			if _, err := got.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if _, err := vm.Read(buf); err != nil || string(buf) != "ping" {
				t.Fatalf("vm side read %q, %v", buf, err)
			}
			if _, err := vm.Write([]byte("pong")); err != nil {
				t.Fatal(err)
			}
			if _, err := got.Read(buf); err != nil || string(buf) != "pong" {
				t.Fatalf("received fd read %q, %v", buf, err)
			}
		})
	}
}

func TestSendFDPeerGone(t *testing.T) {
	helper, ssh := socketPair(t, false)
	defer helper.Close()
	conn, vm := socketPair(t, false)
	defer conn.Close()
	defer vm.Close()
	ssh.Close()
	// Must be an error (EPIPE), not a SIGPIPE.
	if err := SendFD(helper, conn); !isErrno(err, unix.EPIPE, unix.ECONNRESET) {
		t.Fatalf("SendFD to a closed peer: %v, want EPIPE", err)
	}
}

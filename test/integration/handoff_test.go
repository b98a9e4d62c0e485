//go:build integration

package integration

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// echoAfterEOF reads the whole request, then answers with it and closes: a
// relay that does not pass on the end of stdin (shutdown of the socket's
// write side) while still reading never gets its answer.
func echoAfterEOF(c net.Conn) {
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		return
	}
	c.Write(append([]byte("echo:"), b...))
}

// TestHandoffDirect runs the helper the way ssh does, without ssh, against a
// unix socket target: relaying over pipes, and passing the connected socket
// over a unix socketpair (SCM_RIGHTS), and the failures of each.
func TestHandoffDirect(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	echo := FakeDaemon(t, dir, "echo.sock", echoAfterEOF)
	// Reads one byte, then closes with the rest unread: the relay loses its
	// connection while it still has stdin to send.
	rude := FakeDaemon(t, dir, "rude.sock", func(c net.Conn) {
		c.Read(make([]byte, 1))
		c.Close()
	})

	// Speaks first, then closes without reading: the relay must pass on the
	// end of the target's data (close stdout) while stdin is still open.
	first := FakeDaemon(t, dir, "first.sock", func(c net.Conn) {
		c.Write([]byte("bye\n"))
		c.Close()
	})

	relay := func(t *testing.T, args ...string) {
		r := runCmdStdin(t, strings.NewReader("hello\n"), args...)
		expectExit(t, r, 0)
		if r.Stdout != "echo:hello\n" {
			t.Errorf("relay: got stdout %q, want %q (stdin's end must reach the target as a half-close)", r.Stdout, "echo:hello\n")
		}
	}
	t.Run("relay over pipes, --relay", func(t *testing.T) { relay(t, "--relay", "unix/"+echo, "22") })
	t.Run("relay over pipes, chosen by itself", func(t *testing.T) { relay(t, "unix/"+echo, "22") })

	t.Run("relay: target ends first", func(t *testing.T) {
		cmd := guarded(context.Background(), helperBin, "--relay", "unix/"+first, "22")
		stdin, stdout, stderr := startPiped(t, cmd)
		timer := time.AfterFunc(helperLimit, func() { cmd.Process.Kill() })
		defer timer.Stop()
		got, _ := io.ReadAll(stdout) // EOF only once the helper closed stdout
		if string(got) != "bye\n" {
			t.Errorf("stdout: got %q, want %q", got, "bye\n")
		}
		stdin.Close()
		err := cmd.Wait()
		if err != nil {
			t.Errorf("after stdin closed: %v; stderr %q", err, stderr.String())
		}
	})

	t.Run("--fdpass onto a pipe fails", func(t *testing.T) {
		r := runCmdStdin(t, strings.NewReader(""), "--fdpass", "unix/"+echo, "22")
		expectExit(t, r, 12)
	})

	t.Run("relay loses the connection", func(t *testing.T) {
		// 8 MiB of stdin: far more than the socket buffers hold.
		r := runCmdStdin(t, bytes.NewReader(make([]byte, 8<<20)), "--relay", "unix/"+rude, "22")
		expectExit(t, r, 13)
	})

	t.Run("fd passing over a socketpair", func(t *testing.T) {
		fd, r := runFdpass(t, "unix/"+echo, "22")
		expectExit(t, r, 0)
		// ssh waits for the helper to exit before its banner, so the
		// helper must exit right after the hand-off, not linger until
		// the connection ends. The bound is generous on purpose: this
		// catches lingering, the benchmarks measure speed.
		if r.Elapsed > 5*time.Second {
			t.Errorf("helper took %v to hand over the fd and exit", r.Elapsed)
		}
		if fd < 0 {
			return
		}
		// The fd is the connection to the target: talk through it.
		got, err := talkPassed(t, fd, "through the passed fd")
		if string(got) != "echo:through the passed fd" {
			t.Errorf("through the passed fd: got %q, %v", got, err)
		}
	})

	// ssh's shape (stdin and stdout one socket) from a peer that is not ssh
	// (here this test; libssh clients, socat EXEC:): no fd, a relay over
	// that one socket.
	t.Run("a socketpair not from ssh is relayed", func(t *testing.T) {
		sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ours, theirs := os.NewFile(uintptr(sv[0]), "client-end"), os.NewFile(uintptr(sv[1]), "helper-end")
		defer ours.Close()
		cmd := guarded(context.Background(), helperBin, "-v", "unix/"+echo, "22")
		cmd.Stdin, cmd.Stdout = theirs, theirs
		stderr := new(strings.Builder)
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		theirs.Close()
		timer := time.AfterFunc(helperLimit, func() { cmd.Process.Kill() })
		defer timer.Stop()
		ours.Write([]byte("hello"))
		unix.Shutdown(sv[0], unix.SHUT_WR)
		got, _ := io.ReadAll(ours)
		if err := cmd.Wait(); err != nil || string(got) != "echo:hello" {
			t.Errorf("got %q, helper %v; stderr %q", got, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "not ssh's: relaying") {
			t.Errorf("-v does not say why it relays: %q", stderr.String())
		}
	})
}

// runCmdStdin runs the guarded helper with stdin from r and stdout a pipe.
func runCmdStdin(t *testing.T, r io.Reader, args ...string) Result {
	t.Helper()
	return runGuardedHelper(t, func(cmd *exec.Cmd) { cmd.Stdin = r }, args...)
}

// talkPassed talks through the connection behind an fd the helper passed:
// it writes msg, shuts down its write side and returns all the other end
// sent until it closed (10 s at most). The connection is closed when the
// test ends.
func talkPassed(t testing.TB, fd int, msg string) ([]byte, error) {
	t.Helper()
	f := os.NewFile(uintptr(fd), "passed")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatalf("passed fd is no socket: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(msg))
	c.(*net.UnixConn).CloseWrite()
	return io.ReadAll(c)
}

// runFdpass runs the guarded helper with --fdpass and fd 0 and fd 1 both one
// end of a unix socketpair, as ssh does under ProxyUseFdpass, and receives
// what it sends: exactly one data byte carrying one fd (SCM_RIGHTS), nothing
// else. It returns the fd (-1 if none) and how the helper ended. (--fdpass:
// on its own the helper passes fds to ssh only, and this test is not ssh;
// the ssh tests cover that choice.)
func runFdpass(t testing.TB, args ...string) (int, Result) {
	t.Helper()
	needHelper(t)
	sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours := os.NewFile(uintptr(sv[0]), "ssh-end")
	theirs := os.NewFile(uintptr(sv[1]), "helper-end")
	defer ours.Close()
	cmd := guarded(context.Background(), helperBin, append([]string{"--fdpass"}, args...)...)
	cmd.Stdin, cmd.Stdout = theirs, theirs
	res := runCmd(t, helperLimit, cmd)
	res.Args = append([]string{"libvirt-ssh-proxy"}, args...)
	theirs.Close()

	// The helper has exited: everything it sent is queued on our end.
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := unix.Recvmsg(sv[0], buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		t.Errorf("recvmsg: %v (helper: %s)", err, res)
		return -1, res
	}
	if n != 1 {
		t.Errorf("want exactly 1 data byte with the fd, got %d: %q", n, buf[:n])
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Errorf("want one control message, got %d (%v)", len(msgs), err)
		return -1, res
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Errorf("want one fd, got %v (%v)", fds, err)
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, res
	}
	// Nothing may follow the fd: ssh speaks on the passed socket, not here.
	if m, _, _, _, err := unix.Recvmsg(sv[0], buf, nil, unix.MSG_DONTWAIT); m > 0 {
		t.Errorf("helper wrote %d more bytes after the fd: %q", m, buf[:m])
	} else if err != nil && err != unix.EAGAIN {
		t.Logf("after the fd: %v", err)
	}
	return fds[0], res
}

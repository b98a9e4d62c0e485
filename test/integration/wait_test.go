//go:build integration

package integration

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listenLater makes a unix socket at path after delay, serving each
// connection with serve, and returns at once. Before that, path does not
// exist: a target whose VMM or guest is still starting.
func listenLater(t *testing.T, path string, delay time.Duration, serve func(net.Conn)) {
	t.Helper()
	done := make(chan struct{})
	var ln net.Listener
	timer := time.AfterFunc(delay, func() {
		defer close(done)
		var err error
		if ln, err = net.Listen("unix", path); err != nil {
			t.Errorf("listen %s: %v", path, err)
			return
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go serve(c)
			}
		}()
	})
	t.Cleanup(func() {
		if timer.Stop() {
			return
		}
		<-done
		if ln != nil {
			ln.Close()
		}
	})
}

// retries counts the -v progress lines that announce another attempt.
func retries(stderr string) int { return strings.Count(stderr, ": not yet: ") }

// TestWaitUnix: a unix target whose socket appears after 1 s. With --wait
// the helper connects once it is there; without, it fails at once with
// "no socket" (exit 11) though the socket comes later.
func TestWaitUnix(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	t.Run("without --wait", func(t *testing.T) {
		sock := filepath.Join(dir, "later-a.sock")
		listenLater(t, sock, time.Second, echoAfterEOF)
		r := runCmdStdin(t, strings.NewReader("hello"), "--relay", "unix/"+sock, "22")
		expectExit(t, r, 11, "no socket at "+sock)
	})
	t.Run("--wait", func(t *testing.T) {
		sock := filepath.Join(dir, "later-b.sock")
		listenLater(t, sock, time.Second, echoAfterEOF)
		r := runCmdStdin(t, strings.NewReader("hello"), "--wait=30s", "-v", "--relay", "unix/"+sock, "22")
		expectExit(t, r, 0)
		if r.Stdout != "echo:hello" {
			t.Errorf("relay after waiting: got %q: %s", r.Stdout, r)
		}
		if retries(r.Stderr) < 2 {
			t.Errorf("want -v to report the attempts before the socket appeared: %s", r)
		}
	})
	t.Run("--wait, fd passing", func(t *testing.T) {
		sock := filepath.Join(dir, "later-c.sock")
		listenLater(t, sock, time.Second, echoAfterEOF)
		fd, r := runFdpass(t, "--wait", "unix%"+sock, "22")
		expectExit(t, r, 0)
		if fd < 0 {
			t.Fatal("no fd passed")
		}
	})
	t.Run("--wait ends", func(t *testing.T) {
		r := runHelper(t, "--wait=1s", "unix/"+dir+"/never.sock", "22")
		expectExit(t, r, 11, "still failing after --wait 1s", "no socket at "+dir+"/never.sock")
	})
	t.Run("progress only with -v", func(t *testing.T) {
		r := runHelper(t, "--wait=500ms", "unix/"+dir+"/never.sock", "22")
		if retries(r.Stderr) != 0 {
			t.Errorf("progress without -v: %s", r)
		}
	})
}

// TestWaitMux: a multiplexer that closes without a word twice (the guest's
// sshd is not up yet), then answers: --wait gets through, without --wait
// it is exit 8 at the first close.
func TestWaitMux(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	echo := FakeDaemon(t, dir, "echo.sock", echoAfterEOF)
	booting := func(n int) (string, string) {
		if n <= 2 {
			return "", ""
		}
		return replyFirecracker, echo
	}
	a := StartMux(t, dir, "a.sock", 22, booting, false)
	r := runCmdStdin(t, strings.NewReader("hi"), "--relay", "vsock-mux/"+a.Sock, "22")
	expectExit(t, r, 8, "closed the connection without answering")
	b := StartMux(t, dir, "b.sock", 22, booting, false)
	r = runCmdStdin(t, strings.NewReader("hi"), "--wait=30s", "--relay", "vsock-mux/"+b.Sock, "22")
	expectExit(t, r, 0)
	if r.Stdout != "echo:hi" || b.Requests.Load() != 3 {
		t.Errorf("got %q after %d requests, want echo:hi after 3: %s", r.Stdout, b.Requests.Load(), r)
	}
}

// TestWaitLibvirt: a domain that stays shut off is retried until --wait ends
// and reported as not running (exit 5); failures waiting cannot cure are
// reported at once, with no retry.
func TestWaitLibvirt(t *testing.T) {
	e := newLookupEnv(t)
	sys := e.sys.URI()
	t.Run("shut off until the end", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "--wait=2s", "-c", sys, "qemu/stopped", "22")
		expectExit(t, r, 5, "still failing after --wait 2s", `domain "stopped"`, "is not running")
	})
	t.Run("shut off, -v shows the retries", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "--wait=2s", "-v", "-c", sys, "qemu/stopped", "22")
		if r.Code != 5 || retries(r.Stderr) < 3 {
			t.Errorf("want exit 5 after several attempts: %s", r)
		}
	})
	t.Run("resolve waits too", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "resolve", "--wait=1s", "-c", sys, "qemu/stopped")
		expectExit(t, r, 5, "still failing after --wait 1s", "is not running")
	})
	t.Run("not found until the end", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "--wait=1s", "-c", sys, "qemu/nosuch", "22")
		expectExit(t, r, 4, "still failing after --wait 1s", "nosuch")
	})
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"no vsock device", []string{"-c", sys, "qemu/novsock", "22"}, 6},
		{"libvirt unreachable", []string{"-c", e.missing, "qemu/vm", "22"}, 3},
		{"bad host", []string{"nohost", "22"}, 2},
	} {
		t.Run("at once: "+c.name, func(t *testing.T) {
			t.Parallel()
			r := runHelper(t, append([]string{"--wait=1m", "-v"}, c.args...)...)
			if r.Code != c.code || retries(r.Stderr) != 0 || strings.Contains(r.Stderr, "still failing") {
				t.Errorf("want exit %d with no retry: %s", c.code, r)
			}
		})
	}
}

//go:build linux

package pipe

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// peerNamed returns the accepted end of a unix socket connection whose
// other end is socat run as a binary named name (so /proc/PID/exe and comm
// say name); with deleted, that binary is removed once it runs.
func peerNamed(t *testing.T, name string, deleted bool) *os.File {
	t.Helper()
	socat, err := exec.LookPath("socat")
	if err != nil {
		t.Fatalf("socat is needed to give the socket a peer process (apt-get install socat): %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, name)
	src, err := os.ReadFile(socat)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(bin, "-", "UNIX-CONNECT:"+sock)
	stdin, err := cmd.StdinPipe() // held open: socat stays connected
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	if deleted {
		os.Remove(bin)
	}
	f, err := c.File()
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestPeerIsSSH: the fd goes only to a peer whose executable is ssh; the
// shape alone (this test process's own socketpair, socat, a libssh client
// named anything else) is not enough.
func TestPeerIsSSH(t *testing.T) {
	tests := []struct {
		name string
		file func(t *testing.T) *os.File
		want bool
	}{
		{"ssh", func(t *testing.T) *os.File { return peerNamed(t, "ssh", false) }, true},
		{"ssh replaced while running", func(t *testing.T) *os.File { return peerNamed(t, "ssh", true) }, true},
		{"socat", func(t *testing.T) *os.File { return peerNamed(t, "socat", false) }, false},
		{"a name with ssh in it", func(t *testing.T) *os.File { return peerNamed(t, "libssh-client", false) }, false},
		{"our own socketpair", func(t *testing.T) *os.File {
			a, b := socketPair(t, false)
			t.Cleanup(func() { a.Close(); b.Close() })
			return a
		}, false},
		{"a pipe", func(t *testing.T) *os.File {
			r, w := pipePair(t, false, false)
			t.Cleanup(func() { r.Close(); w.Close() })
			return r
		}, false},
		{"nil", func(t *testing.T) *os.File { return nil }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PeerIsSSH(tt.file(t)); got != tt.want {
				t.Errorf("PeerIsSSH = %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkPeerIsSSH: the check runs on every ssh's start-up under
// ProxyUseFdpass (one getsockopt, one readlink).
func BenchmarkPeerIsSSH(b *testing.B) {
	a, c := socketPair(b, false)
	defer a.Close()
	defer c.Close()
	for b.Loop() {
		PeerIsSSH(a)
	}
}

//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func init() { packages["systemd-analyze"] = "systemd" }

// TestGuestUnits loads the guest package's units with systemd-analyze
// verify (it needs no running systemd): no warning, no error. The socket
// must listen on vsock::22 and hand each connection to sshd -i, and must not
// take the name of systemd >= 256's own sshd-vsock.socket.
func TestGuestUnits(t *testing.T) {
	requireBins(t, "systemd-analyze", "sshd")
	src := filepath.Join(repoRoot, "packaging", "guest")
	dir := shortTempDir(t)
	var units []string
	for _, name := range []string{"libvirt-sshd-vsock.socket", "libvirt-sshd-vsock@.service"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), string(b), 0o644)
		units = append(units, filepath.Join(dir, name))
	}
	cmd := execCmd(mustBin(t, "systemd-analyze"), append([]string{"verify", "--man=no"}, units...)...)
	cmd.Dir = dir
	if r := runCmd(t, 30*time.Second, cmd); r.Code != 0 || r.Stderr != "" || r.Stdout != "" {
		t.Fatalf("systemd-analyze verify: %s", r)
	}
	socket, _ := os.ReadFile(units[0])
	service, _ := os.ReadFile(units[1])
	for _, want := range []string{"\nListenStream=vsock::22\n", "\nAccept=yes\n",
		"\nConditionPathExists=!/run/systemd/generator/sshd-vsock.socket\n", "\nWantedBy=sockets.target\n"} {
		if !strings.Contains(string(socket), want) {
			t.Errorf("the socket unit lacks %q", strings.TrimSpace(want))
		}
	}
	if !strings.Contains(string(service), "\nExecStart=-/usr/sbin/sshd -i\n") || !strings.Contains(string(service), "\nStandardInput=socket\n") {
		t.Errorf("the service does not run sshd -i on the socket:\n%s", service)
	}
	preset, err := os.ReadFile(filepath.Join(src, "80-libvirt-ssh-proxy-guest.preset"))
	if err != nil || strings.TrimSpace(string(preset)) != "enable libvirt-sshd-vsock.socket" {
		t.Errorf("preset: %q, %v", preset, err)
	}
}

package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNetworkClients: the helper reaches a URI with a host through the
// system's ssh (HV/FORM), so it links no ssh, TLS or HTTP client of its
// own, nor go-libvirt, whose network dialers brought them in.
func TestNoNetworkClients(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 || !strings.Contains(string(out), "\nnet\n") {
		t.Fatalf("go list -deps gave %d packages, not the helper's: %q", len(deps), deps)
	}
	for _, d := range deps {
		for _, bad := range []string{"crypto/tls", "golang.org/x/crypto/", "net/http", "github.com/digitalocean/go-libvirt"} {
			if d == bad || strings.HasPrefix(d, bad) {
				t.Errorf("the helper links %s", d)
			}
		}
	}
}

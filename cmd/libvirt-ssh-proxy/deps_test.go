package main

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestNoInitWork: no package of this module does work at start-up (a map
// built from a literal, a regexp compiled into a var): every ssh connection
// starts the helper and would pay it, used or not. The built helper is run
// with GODEBUG=inittrace=1, which prints a line for each package whose
// initialisation runs code; build such things on first use instead.
func TestNoInitWork(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "libvirt-ssh-proxy")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, stderr.String())
	}
	lines := strings.Split(stderr.String(), "\n")
	var inits int
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		inits++
		if f[1] == "main" || strings.HasPrefix(f[1], "github.com/libvirt-ssh-proxy/") {
			t.Errorf("package %s does work at start-up: %s", f[1], l)
		}
	}
	if inits == 0 { // the trace itself must work, or this test proves nothing
		t.Fatalf("GODEBUG=inittrace=1 printed no init lines:\n%s", stderr.String())
	}
}

package route

import (
	"errors"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

func TestIPFallbackApplies(t *testing.T) {
	dom := target.Target{Network: target.VSock, CID: 42, Port: 22, Domain: &target.Domain{Name: "vm"}}
	direct := target.Target{Network: target.VSock, CID: 42, Port: 22}
	tests := []struct {
		name  string
		t     target.Target
		class failure.Class
		off   bool // --no-ip-fallback
		want  bool
	}{
		{"no vsock device", target.Target{Port: 22, Domain: dom.Domain}, failure.NoVsock, false, true},
		{"vsock without CID", target.Target{Port: 22, Domain: dom.Domain}, failure.NoCID, false, true},
		{"refused or reset", dom, failure.NotListening, false, true},
		{"--no-ip-fallback", dom, failure.NotListening, true, false},
		{"ENODEV: no VM holds the CID", dom, failure.NoTarget, false, false},
		{"vsock timed out: still booting", dom, failure.NotReady, false, false},
		{"--timeout", dom, failure.Timeout, false, false},
		{"not running", target.Target{}, failure.NotRunning, false, false},
		{"vsock/CID: no domain to ask", direct, failure.NotListening, false, false},
	}
	for _, tt := range tests {
		r := &Road{NoIPFallback: tt.off}
		if got := r.FallsBack(tt.t, failure.New(tt.class, "x")); got != tt.want {
			t.Errorf("%s: FallsBack = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFallbackFailed(t *testing.T) {
	vsock := failure.New(failure.NoVsock, `domain "vm" has no vsock device`).WithHint("add one")
	tests := []struct {
		name  string
		ipErr error
		class failure.Class
		msg   string
	}{
		{"nothing answered: vsock's code", failure.New(failure.NotListening, "no IP address answered on port 22: 10.0.0.2:22 (libvirt lease): connection refused"),
			failure.NoVsock, `domain "vm" has no vsock device, and the IP fallback failed: no IP address answered on port 22: 10.0.0.2:22 (libvirt lease): connection refused (add one)`},
		{"no address", errors.New("found no IP address"),
			failure.NoVsock, `domain "vm" has no vsock device, and the IP fallback failed: found no IP address (add one)`},
		{"--timeout ran out", failure.New(failure.Timeout, "timed out trying IP addresses"),
			failure.Timeout, "timed out trying IP addresses"},
	}
	for _, tt := range tests {
		err := fallbackFailed(vsock, tt.ipErr)
		if c := failure.ClassOf(err); c != tt.class {
			t.Errorf("%s: class %d, want %d", tt.name, c, tt.class)
		}
		if !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: message %q, want one line containing %q", tt.name, err, tt.msg)
		}
	}
}

package route

import (
	"strings"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
)

// TestPlainSpecHop: with Plain, HOST is a name as typed, never another
// hypervisor's; without, the helper's forms are parsed and HV/FORM hops.
func TestPlainSpecHop(t *testing.T) {
	tests := []struct {
		plain   bool
		name    string
		kind    host.Kind
		domain  string
		hops    bool
		badName bool
	}{
		{true, "hv1/qemu/web01", host.Domain, "hv1/qemu/web01", false, false},
		{true, "web01", host.Domain, "web01", false, false},
		{false, "hv1/qemu/web01", host.Remote, "", true, false},
		{false, "qemu/web01", host.Domain, "web01", false, false},
		{false, "web01", 0, "", false, true},
	}
	for _, tt := range tests {
		r := &Road{Plain: tt.plain}
		spec, err := r.Spec(tt.name)
		if tt.badName {
			if err == nil {
				t.Errorf("plain %v, Spec(%q) = %+v, want an error", tt.plain, tt.name, spec)
			}
			continue
		}
		if err != nil || spec.Kind != tt.kind || tt.domain != "" && spec.Domain != tt.domain {
			t.Errorf("plain %v, Spec(%q) = %+v, %v", tt.plain, tt.name, spec, err)
			continue
		}
		if hop, err := r.Hop(spec); err != nil || (hop != nil) != tt.hops {
			t.Errorf("plain %v, Hop(%q) = %v, %v; want a hop: %v", tt.plain, tt.name, hop, err, tt.hops)
		}
	}
}

// TestPlainNoMatch: a plain name the rules refuse (localhost is always the
// user's) ends the road before any lookup: no target, nothing told.
func TestPlainNoMatch(t *testing.T) {
	r := &Road{Plain: true}
	r.Logf = func(format string, args ...any) { t.Errorf("told "+format, args...) }
	spec, _ := r.Spec("localhost")
	tt, conn, err := r.Try(time.Second, 0, spec, 22, Resolve)
	if err == nil || conn != nil || tt.Domain != nil || tt.Network != "" || !strings.Contains(err.Error(), "localhost") {
		t.Errorf("Try(localhost) = %+v, %v, %v; want no target and the rules' refusal", tt, conn, err)
	}
}

//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDomainStates: only a running (or idle) domain is running. A paused,
// crashed, pmsuspended or shutting-down domain has an ID but is refused
// with exit 5, its state and the virsh command that fixes it (real URI and
// name, shell-quoted), before any vsock connect (which, under the guard,
// would be exit 11); --wait does not wait on a state a person must end.
func TestDomainStates(t *testing.T) {
	requireBins(t, "libvirtd", "virsh", "ssh")
	needHelper(t)
	d := StartLibvirtd(t, HostXML(
		Domain{Name: "up", CID: 40},
		Domain{Name: "idle vm", CID: 41, RunState: 2},
		Domain{Name: "paused vm", CID: 43, RunState: 3},
		Domain{Name: "closing", CID: 44, RunState: 4},
		Domain{Name: "crashed", CID: 46, RunState: 6},
		Domain{Name: "asleep", CID: 47, RunState: 7},
	))
	uri := d.URI()
	q := "virsh -c '" + uri + "'" // the URI holds '?': quoted
	cases := []exitCase{
		{"running", []string{"-c", uri, "qemu/up", "22"}, 11, []string{"CID 40"}},
		{"idle is running", []string{"-c", uri, "qemu/idle vm", "22"}, 11, []string{"CID 41"}},
		{"paused", []string{"-c", uri, "qemu/paused vm", "22"}, 5, []string{`"paused vm"`, "paused by", q + " resume 'paused vm'"}},
		{"paused, --wait does not wait", []string{"--wait=30s", "-c", uri, "qemu/paused vm", "22"}, 5, []string{"paused by", "resume"}},
		{"in shutdown", []string{"-c", uri, "qemu/closing", "22"}, 5, []string{"shutting down", q + " start closing"}},
		{"crashed", []string{"-c", uri, "qemu/crashed", "22"}, 5, []string{"crashed", q + " destroy crashed && " + q + " start crashed"}},
		{"crashed, --wait does not wait", []string{"--wait=30s", "-c", uri, "qemu/crashed", "22"}, 5, []string{"crashed"}},
		{"pmsuspended", []string{"-c", uri, "qemu/asleep", "22"}, 5, []string{"pmsuspended", q + " dompmwakeup asleep"}},
		{"pmsuspended, --wait does not wait", []string{"--wait=30s", "-c", uri, "qemu/asleep", "22"}, 5, []string{"pmsuspended"}},
		{"resolve paused", []string{"resolve", "-c", uri, "qemu/paused vm"}, 5, []string{"paused by"}},
	}
	runExitCases(t, cases)

	t.Run("--wait retries a shutdown in progress", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "-v", "--wait=1s", "-c", uri, "qemu/closing", "22")
		if r.Code != 5 || !strings.Contains(r.Stderr, "not yet: ") || !strings.Contains(r.Stderr, "still failing after --wait") {
			t.Errorf("want retries, then exit 5: %s", r)
		}
	})
	t.Run("resolve --json shows the state", func(t *testing.T) {
		t.Parallel()
		for name, want := range map[string]string{"up": "running", "idle vm": "idle"} {
			r := runHelper(t, "resolve", "--json", "-c", uri, "qemu/"+name)
			var v struct{ State string }
			if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.State != want {
				t.Errorf("want state %q: %s", want, r)
			}
		}
	})
	t.Run("doctor names the state", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "doctor", "-F", "/dev/null", "--system-config", "/dev/null", "-c", uri, "qemu/paused vm")
		if !strings.Contains(r.Stdout, "FAIL  domain is running: ") || !strings.Contains(r.Stdout, "paused by") {
			t.Errorf("want a FAIL line naming the pause: %s", r)
		}
	})
}

// TestErrorsNameTheDomain: a host that names the domain by its UUID (as
// ssh-config's aliases do) gets failures that name the domain too.
func TestErrorsNameTheDomain(t *testing.T) {
	requireBins(t, "libvirtd")
	needHelper(t)
	d := StartLibvirtd(t, HostXML(Domain{Name: "web one", UUID: webUUID, CID: 40}))
	runExitCases(t, []exitCase{
		{"by UUID", []string{"-c", d.URI(), "qemu/" + webUUID, "22"}, 11,
			[]string{"qemu/" + webUUID + ` (domain "web one"): no VM holds vsock CID 40`, "dumpxml 'web one'"}},
		{"by name: said once", []string{"-c", d.URI(), "qemu/web one", "22"}, 11, []string{"qemu/web one: no VM holds"}},
	})
}

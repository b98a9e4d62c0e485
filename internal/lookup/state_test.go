package lookup

import (
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// TestCheckRunning: only running and blocked run; every other state is
// named, with a command to copy that fixes it (the real URI and name,
// shell-quoted), and --wait waits only on states that pass by themselves.
func TestCheckRunning(t *testing.T) {
	const uri = "test+unix:///h.xml?socket=/run/s"
	d := &target.Domain{URI: uri, Name: "my vm"}
	q := `virsh -c 'test+unix:///h.xml?socket=/run/s'`
	cases := []struct {
		name          string
		state, reason int32
		ok, lasting   bool
		msg, hint     string
	}{
		{"running", stateRunning, 1, true, false, "", ""},
		{"blocked", stateBlocked, 0, true, false, "", ""},
		{"paused by the user", statePaused, 1, false, true, "paused by the user", q + ` resume 'my vm'`},
		{"paused by an I/O error", statePaused, 5, false, true, "paused by an I/O error", q + ` resume 'my vm'`},
		{"paused, unknown reason", statePaused, 0, false, true, "paused by an unknown cause", "resume"},
		{"paused, reason from the future", statePaused, 99, false, true, "paused by reason 99", "resume"},
		{"paused for a migration", statePaused, 2, false, false, "paused by a migration", "resume"},
		{"paused for a snapshot", statePaused, 9, false, false, "paused by a snapshot", "resume"},
		{"paused while starting", statePaused, 11, false, false, "paused by its start-up", "resume"},
		{"shutting down", stateShutdown, 1, false, false, "shutting down", q + ` start 'my vm'`},
		{"shut off", stateShutoff, 0, false, false, "shut off", q + ` start 'my vm'`},
		{"crashed", stateCrashed, 0, false, true, "crashed", q + ` destroy 'my vm' && ` + q + ` start 'my vm'`},
		{"pmsuspended", statePMSuspended, 0, false, true, "pmsuspended", q + ` dompmwakeup 'my vm'`},
		{"no state", stateNone, 0, false, false, "no state", "--wait"},
		{"state from the future", 42, 0, false, true, "state 42", q + ` domstate --reason 'my vm'`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := checkRunning(d, c.state, c.reason)
			if c.ok {
				if e != nil {
					t.Fatalf("want running, got %v", e)
				}
				return
			}
			if e == nil {
				t.Fatal("want a failure, got none")
			}
			if e.Class != failure.NotRunning || e.Lasting != c.lasting {
				t.Errorf("class %d lasting %v, want %d %v: %v", e.Class, e.Lasting, failure.NotRunning, c.lasting, e)
			}
			if !strings.Contains(e.Msg, `domain "my vm" on `+uri+" is not running: "+c.msg) {
				t.Errorf("message %q lacks %q", e.Msg, c.msg)
			}
			if !strings.Contains(e.Hint, c.hint) {
				t.Errorf("hint %q lacks %q", e.Hint, c.hint)
			}
		})
	}
}

// TestEntryRuns: a listed domain runs exactly when Resolve would let a
// connect through (list's PLAIN column and the plain-names check agree),
// and a state no listing gives runs never.
func TestEntryRuns(t *testing.T) {
	tests := []struct {
		state string
		want  bool
	}{
		{"running", true},
		{"idle", true},
		{"paused", false},
		{"in shutdown", false},
		{"shut off", false},
		{"crashed", false},
		{"pmsuspended", false},
		{"no state", false},
		{"gone", false},
		{"", false},
	}
	for _, tt := range tests {
		e := &Entry{Domain: target.Domain{State: tt.state}}
		if got := e.Runs(); got != tt.want {
			t.Errorf("Entry{State: %q}.Runs() = %v, want %v", tt.state, got, tt.want)
		}
	}
	for s, name := range stateNames {
		e := &Entry{Domain: target.Domain{State: name}}
		if want := checkRunning(&target.Domain{}, int32(s), 0) == nil; e.Runs() != want {
			t.Errorf("%q: Runs() = %v, checkRunning lets it through: %v", name, e.Runs(), want)
		}
	}
}

package lookup

import (
	"strconv"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// The domain states libvirt reports (virDomainState).
const (
	stateNone        = 0
	stateRunning     = 1
	stateBlocked     = 2 // running, waiting on a resource
	statePaused      = 3
	stateShutdown    = 4 // shutting down
	stateShutoff     = 5
	stateCrashed     = 6
	statePMSuspended = 7
)

// stateNames are virsh's words for the states (idle is blocked).
var stateNames = []string{"no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended"}

// runs is the rule for a domain a connect can reach: running, or blocked on
// a resource (virsh's idle). checkRunning and Entry.Runs apply it.
func runs(state int32) bool { return state == stateRunning || state == stateBlocked }

func stateName(s int32) string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state " + strconv.Itoa(int(s))
}

// pausedBy names the reasons libvirt gives for a paused domain
// (virDomainPausedReason, the index), as "paused by ..." reads them. A
// slice of strings is laid out by the linker; a map would be built at
// start-up, on the ProxyCommand path.
var pausedBy = []string{
	"an unknown cause", "the user", "a migration", "a save", "a core dump",
	"an I/O error", "its watchdog", "a snapshot restore", "its shutdown",
	"a snapshot", "its crash", "its start-up", "a post-copy migration",
	"a failed post-copy migration", "a failed API call",
}

// passingPause says whether a paused reason ends by itself: libvirt pauses
// the domain for a job (a migration into this host, a save, a dump, a
// snapshot, a start, a shutdown) and resumes or stops it when the job is
// done. --wait waits through these; a pause for any other reason (the
// user, an I/O error, a watchdog, ...) needs a person.
func passingPause(reason int32) bool {
	switch reason {
	case 2, 3, 4, 8, 9, 11:
		return true
	}
	return false
}

// virsh is a virsh command line on uri, to copy and paste.
func virsh(uri string, args ...string) string {
	return shquote.Join(append([]string{"virsh", "-c", uri}, args...)...)
}

// checkRunning returns nil when d, in state and reason (DomainGetState's
// answer), runs: running or blocked. Otherwise it returns the NotRunning
// failure naming the state and the command that gets it running; states a
// person must act on (paused by the user, crashed, pmsuspended) are marked
// Lasting, so that --wait reports them at once instead of waiting them out.
func checkRunning(d *target.Domain, state, reason int32) *failure.Error {
	name := stateName(state)
	start := "start it: " + virsh(d.URI, "start", d.Name)
	if runs(state) {
		return nil
	}
	var e *failure.Error
	switch state {
	case statePaused:
		by := "reason " + strconv.Itoa(int(reason))
		if reason >= 0 && int(reason) < len(pausedBy) {
			by = pausedBy[reason]
		}
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: paused by %s", d.Name, d.URI, by).
			WithHint("resume it: %s", virsh(d.URI, "resume", d.Name))
		e.Lasting = !passingPause(reason)
	case stateShutdown:
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: shutting down", d.Name, d.URI).
			WithHint("once it is shut off, %s", start)
	case stateShutoff:
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: shut off", d.Name, d.URI).
			WithHint("%s", start)
	case stateCrashed:
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: crashed", d.Name, d.URI).
			WithHint("restart it: %s && %s", virsh(d.URI, "destroy", d.Name), virsh(d.URI, "start", d.Name))
		e.Lasting = true
	case statePMSuspended:
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: pmsuspended (suspended by its guest)", d.Name, d.URI).
			WithHint("wake it: %s", virsh(d.URI, "dompmwakeup", d.Name))
		e.Lasting = true
	case stateNone:
		// A domain being set up has no state yet: it passes.
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: no state yet", d.Name, d.URI).
			WithHint("it is being started or changed; --wait waits for it")
	default:
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: %s", d.Name, d.URI, name).
			WithHint("see: %s", virsh(d.URI, "domstate", "--reason", d.Name))
		e.Lasting = true
	}
	return e
}

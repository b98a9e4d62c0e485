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

func stateName(s int32) string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state " + strconv.Itoa(int(s))
}

// pausedBy names the reasons libvirt gives for a paused domain
// (virDomainPausedReason), as "paused by ..." reads them.
var pausedBy = map[int32]string{
	0: "an unknown cause", 1: "the user", 2: "a migration", 3: "a save", 4: "a core dump",
	5: "an I/O error", 6: "its watchdog", 7: "a snapshot restore", 8: "its shutdown",
	9: "a snapshot", 10: "its crash", 11: "its start-up", 12: "a post-copy migration",
	13: "a failed post-copy migration", 14: "a failed API call",
}

// passingPause holds the paused reasons that end by themselves: libvirt
// pauses the domain for a job (a migration into this host, a save, a dump,
// a snapshot, a start, a shutdown) and resumes or stops it when the job is
// done. --wait waits through these; a pause for any other reason (the
// user, an I/O error, a watchdog, ...) needs a person.
var passingPause = map[int32]bool{2: true, 3: true, 4: true, 8: true, 9: true, 11: true}

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
	var e *failure.Error
	switch state {
	case stateRunning, stateBlocked:
		return nil
	case statePaused:
		by, ok := pausedBy[reason]
		if !ok {
			by = "reason " + strconv.Itoa(int(reason))
		}
		e = failure.New(failure.NotRunning, "domain %q on %s is not running: paused by %s", d.Name, d.URI, by).
			WithHint("resume it: %s", virsh(d.URI, "resume", d.Name))
		e.Lasting = !passingPause[reason]
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

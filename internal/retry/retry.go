// Package retry repeats an attempt to reach a guest while the failure is one
// that goes away by itself as a guest boots (--wait), with capped
// exponential backoff, until it succeeds or the wait is over.
package retry

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
)

// Backoff bounds: the first pause is short because an attempt is cheap (a few
// libvirt round trips and one connect) and a guest may be a moment away; the
// cap keeps the delay between the guest's sshd coming up and the login short.
const (
	FirstBackoff = 100 * time.Millisecond
	MaxBackoff   = time.Second
)

// Clock tells the time and sleeps. Tests pass a fake one, so that backoff
// is checked without real sleeps.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, whichever comes first, and
	// returns ctx's error in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Policy is how long to keep trying.
type Policy struct {
	Wait  time.Duration // the whole wait, from the first attempt
	Clock Clock         // nil: the real clock
	// Progress, when set, is told each failure that will be retried and
	// the pause before the next attempt (-v).
	Progress func(err error, pause, left time.Duration)
}

// Retryable reports whether err may go away by itself while a guest boots
// or its VM starts: the domain is not defined or not running yet, nothing
// accepts on the guest port yet (refused, reset, a multiplexer closing
// without a word), the guest's vsock does not answer yet, or the target's
// socket path or CID does not exist yet. A failure marked Lasting (a
// paused, crashed or pmsuspended domain) is not retried. Anything else (a bad host name,
// libvirt unreachable, no vsock device, a hung daemon, a socket that speaks
// something else) needs a person, and waiting would only hide it.
func Retryable(err error) bool {
	if fe := (*failure.Error)(nil); errors.As(err, &fe) && fe.Lasting {
		return false
	}
	switch failure.ClassOf(err) {
	case failure.NotFound, failure.NotRunning, failure.NotListening, failure.NotReady:
		return true
	case failure.NoTarget:
		return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENODEV)
	}
	return false
}

// Do runs attempt until it succeeds, fails in a way that is not Retryable,
// or p.Wait is over; then it returns nil, that failure, or the last
// retryable failure (with its class, so the exit code says what was still
// wrong at the end). ctx should end when the wait does: an attempt cut short
// by it is not reported in place of the failure seen before.
func (p Policy) Do(ctx context.Context, attempt func(context.Context) error) error {
	clock := p.Clock
	if clock == nil {
		clock = realClock{}
	}
	until := clock.Now().Add(p.Wait)
	pause := FirstBackoff
	var last error
	for {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if !Retryable(err) {
			if last != nil && ctx.Err() != nil {
				return p.gaveUp(last) // cut short by the end of the wait
			}
			return err
		}
		last = err
		left := until.Sub(clock.Now())
		if left <= 0 {
			return p.gaveUp(last)
		}
		pause = min(pause, left)
		if p.Progress != nil {
			p.Progress(err, pause, left)
		}
		if clock.Sleep(ctx, pause) != nil || !clock.Now().Before(until) {
			return p.gaveUp(last)
		}
		pause = min(2*pause, MaxBackoff)
	}
}

// gaveUp keeps last's class and says how long it was tried.
func (p Policy) gaveUp(last error) error {
	return &failure.Error{Class: failure.ClassOf(last), Msg: fmt.Sprintf("still failing after --wait %v", p.Wait), Err: last}
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

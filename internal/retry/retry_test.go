package retry

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{failure.New(failure.NotFound, "no domain"), true},
		{failure.New(failure.NotRunning, "not running"), true},
		{&failure.Error{Class: failure.NotRunning, Msg: "paused by the user", Lasting: true}, false},
		{fmt.Errorf("wrapped: %w", &failure.Error{Class: failure.NotRunning, Msg: "crashed", Lasting: true}), false},
		{failure.New(failure.NotListening, "refused or reset or mux EOF"), true},
		{failure.New(failure.NotReady, "vsock timed out"), true},
		{failure.Wrap(failure.NoTarget, syscall.ENOENT, "no socket at /x"), true},
		{failure.Wrap(failure.NoTarget, syscall.ENODEV, "no VM holds vsock CID 42"), true},
		{failure.New(failure.NoTarget, "does not speak hybrid vsock"), false},
		{failure.Wrap(failure.NoTarget, syscall.EAFNOSUPPORT, "no vsock support"), false},
		{failure.New(failure.Usage, "bad host"), false},
		{failure.New(failure.Unreachable, "no libvirt"), false},
		{failure.New(failure.NoVsock, "no vsock"), false},
		{failure.New(failure.NoCID, "no cid"), false},
		{failure.New(failure.Timeout, "hung daemon"), false},
		{failure.New(failure.HandOff, "fd"), false},
		{errors.New("unclassified"), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// fakeClock advances only when slept on, and records every pause.
type fakeClock struct {
	now    time.Time
	pauses []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.pauses = append(c.pauses, d)
	c.now = c.now.Add(d)
	return nil
}

// attempts returns an attempt func that fails with errs in turn, then
// succeeds, and counts its calls. Each attempt takes cost on the clock.
func attempts(c *fakeClock, cost time.Duration, errs ...error) (func(context.Context) error, *int) {
	n := 0
	return func(context.Context) error {
		c.now = c.now.Add(cost)
		n++
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}, &n
}

func repeat(err error, n int) []error {
	var errs []error
	for range n {
		errs = append(errs, err)
	}
	return errs
}

func ms(v ...int) []time.Duration {
	var d []time.Duration
	for _, x := range v {
		d = append(d, time.Duration(x)*time.Millisecond)
	}
	return d
}

func TestDo(t *testing.T) {
	notRunning := failure.New(failure.NotRunning, `domain "vm" is not running`)
	refused := failure.New(failure.NotListening, "nothing listening")
	usage := failure.New(failure.Usage, "bad")
	tests := []struct {
		name     string
		wait     time.Duration
		cost     time.Duration
		errs     []error
		calls    int
		pauses   []time.Duration
		class    failure.Class // 0 = success
		giveUpOn bool          // the error says how long it waited
	}{
		{"first try", time.Minute, 0, nil, 1, nil, 0, false},
		{"booting, then up", time.Minute, 0, []error{notRunning, notRunning, refused, refused}, 5, ms(100, 200, 400, 800), 0, false},
		{"backoff is capped", time.Minute, 0, repeat(refused, 7), 8, ms(100, 200, 400, 800, 1000, 1000, 1000), 0, false},
		{"not retryable: at once", time.Minute, 0, []error{usage}, 1, nil, failure.Usage, false},
		{"retryable, then not", time.Minute, 0, []error{refused, usage}, 2, ms(100), failure.Usage, false},
		// 2 s of wait: pauses 100+200+400+800 = 1.5 s, then the last pause is
		// cut to the 0.5 s left and no attempt is made at the deadline.
		{"wait ends", 2 * time.Second, 0, repeat(notRunning, 100), 5, ms(100, 200, 400, 800, 500), failure.NotRunning, true},
		// Attempts that take time use up the wait too.
		{"slow attempts", time.Second, 400 * time.Millisecond, repeat(refused, 100), 2, ms(100, 100), failure.NotListening, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: time.Unix(1e9, 0)}
			attempt, n := attempts(c, tt.cost, tt.errs...)
			var progress int
			p := Policy{Wait: tt.wait, Clock: c, Progress: func(error, time.Duration, time.Duration) { progress++ }}
			err := p.Do(context.Background(), attempt)
			if *n != tt.calls {
				t.Errorf("%d attempts, want %d", *n, tt.calls)
			}
			if !reflect.DeepEqual(c.pauses, tt.pauses) {
				t.Errorf("pauses %v, want %v", c.pauses, tt.pauses)
			}
			if progress != len(tt.pauses) {
				t.Errorf("progress told %d times, want once per pause (%d)", progress, len(tt.pauses))
			}
			if tt.class == 0 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			if failure.ClassOf(err) != tt.class {
				t.Fatalf("err = %v (class %d), want class %d", err, failure.ClassOf(err), tt.class)
			}
			if got := strings.Contains(err.Error(), "still failing after --wait"); got != tt.giveUpOn {
				t.Errorf("err = %q; mentions the wait: %v, want %v", err, got, tt.giveUpOn)
			}
		})
	}
}

// TestDoCutShort: an attempt cut off by the end of the wait (a timeout
// class) does not hide what was wrong before it.
func TestDoCutShort(t *testing.T) {
	c := &fakeClock{now: time.Unix(1e9, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	notRunning := failure.New(failure.NotRunning, "not running")
	calls := 0
	err := Policy{Wait: time.Minute, Clock: c}.Do(ctx, func(context.Context) error {
		calls++
		if calls == 1 {
			return notRunning
		}
		cancel() // the wait ends during the second attempt
		return failure.New(failure.Timeout, "timed out")
	})
	if failure.ClassOf(err) != failure.NotRunning || !errors.Is(err, notRunning) {
		t.Fatalf("got %v (class %d), want the earlier not running", err, failure.ClassOf(err))
	}
	// A timeout with nothing seen before is reported as it is.
	err = Policy{Wait: time.Minute, Clock: c}.Do(ctx, func(context.Context) error {
		return failure.New(failure.Timeout, "timed out")
	})
	if failure.ClassOf(err) != failure.Timeout {
		t.Fatalf("got %v, want the timeout", err)
	}
}

// TestDoRealClock: with the real clock, a wait of a few milliseconds ends
// with the last failure; a cancelled context stops the pause.
func TestDoRealClock(t *testing.T) {
	err := Policy{Wait: 5 * time.Millisecond}.Do(context.Background(), func(context.Context) error {
		return failure.New(failure.NotReady, "not ready")
	})
	if failure.ClassOf(err) != failure.NotReady {
		t.Fatalf("got %v, want not ready", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (realClock{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context: %v", err)
	}
}

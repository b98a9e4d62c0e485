package route

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/retry"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/verbose"
)

// Try takes the road for spec and port as far as reach (Go) once, bounded
// by timeout (--timeout); with wait > 0 (--wait) it tries again while the
// guest may still be booting, each try bounded by timeout and all of them
// by wait.
func (r *Road) Try(timeout, wait time.Duration, spec host.Spec, port uint32, reach Reach) (t target.Target, conn *os.File, err error) {
	err = attempt(timeout, wait, r.Logf, func(ctx context.Context) error {
		var err error
		t, conn, err = r.Go(ctx, spec, port, reach, Observer{})
		return err
	})
	return t, conn, err
}

// attempt runs try once, bounded by timeout; with wait > 0 it retries try
// while the guest may still be booting, each try bounded by timeout and
// all of them by wait. logf is told each retry.
func attempt(timeout, wait time.Duration, logf verbose.Logf, try func(context.Context) error) error {
	if wait == 0 {
		ctx, cancel := WithTimeout(timeout)
		defer cancel()
		return try(ctx)
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), wait,
		fmt.Errorf("--wait %v ended", wait))
	defer cancel()
	p := retry.Policy{Wait: wait, Progress: func(err error, pause, left time.Duration) {
		logf.Printf("not yet: %v; trying again in %v (%v left)", err, pause.Round(time.Millisecond), left.Round(time.Millisecond))
	}}
	return p.Do(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("--timeout %v expired", timeout))
		defer cancel()
		return try(ctx)
	})
}

// WithTimeout bounds one command's lookup and connect by --timeout, and
// names it as the cause when it expires.
func WithTimeout(timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(context.Background(), timeout,
		fmt.Errorf("--timeout %v expired", timeout))
}

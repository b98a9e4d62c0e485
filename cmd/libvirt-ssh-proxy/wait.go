package main

import (
	"context"
	"fmt"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/retry"
)

// attempt runs try once, bounded by --timeout; with --wait it retries try
// while the guest may still be booting, each try bounded by --timeout and
// all of them by --wait.
func (c *invocation) attempt(try func(context.Context) error) error {
	if c.wait == 0 {
		ctx, cancel := c.context()
		defer cancel()
		return try(ctx)
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), c.wait,
		fmt.Errorf("--wait %v ended", c.wait))
	defer cancel()
	p := retry.Policy{Wait: c.wait, Progress: func(err error, pause, left time.Duration) {
		c.logf("not yet: %v; trying again in %v (%v left)", err, pause.Round(time.Millisecond), left.Round(time.Millisecond))
	}}
	return p.Do(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, fmt.Errorf("--timeout %v expired", c.timeout))
		defer cancel()
		return try(ctx)
	})
}

package main

import (
	"context"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
)

// resolve prints what HOST resolves to and connects to nothing. With --wait
// it waits until HOST resolves (the domain exists and runs). With --json a
// failure prints an object too, and its line on stderr as always.
func resolve(c *invocation) int {
	r := c.resolver()
	var t lookup.Target
	err := c.attempt(func(ctx context.Context) error {
		var err error
		t, err = c.target(ctx, r)
		if err != nil && !c.ipFallback(t, err) {
			return err
		}
		if c.noIPFallback || t.Domain == nil {
			return nil
		}
		// What the IP fallback would try: the target itself when vsock
		// is unusable, candidates behind vsock otherwise.
		tcp := c.addresses(ctx, t)
		switch {
		case err == nil:
			t.Addrs = tcp.Addrs
		case len(tcp.Addrs) == 0:
			return fallbackFailed(err, c.errNoAddress())
		default:
			t = tcp
		}
		return nil
	})
	if err != nil {
		if c.json {
			printFailure(c.out, c.host, err)
		}
		return c.fail(err)
	}
	if err := printTarget(c.out, c.host, t, c.json); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return 0
}

package main

import "github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"

// resolve prints what HOST resolves to and connects to nothing.
func resolve(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	r := c.resolver()
	r.State = true
	t, err := c.target(ctx, r)
	if err != nil {
		return c.fail(err)
	}
	if err := printTarget(c.out, c.host, t, c.json); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return 0
}

package main

import "github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"

// resolve prints what HOST resolves to and connects to nothing.
func resolve(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	r := c.resolver()
	r.State = true
	t, err := c.target(ctx, r)
	if err != nil && !c.ipFallback(t, err) {
		return c.fail(err)
	}
	if !c.noIPFallback && t.Domain != nil {
		// What the IP fallback would try: the target itself when vsock
		// is unusable, candidates behind vsock otherwise.
		tcp := c.addresses(ctx, t)
		switch {
		case err == nil:
			t.Addrs = tcp.Addrs
		case len(tcp.Addrs) == 0:
			return c.fail(fallbackFailed(err, c.errNoAddress()))
		default:
			t = tcp
		}
	}
	if err := printTarget(c.out, c.host, t, c.json); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return 0
}

package main

import (
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/resolution"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// resolve prints what HOST resolves to, and what the IP fallback would
// try, and connects to nothing. With --wait it waits until HOST resolves
// (the domain exists and runs). With --json a failure prints an object
// too, and its line on stderr as always.
func resolve(c *invocation) int {
	t, err := c.resolveHost()
	if err != nil {
		if c.json {
			resolution.WriteFailure(c.out, c.host, err)
		}
		return c.fail(err)
	}
	return c.printed(resolution.Write(c.out, c.host, t, c.json))
}

// resolveHost takes the road for HOST as far as the target and the
// fallback's candidates (route.Resolve).
func (c *invocation) resolveHost() (target.Target, error) {
	r := c.road()
	spec, err := r.Spec(c.host)
	if err != nil {
		return target.Target{}, err
	}
	port, err := c.port()
	if err != nil {
		return target.Target{}, err
	}
	t, _, err := c.try(r, spec, port, route.Resolve)
	return t, err
}

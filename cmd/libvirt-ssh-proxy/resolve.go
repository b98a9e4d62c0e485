package main

import (
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/resolution"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
)

// resolve prints what HOST resolves to, and what the IP fallback would
// try, and connects to nothing. With --wait it waits until HOST resolves
// (the domain exists and runs). With --json a failure prints an object
// too, and its line on stderr as always.
func resolve(c *invocation) int {
	t, _, err := c.try(c.road(), route.Resolve)
	if err != nil {
		if c.json {
			resolution.WriteFailure(c.out, c.host, err)
		}
		return c.fail(err)
	}
	return c.printed(resolution.Write(c.out, c.host, t, c.json))
}

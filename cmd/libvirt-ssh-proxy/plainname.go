package main

import "github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"

// plainName is the opt-in drop-in's check (its Match exec): exit 0 when
// ssh should hand NAME to the helper, 1 when not, 2 for a bad command
// line. It is silent but for -v: ssh runs it for every host, and its
// stderr is the user's terminal.
func plainName(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	m, err := plainname.Rules{Resolver: c.resolver(), LeaseDir: c.leaseDir}.Check(ctx, c.host, c.arg(1), 22)
	if m.Rule == 0 {
		c.logf("no match: %v", err)
		return 1
	}
	c.logf("%v", m)
	return 0
}

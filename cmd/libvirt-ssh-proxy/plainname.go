package main

import (
	"context"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
)

// plainName is the opt-in drop-in's check (its Match exec): exit 0 when
// ssh should hand NAME to the helper, 1 when not, 2 for a bad command
// line. It is silent but for -v: ssh runs it for every host, and its
// stderr is the user's terminal.
func plainName(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	sshHost := ""
	if len(c.args) > 1 {
		sshHost = c.args[1]
	}
	err := plainname.Eligible(c.host, sshHost)
	var m plainname.Match
	if err == nil {
		m, err = plainname.Resolve(ctx, c.resolver(), c.leaseDir, c.host, 22, time.Now())
	}
	if m.Rule == 0 {
		c.logf("no match: %v", err)
		return 1
	}
	c.logf("matched by %s: domain %q on %s", m.Rule, m.Target.Domain.Name, m.Target.Domain.URI)
	return 0
}

// plainTarget resolves HOST as a plain name (--plain, the ProxyCommand the
// opt-in drop-in runs) by the rules the check applied.
func (c *invocation) plainTarget(ctx context.Context, r *lookup.Resolver, port uint32) (lookup.Target, error) {
	m, err := plainname.Resolve(ctx, r, c.leaseDir, c.host, port, time.Now())
	if m.Rule == 0 && err == nil {
		err = failure.New(failure.Internal, "no rule matched and no error said why")
	}
	if d := m.Target.Domain; d != nil && d.Name != c.host {
		c.domain = d.Name
	}
	return m.Target, err
}

package main

import (
	"context"
	"os"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

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
	c.logMatch(m)
	return 0
}

// logMatch tells -v which rule matched HOST, in one form for the check and
// the ProxyCommand it runs.
func (c *invocation) logMatch(m plainname.Match) {
	c.logf("matched by %s: domain %q on %s", m.Rule, m.Target.Domain.Name, m.Target.Domain.URI)
}

// goRoad takes r for spec as far as reach. With --plain (the ProxyCommand
// the opt-in drop-in runs, and resolve) the plain-names rules, which the
// check applied, make the lookup, and the road goes on from their answer;
// a name no rule matches ends it there.
func (c *invocation) goRoad(ctx context.Context, r *route.Road, spec host.Spec, port uint32, reach route.Reach) (target.Target, *os.File, error) {
	if !c.plain {
		return r.Go(ctx, spec, port, reach, route.Observer{})
	}
	m, err := plainname.Rules{Resolver: &r.Resolver, LeaseDir: r.LeaseDir}.Resolve(ctx, c.host, port)
	if m.Rule == 0 {
		return target.Target{}, nil, err
	}
	c.logMatch(m)
	return r.From(ctx, m.Target, err, reach, route.Observer{})
}

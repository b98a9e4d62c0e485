package main

import (
	"context"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
)

// plainName is the opt-in drop-in's check (its Match exec): exit 0 when
// ssh should hand NAME to the helper, 1 when not, 2 for a bad command
// line. It is silent but for -v: ssh runs it for every host, and its
// stderr is the user's terminal.
func plainName(c *invocation) int {
	sshHost := ""
	if len(c.args) > 1 {
		sshHost = c.args[1]
	}
	err := plainname.Eligible(c.host, sshHost)
	var m plainname.Match
	if err == nil {
		m, err = c.plainMatch()
	}
	if m.Rule == 0 {
		c.logf("no match: %v", err)
		return 1
	}
	c.logf("matched by %s: domain %q on %s", m.Rule, m.Target.Domain.Name, m.Target.Domain.URI)
	return 0
}

// plainSpec is the host spec HOST means as a plain name (--plain: the
// ProxyCommand the opt-in drop-in runs, and resolve), by the rules the
// check applied; the road then resolves it as any qemu form.
func (c *invocation) plainSpec() (host.Spec, error) {
	m, err := c.plainMatch()
	if m.Rule == 0 {
		return host.Spec{}, err
	}
	if d := m.Target.Domain; d.Name != c.host {
		c.domain = d.Name
	}
	return m.Spec, nil
}

// plainMatch resolves HOST as a plain name within --timeout, and with
// --wait until a rule matches (a guest that boots, a lease that comes).
// A match whose domain has no usable vsock is a match: the road reports
// and falls back from that.
func (c *invocation) plainMatch() (m plainname.Match, err error) {
	err = route.Attempt(c.timeout, c.wait, c.logf, func(ctx context.Context) error {
		var err error
		if m, err = plainname.Resolve(ctx, c.resolver(), c.leaseDir, c.host, 22, time.Now()); m.Rule != 0 {
			return nil
		}
		return err
	})
	return m, err
}

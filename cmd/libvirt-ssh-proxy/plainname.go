package main

import (
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
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

// plainMatch resolves HOST as a plain name within --timeout.
func (c *invocation) plainMatch() (plainname.Match, error) {
	ctx, cancel := c.context()
	defer cancel()
	return plainname.Resolve(ctx, c.resolver(), c.leaseDir, c.host, 22, time.Now())
}

package main

import (
	"cmp"
	"sync"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/remote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
)

// proxy is the ProxyCommand form: the whole road from HOST to the guest's
// PORT, then the connection goes to ssh — the fd itself when ssh asked for
// it, else a relay. A host on another hypervisor is reached with ssh.
func proxy(c *invocation) int {
	r := c.road()
	// The libvirt connection closes while the guest is dialed.
	var closing sync.WaitGroup
	r.Closing = &closing
	spec, perr := r.Spec(c.host)
	if perr == nil {
		hop, err := r.Hop(spec)
		if err != nil {
			return c.fail(err)
		}
		if hop != nil {
			return c.remote(*hop)
		}
	}
	if c.remoteCommand != "" || c.sshConfig != "" {
		return c.fail(failure.New(failure.Usage, "--remote-command and --ssh-config go with a host on another hypervisor (HV/FORM, or a --connect URI with a host)"))
	}
	if perr != nil {
		return c.fail(perr)
	}
	_, conn, err := c.try(r, route.Connect)
	closing.Wait()
	if err != nil {
		return c.fail(err)
	}
	defer conn.Close()
	h := pipe.Handoff{Stdin: c.stdin, Stdout: c.stdout, FD: c.passFD(), Logf: c.logf}
	return c.exit(h.Serve(conn))
}

// remote runs the helper on h's hypervisor over ssh, and hands the session
// to our ssh.
func (c *invocation) remote(h remote.Hop) int {
	if _, err := c.port(); err != nil {
		return c.fail(err)
	}
	port := cmp.Or(c.arg(1), "22") // as typed: the helper there parses it
	s := remote.Session{Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr, FD: c.passFD(), Logf: c.logf}
	return c.exit(s.Run(h.HV, remote.Argv(c.sshConfig, c.remoteCommand, h, port)))
}

// passFD says whether to hand ssh the connection itself (pipe.WantFD).
func (c *invocation) passFD() bool {
	return pipe.WantFD(c.stdin, c.fdChannel, c.fdpass, c.relay, c.logf)
}

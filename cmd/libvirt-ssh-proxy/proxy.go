package main

import (
	"cmp"
	"context"
	"os"
	"sync"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/remote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// proxy is the ProxyCommand form: the whole road from HOST to the guest's
// PORT, then the connection goes to ssh — the fd itself when ssh asked for
// it, else a relay. A host on another hypervisor is reached with ssh.
func proxy(c *invocation) int {
	r := c.road()
	// The libvirt connection closes while the guest is dialed.
	var closing sync.WaitGroup
	r.Closing = &closing
	spec, perr := c.spec()
	if perr == nil && !c.plain { // a plain name is never another host's
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
	port, err := c.port()
	if err != nil {
		return c.fail(err)
	}
	var (
		conn *os.File
		t    target.Target
	)
	err = route.Attempt(c.timeout, c.wait, c.logf, func(ctx context.Context) error {
		var err error
		t, conn, err = c.goRoad(ctx, r, spec, port, route.Connect)
		return err
	})
	closing.Wait()
	c.noteDomain(spec, t)
	if err != nil {
		return c.fail(err)
	}
	defer conn.Close()
	h := pipe.Handoff{Stdin: c.stdin, Stdout: c.stdout, FD: c.passFD(), Logf: c.logf}
	if err := h.Serve(conn); err != nil {
		return c.fail(err)
	}
	return 0
}

// remote runs the helper on h's hypervisor over ssh, and hands the session
// to our ssh.
func (c *invocation) remote(h remote.Hop) int {
	port := "22"
	if len(c.args) > 1 {
		if _, err := route.Port(c.args[1]); err != nil {
			return c.fail(err)
		}
		port = c.args[1]
	}
	helper := cmp.Or(c.remoteCommand, remote.DefaultHelper())
	s := remote.Session{Stdin: c.stdin, Stdout: c.stdout, Stderr: c.stderr, FD: c.passFD(), Logf: c.logf}
	if err := s.Run(h.HV, remote.Argv(c.sshConfig, helper, h, port)); err != nil {
		return c.fail(err)
	}
	return 0
}

// passFD says whether to hand ssh the connection itself (pipe.WantFD).
func (c *invocation) passFD() bool {
	return pipe.WantFD(c.stdin, c.fdChannel, c.fdpass, c.relay, c.logf)
}

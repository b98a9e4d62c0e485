package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
)

// proxy is the ProxyCommand form: resolve HOST, connect to PORT, and hand
// the connection to ssh — the fd itself when ssh asked for it, else a relay.
func proxy(c *invocation) int {
	r := c.resolver()
	// The libvirt connection closes while the guest is dialed.
	var closing sync.WaitGroup
	r.Closing = &closing
	spec, err := host.Parse(c.host)
	switch {
	case err == nil && spec.Kind == host.Remote:
		return remote(c, hvHop(spec))
	case err == nil && spec.Kind == host.Domain:
		// A CID means something only on the host that runs the guest: a
		// domain on another host is reached over ssh, from there.
		h, err := r.Hop(spec.Scope, spec.Domain)
		if err != nil {
			return c.fail(err)
		}
		if h != nil {
			return remote(c, uriHop(h, spec))
		}
	}
	if c.remoteCommand != "" || c.sshConfig != "" {
		return c.fail(failure.New(failure.Usage, "--remote-command and --ssh-config go with a host on another hypervisor (HV/FORM, or a --connect URI with a host)"))
	}
	var conn *os.File
	err = c.attempt(func(ctx context.Context) error {
		t, err := c.target(ctx, r)
		if err == nil {
			conn, err = c.dialer.Dial(ctx, t)
		}
		if err != nil && c.ipFallback(t, err) {
			conn, err = c.dialIP(ctx, t, err)
		}
		return err
	})
	closing.Wait()
	if err != nil {
		return c.fail(err)
	}
	defer conn.Close()
	if c.passFD() {
		c.logf("passing the connection to ssh")
		if err := pipe.SendFD(c.stdout, conn); err != nil {
			return c.fail(failure.Wrap(failure.HandOff, err, "pass the connection to ssh").
				WithHint("stdout must be ssh's socket: set ProxyUseFdpass yes, or use --relay"))
		}
		return 0
	}
	c.logf("relaying between stdin/stdout and the connection")
	// A reader that goes away must end the relay with an error, not kill
	// the process silently.
	signal.Ignore(syscall.SIGPIPE)
	// SIGTERM ends the relay, which returns only once it has put back the
	// flags of shared sockets (an exit from the signal handler would leave
	// them non-blocking). Under ssh, which never sends it (ssh ends its
	// ProxyCommand with SIGHUP), it comes from someone else (kill, a
	// shutdown) and the session's loss gets a line saying so. Any other
	// client that runs us sends it itself to end a finished session
	// (paramiko does on every close): a quiet exit 0. SIGHUP keeps its
	// quiet default: ssh sends it whenever ssh exits, when there is
	// nothing left to report.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := pipe.RelayContext(ctx, c.stdin, c.stdout, conn); err != nil {
		if errors.Is(err, pipe.ErrStopped) {
			if !pipe.ProcessIsSSH(os.Getppid()) {
				c.logf("stopped by SIGTERM, not under ssh: the client ended the session")
				return 0
			}
			return c.fail(failure.New(failure.Relay, "relay stopped by SIGTERM"))
		}
		// ssh exits by closing both pipes, stdout's reader first: a broken
		// pipe with stdin closed too is the end of the session, not a loss.
		if errors.Is(err, syscall.EPIPE) && c.clientGone() {
			c.logf("ssh closed both pipes: %v", err)
			return 0
		}
		return c.fail(failure.Wrap(failure.Relay, err, "connection lost"))
	}
	return 0
}

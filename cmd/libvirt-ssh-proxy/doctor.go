package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/doctor"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
)

// diagnose is the doctor command: it checks every step from `ssh HOST` to the guest's sshd, one line
// per check on stdout, and exits with the class of the first failure.
func diagnose(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	d := doctor.Doctor{
		Host: c.host,
		Port: c.arg(1),
		SSHG: func(ctx context.Context, host string) (sshconfig.Result, error) {
			return sshconfig.Effective(ctx, "ssh", c.sshConfig, host)
		},
		SystemConfig: c.systemConfig,
		ParseHelper:  c.parseHelper,
		Road:         *c.road(),
	}
	d.Self, _ = os.Executable() // without it, the helper is known by name only
	checks := d.Run(ctx)
	for _, ch := range checks {
		fmt.Fprintln(c.out, ch)
	}
	return c.exit(doctor.Failed(checks))
}

// parseHelper reads the words of a ProxyCommand after the program as this
// helper's command line: the ProxyCommand form, HOST PORT.
func parseHelper(args []string) (doctor.Helper, error) {
	o, err := parseArgs(args)
	if err != nil {
		return doctor.Helper{}, err
	}
	if o.command != "" || o.help || o.version {
		return doctor.Helper{}, errors.New("not the ProxyCommand form (HOST PORT)")
	}
	return doctor.Helper{Host: o.args[0], Port: o.args[1], URIs: o.connect, NoIPFallback: o.noIPFallback, LeaseDir: o.leaseDir, Plain: o.plain}, nil
}

package main

import (
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/listing"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
)

// list prints every domain on the searched URIs: a table for people, JSON
// for scripts. URIs without a daemon are skipped; a URI that fails makes
// the command fail after printing what the others gave.
func list(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	r := c.resolver()
	ls, err := r.List(ctx, host.Any)
	rows := listing.Rows(&ls, r, plainname.ReadHosts(plainname.HostsFile))
	var perr error
	if err == nil || len(rows) > 0 { // else nothing to show: the failure line says it all
		perr = listing.Write(c.out, rows, c.json)
	}
	if err != nil {
		return c.fail(err)
	}
	return c.printed(perr)
}

package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/printable"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

// sshConfig prints Host blocks for ~/.ssh/config, one short alias per
// domain, like `vagrant ssh-config`: every running domain with a vsock CID
// on the searched URIs, or the domains HOST... name. A HOST that fails does
// not cost the others their blocks: it gets its line on stderr, a comment
// in its place, and the exit code is that of the first HOST that failed.
func sshConfig(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "find the path of this program for the ProxyCommand"))
	}
	r := c.resolver()
	// Each domain's listing, by URI: the ProxyCommand must name the domain
	// in a way that reaches it on its URI (sshname.ProxyTarget).
	ls := r.Listings()
	var want []sshname.Wanted
	code := 0
	if len(c.args) == 0 {
		if want, err = sshname.Reachable(ctx, ls); err != nil {
			return c.fail(err)
		}
	} else {
		want, code = c.named(ctx, r, ls)
		if !slices.ContainsFunc(want, func(w sshname.Wanted) bool { return w.Dom != nil }) {
			return code // every HOST failed: their lines say it all, as list's do
		}
	}
	target := func(e *lookup.Entry) string { return sshname.ProxyTarget(ls.Of(e.URI), e) }
	// r.URIs: --connect or LIBVIRT_SSH_PROXY_CONNECT; the ProxyCommand then
	// says --connect, which wins over an environment ssh may not have.
	blocks := sshname.Blocks(want, exe, len(r.URIs) > 0, target)
	if err := sshconfig.Write(c.out, blocks); err != nil {
		return c.printed(err)
	}
	return code
}

// named looks up each HOST argument in order. A HOST that fails is
// reported as the helper would report it (c.fail, its line on stderr) and
// left out with a comment saying why; the code returned is the first
// failure's exit code, 0 when none failed.
func (c *invocation) named(ctx context.Context, r *lookup.Resolver, ls *lookup.Listings) ([]sshname.Wanted, int) {
	var want []sshname.Wanted
	code := 0
	for _, h := range c.args {
		c.host, c.domain = h, ""
		e, err := c.namedDomain(ctx, r, ls)
		if err != nil {
			code = cmp.Or(code, c.fail(err)) // the first failure's
			// printable: a comment must stay one line of the config.
			want = append(want, sshname.Wanted{LeftOut: printable.String(fmt.Sprintf("%s left out: %v", c.who(), err))})
			continue
		}
		want = append(want, sshname.Wanted{Dom: e})
	}
	c.host, c.domain = "", ""
	return want, code
}

// namedDomain resolves HOST as the helper would, so a HOST that the helper
// would refuse fails here with the same message, and finds its domain in
// its URI's listing.
func (c *invocation) namedDomain(ctx context.Context, r *lookup.Resolver, ls *lookup.Listings) (*lookup.Entry, error) {
	spec, err := route.Parse(c.host) // ssh-config takes no --plain
	if err != nil {
		return nil, err
	}
	t, err := r.Resolve(ctx, spec, 22)
	c.noteDomain(spec, t)
	if err != nil {
		return nil, err
	}
	return sshname.Entry(ctx, ls, t)
}

package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

// sshConfig prints Host blocks for ~/.ssh/config, one short alias per
// domain, like `vagrant ssh-config`: every running domain with a vsock CID
// on the searched URIs, or the domains HOST... name.
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
	listings := map[string]*lookup.Listing{}
	var doms []*lookup.Entry
	if len(c.args) == 0 {
		doms, err = reachable(ctx, r, listings)
	} else {
		doms, err = c.named(ctx, r, listings)
	}
	if err != nil {
		return c.fail(err)
	}
	c.host = ""
	target := func(e *lookup.Entry) string { return sshname.ProxyTarget(listings[e.URI], e) }
	// r.URIs: --connect or LIBVIRT_SSH_PROXY_CONNECT; the ProxyCommand then
	// says --connect, which wins over an environment ssh may not have.
	blocks := hostBlocks(doms, exe, len(r.URIs) > 0, target)
	if err := sshconfig.Write(c.out, blocks); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return 0
}

// reachable returns every running domain with a vsock CID on the URIs r
// searches.
func reachable(ctx context.Context, r *lookup.Resolver, listings map[string]*lookup.Listing) ([]*lookup.Entry, error) {
	ls, err := r.List(ctx, host.Any)
	if err != nil {
		return nil, err
	}
	var doms []*lookup.Entry
	for i := range ls.Entries {
		if e := &ls.Entries[i]; e.Active() && e.VSockErr == nil {
			doms = append(doms, e)
			listings[e.URI] = &ls
		}
	}
	return doms, nil
}

// named resolves each HOST argument as the helper would, so a HOST that
// the helper would refuse fails here with the same message, and lists its
// domain's URI. c.host is left naming the HOST that failed.
func (c *invocation) named(ctx context.Context, r *lookup.Resolver, listings map[string]*lookup.Listing) ([]*lookup.Entry, error) {
	var doms []*lookup.Entry
	for _, h := range c.args {
		c.host = h
		spec, err := host.Parse(h)
		if err != nil {
			return nil, failure.Wrap(failure.Usage, err, "bad host name")
		}
		t, err := r.Resolve(ctx, spec, 22)
		if err != nil {
			return nil, err
		}
		if t.Domain == nil {
			return nil, failure.New(failure.Usage, "names no libvirt domain").
				WithHint("ssh-config writes aliases for qemu/NAME hosts; vsock/ and unix/ names need none")
		}
		ls := listings[t.Domain.URI]
		if ls == nil {
			one := *r
			one.URIs = []string{t.Domain.URI}
			l, err := one.List(ctx, host.Any)
			if err != nil {
				return nil, err
			}
			ls = &l
			listings[t.Domain.URI] = ls
		}
		var e *lookup.Entry
		for i := range ls.Entries {
			if ls.Entries[i].UUID == t.Domain.UUID {
				e = &ls.Entries[i]
			}
		}
		if e == nil {
			return nil, failure.New(failure.NotFound, "domain %q disappeared from %s while listing it", t.Domain.Name, t.Domain.URI)
		}
		doms = append(doms, e)
	}
	return doms, nil
}

// hostBlocks makes one Host block per domain, in order. The ProxyCommand
// searches only the domain's URI, for what target says reaches it there
// (its UUID, so the alias survives renames, unless a domain is named like
// it); HostKeyAlias is the UUID, so known_hosts survives renames and CID
// changes. A domain whose alias is empty or taken, or that nothing reaches,
// gets a comment instead.
func hostBlocks(doms []*lookup.Entry, exe string, connect bool, target func(*lookup.Entry) string) []sshconfig.Block {
	blocks := []sshconfig.Block{{Comments: []string{
		"Written by libvirt-ssh-proxy ssh-config: paste into ~/.ssh/config, or save and Include it.",
	}}}
	seen := map[string]string{} // alias -> domain it went to
	done := map[string]bool{}   // URI and UUID already written
	for _, d := range doms {
		if done[d.URI+" "+d.UUID] {
			continue
		}
		done[d.URI+" "+d.UUID] = true
		about := fmt.Sprintf("domain %q on %s, uuid %s, vsock CID %d", d.Name, d.URI, d.UUID, d.CID)
		alias := sshname.Alias(d.Name)
		id := target(d)
		var b sshconfig.Block
		switch {
		case id == "":
			b.Comments = []string{about + ": skipped, neither its UUID nor its name reaches it on its URI"}
		case alias == "":
			b.Comments = []string{about + ": skipped, its name has nothing an alias can keep; reach it as qemu/" + d.UUID}
		case seen[alias] != "":
			b.Comments = []string{fmt.Sprintf("%s: skipped, alias %s is taken by %s; reach it as qemu/%s", about, alias, seen[alias], d.UUID)}
		default:
			seen[alias] = fmt.Sprintf("%q on %s", d.Name, d.URI)
			b.Comments = []string{about}
			if alias != d.Name {
				b.Comments = append(b.Comments, fmt.Sprintf("alias %s: ssh_config or ssh would not take the name as it is", alias))
			}
			b.Host = alias
			b.Options = [][2]string{
				{"ProxyCommand", proxyCommand(exe, d.URI, id, connect)},
				{"ProxyUseFdpass", "yes"},
				{"CheckHostIP", "no"},
				{"HostKeyAlias", d.UUID},
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// proxyCommand runs this helper for domain id (a UUID or name) on uri:
// scoped to uri by the host form for the default URIs, else with --connect.
func proxyCommand(exe, uri, id string, connect bool) string {
	args := []string{sshconfig.QuoteArg(exe)}
	switch {
	case !connect && uri == libvirturi.SystemURI:
		args = append(args, sshconfig.QuoteArg("qemu:system/"+id))
	case !connect && uri == libvirturi.SessionURI:
		args = append(args, sshconfig.QuoteArg("qemu:session/"+id))
	default:
		args = append(args, "--connect", sshconfig.QuoteArg(uri), sshconfig.QuoteArg("qemu/"+id))
	}
	return strings.Join(append(args, "%p"), " ")
}

package main

import (
	"context"
	"fmt"
	"os"
	"slices"
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
	listings := map[string]*lookup.Listing{}
	var want []wanted
	code := 0
	if len(c.args) == 0 {
		if want, err = reachable(ctx, r, listings); err != nil {
			return c.fail(err)
		}
	} else {
		want, code = c.named(ctx, r, listings)
		if !slices.ContainsFunc(want, func(w wanted) bool { return w.dom != nil }) {
			return code // every HOST failed: their lines say it all, as list's do
		}
	}
	target := func(e *lookup.Entry) string { return sshname.ProxyTarget(listings[e.URI], e) }
	// r.URIs: --connect or LIBVIRT_SSH_PROXY_CONNECT; the ProxyCommand then
	// says --connect, which wins over an environment ssh may not have.
	blocks := hostBlocks(want, exe, len(r.URIs) > 0, target)
	if err := sshconfig.Write(c.out, blocks); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return code
}

// wanted is one place in ssh-config's output: a domain to write a Host
// block for, or, for a HOST that failed, the comment that stands in its
// place.
type wanted struct {
	dom     *lookup.Entry
	leftOut string
}

// reachable returns every running domain with a vsock CID on the URIs r
// searches.
func reachable(ctx context.Context, r *lookup.Resolver, listings map[string]*lookup.Listing) ([]wanted, error) {
	ls, err := r.List(ctx, host.Any)
	if err != nil {
		return nil, err
	}
	var want []wanted
	for i := range ls.Entries {
		if e := &ls.Entries[i]; e.Active() && e.VSockErr == nil {
			want = append(want, wanted{dom: e})
			listings[e.URI] = &ls
		}
	}
	return want, nil
}

// named looks up each HOST argument in order. A HOST that fails is
// reported as the helper would report it (c.fail, its line on stderr) and
// left out with a comment saying why; the code returned is the first
// failure's exit code, 0 when none failed.
func (c *invocation) named(ctx context.Context, r *lookup.Resolver, listings map[string]*lookup.Listing) ([]wanted, int) {
	var want []wanted
	code := 0
	for _, h := range c.args {
		c.host, c.domain = h, ""
		e, err := c.namedDomain(ctx, r, listings)
		if err != nil {
			if n := c.fail(err); code == 0 {
				code = n
			}
			// printable: a comment must stay one line of the config.
			want = append(want, wanted{leftOut: printable(fmt.Sprintf("%s left out: %v", c.who(), err))})
			continue
		}
		want = append(want, wanted{dom: e})
	}
	c.host, c.domain = "", ""
	return want, code
}

// namedDomain resolves HOST as the helper would, so a HOST that the helper
// would refuse fails here with the same message, and lists its domain's
// URI.
func (c *invocation) namedDomain(ctx context.Context, r *lookup.Resolver, listings map[string]*lookup.Listing) (*lookup.Entry, error) {
	spec, err := host.Parse(c.host)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, err, "bad host name")
	}
	t, err := c.resolveSpec(ctx, r, spec, 22)
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
	for i := range ls.Entries {
		if ls.Entries[i].UUID == t.Domain.UUID {
			return &ls.Entries[i], nil
		}
	}
	return nil, failure.New(failure.NotFound, "domain %q disappeared from %s while listing it", t.Domain.Name, t.Domain.URI)
}

// hostBlocks makes one Host block per domain, in order. The ProxyCommand
// searches only the domain's URI, for what target says reaches it there
// (its UUID, so the alias survives renames, unless a domain is named like
// it); HostKeyAlias is the UUID, so known_hosts survives renames and CID
// changes. A domain whose alias is empty or taken, or that nothing reaches,
// gets a comment instead, as does a HOST left out.
func hostBlocks(want []wanted, exe string, connect bool, target func(*lookup.Entry) string) []sshconfig.Block {
	blocks := []sshconfig.Block{{Comments: []string{
		"Written by libvirt-ssh-proxy ssh-config: paste into ~/.ssh/config, or save and Include it.",
	}}}
	seen := map[string]string{} // alias -> domain it went to
	done := map[string]bool{}   // URI and UUID already written
	for _, w := range want {
		d := w.dom
		if d == nil {
			blocks = append(blocks, sshconfig.Block{Comments: []string{w.leftOut}})
			continue
		}
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

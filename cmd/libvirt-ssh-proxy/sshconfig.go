package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
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
	var doms []lookup.Entry
	if len(c.args) == 0 {
		ls, err := r.List(ctx, host.Any)
		if err != nil {
			return c.fail(err)
		}
		for _, e := range ls.Entries {
			if e.Active() && e.VSockErr == nil {
				doms = append(doms, e)
			}
		}
	}
	for _, h := range c.args {
		c.host = h
		spec, err := host.Parse(h)
		if err != nil {
			return c.fail(failure.Wrap(failure.Usage, err, "bad host name"))
		}
		t, err := r.Resolve(ctx, spec, 22)
		if err != nil {
			return c.fail(err)
		}
		if t.Domain == nil {
			return c.fail(failure.New(failure.Usage, "names no libvirt domain").
				WithHint("ssh-config writes aliases for qemu/NAME hosts; vsock/ and unix/ names need none"))
		}
		doms = append(doms, lookup.Entry{Domain: *t.Domain, CID: t.CID})
	}
	c.host = ""
	blocks := hostBlocks(doms, exe, len(c.connect) > 0)
	if err := sshconfig.Write(c.out, blocks); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return 0
}

// hostBlocks makes one Host block per domain, in order. The ProxyCommand
// names the domain by UUID on its own URI, so the alias keeps working when
// the domain is renamed and never reaches a same-named domain elsewhere;
// HostKeyAlias is the UUID too, so known_hosts survives renames and CID
// changes. A domain whose alias is empty or taken gets a comment instead.
func hostBlocks(doms []lookup.Entry, exe string, connect bool) []sshconfig.Block {
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
		var b sshconfig.Block
		switch {
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
				{"ProxyCommand", proxyCommand(exe, d.Domain, connect)},
				{"ProxyUseFdpass", "yes"},
				{"CheckHostIP", "no"},
				{"HostKeyAlias", d.UUID},
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// proxyCommand runs this helper for domain d: scoped to its URI by the
// host form for the default URIs, else with --connect.
func proxyCommand(exe string, d lookup.Domain, connect bool) string {
	args := []string{sshconfig.QuoteArg(exe)}
	switch {
	case !connect && d.URI == lookup.SystemURI:
		args = append(args, "qemu:system/"+d.UUID)
	case !connect && d.URI == lookup.SessionURI:
		args = append(args, "qemu:session/"+d.UUID)
	default:
		args = append(args, "--connect", sshconfig.QuoteArg(d.URI), "qemu/"+d.UUID)
	}
	return strings.Join(append(args, "%p"), " ")
}

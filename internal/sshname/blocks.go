package sshname

import (
	"context"
	"fmt"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Wanted is one place in ssh-config's output: a domain to write a Host
// block for, or, for a HOST that failed, the comment that stands in its
// place.
type Wanted struct {
	Dom     *lookup.Entry
	LeftOut string
}

// Reachable is ssh-config's places without a HOST: every running domain
// with a vsock CID that qemu/ reaches, in the listing's order.
func Reachable(ctx context.Context, ls *lookup.Listings) ([]Wanted, error) {
	doms, err := ls.Reachable(ctx)
	want := make([]Wanted, 0, len(doms))
	for _, e := range doms {
		want = append(want, Wanted{Dom: e})
	}
	return want, err
}

// Entry is the place of a HOST given to ssh-config: the domain HOST
// resolved to (t, as the helper resolves it), found in its URI's listing.
// A HOST that names no libvirt domain wants no alias.
func Entry(ctx context.Context, ls *lookup.Listings, t target.Target) (*lookup.Entry, error) {
	if t.Domain == nil {
		return nil, failure.New(failure.Usage, "names no libvirt domain").
			WithHint("ssh-config writes aliases for qemu/NAME hosts; vsock/ and unix/ names need none")
	}
	return ls.Entry(ctx, t.Domain)
}

// Blocks makes one Host block per domain, in order. The ProxyCommand
// searches only the domain's URI, for what target says reaches it there
// (its UUID, so the alias survives renames, unless a domain is named like
// it); HostKeyAlias is the UUID, so known_hosts survives renames and CID
// changes. A domain whose alias is empty or taken, or that nothing reaches,
// gets a comment instead, as does a HOST left out.
func Blocks(want []Wanted, exe string, connect bool, target func(*lookup.Entry) string) []sshconfig.Block {
	blocks := []sshconfig.Block{{Comments: []string{
		"Written by libvirt-ssh-proxy ssh-config: paste into ~/.ssh/config, or save and Include it.",
	}}}
	seen := map[string]string{} // alias -> domain it went to
	done := map[string]bool{}   // URI and UUID already written
	for _, w := range want {
		d := w.Dom
		if d == nil {
			blocks = append(blocks, sshconfig.Block{Comments: []string{w.LeftOut}})
			continue
		}
		if done[d.URI+" "+d.UUID] {
			continue
		}
		done[d.URI+" "+d.UUID] = true
		about := fmt.Sprintf("domain %q on %s, uuid %s, vsock CID %d", d.Name, d.URI, d.UUID, d.CID)
		alias := Alias(d.Name)
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
				{"ProxyCommand", ProxyCommand(exe, d.URI, id, connect)},
				{"ProxyUseFdpass", "yes"},
				{"CheckHostIP", "no"},
				{"HostKeyAlias", d.UUID},
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// ProxyCommand runs this helper for domain id (a UUID or name) on uri:
// scoped to uri by the host form for the default URIs, else with --connect.
func ProxyCommand(exe, uri, id string, connect bool) string {
	args := []string{sshconfig.QuoteArg(exe)}
	if scope, ok := libvirturi.ScopeOf(uri); ok && !connect {
		args = append(args, sshconfig.QuoteArg(scope.Prefix('/')+id))
	} else {
		args = append(args, "--connect", sshconfig.QuoteArg(uri), sshconfig.QuoteArg(host.Any.Prefix('/')+id))
	}
	return strings.Join(append(args, "%p"), " ")
}

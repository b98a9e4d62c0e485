// Package plainname decides whether a plain host name — `ssh user@web01`,
// no qemu/ prefix — is one the helper reaches, and which domain it means.
// The opt-in drop-in's check (Match exec), the ProxyCommand it then runs
// (--plain) and doctor all ask Rules.Resolve, so they cannot disagree;
// list applies Eligible, Routed and the same lookup order over its listing
// (sshname.Plain).
//
// A name the user routes elsewhere is never matched: one that ssh's
// configuration gives a HostName (Eligible, from ssh's %h), one the hosts
// file lists, and localhost (Routed); a ProxyCommand or ProxyJump of the
// user's is read by ssh before the drop-in and wins there.
//
// The rules, first match wins:
//
//  1. a domain on the searched URIs (those of qemu/NAME) has that name or
//     UUID and runs (one that exists but does not run keeps its name: then
//     nothing matches);
//  2. exactly one guest holds an unexpired DHCP lease with that hostname in
//     libvirt's dnsmasq lease files (the libvirt NSS module's match), and
//     its domain runs on the system URIs.
//
// A domain name wins over a lease hostname because the name is the host
// administrator's, unique on its daemon, while the hostname is whatever a
// guest's DHCP client sent: a guest must never capture another domain's
// name, nor one another guest claims too.
package plainname

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/leases"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Rule says which rule matched a name.
type Rule int

// The rules, in the order they are tried.
const (
	DomainName    Rule = iota + 1 // a domain's name
	DomainUUID                    // a domain's UUID
	GuestHostname                 // the DHCP hostname of a guest's lease
)

// String names the rule as -v and doctor say it ("matched by domain name").
func (r Rule) String() string {
	switch r {
	case DomainName:
		return "domain name"
	case DomainUUID:
		return "domain UUID"
	case GuestHostname:
		return "guest hostname (DHCP lease)"
	}
	return "no rule"
}

// Match is what a plain name resolved to and by which rule.
type Match struct {
	Rule Rule
	// Spec is the qemu host spec that reaches the domain by the same
	// rule: the name itself on the qemu/ URIs, or the lease's domain by
	// name on the system URIs.
	Spec   host.Spec
	Target target.Target // as lookup.Resolver.Resolve returns it
}

// String is the match as -v tells it, in one form for the check and the
// ProxyCommand it runs.
func (m Match) String() string {
	if m.Rule == 0 || m.Target.Domain == nil {
		return "no match"
	}
	return fmt.Sprintf("matched by %s: domain %q on %s", m.Rule, m.Target.Domain.Name, m.Target.Domain.URI)
}

// Eligible says whether ssh may hand name to the helper at all, before any
// lookup: it is a name (not an IP address, nor one of the helper's forms),
// and sshHost, ssh's %h when given, is that name. %h is the HostName ssh's
// configuration gave the name so far, else the name itself (as typed while
// ssh reads its configuration, lowercased after): a %h that differs from
// the name beyond ASCII case means the user routes the name elsewhere.
func Eligible(name, sshHost string) error {
	switch {
	case name == "" || strings.ContainsFunc(name, unicode.IsControl) || strings.ContainsAny(name, "/% \t"):
		return failure.New(failure.Usage, "%q is not a plain host name", name)
	case isAddress(name):
		return failure.New(failure.Usage, "%s is an IP address, not a name", name)
	case sshHost != "" && lowerASCII(sshHost) != lowerASCII(name):
		return failure.New(failure.NotFound, "ssh's configuration routes %s to HostName %s", name, sshHost).
			WithHint("a HostName of your own wins: the helper leaves the name alone")
	}
	return nil
}

// isAddress says whether ssh would take s for an IP address: IPv6, or
// IPv4 as inet_aton reads it ("10.1", "0x7f.1", "7"). Those never name a
// guest.
func isAddress(s string) bool {
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return true
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		digits := "0123456789"
		switch {
		case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
			p, digits = p[2:], "0123456789abcdefABCDEF"
		case len(p) > 1 && p[0] == '0':
			digits = "01234567"
		}
		if p == "" || strings.Trim(p, digits) != "" {
			return false
		}
	}
	return true
}

// lowerASCII lowercases as ssh's lowercase() does: byte by byte, A-Z only.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// Rules are where the plain-names rules look.
type Rules struct {
	// Resolver searches the URIs of qemu/NAME.
	Resolver *lookup.Resolver
	// LeaseDir holds the lease files; "" means leases.DefaultDir.
	LeaseDir string
	// HostsFile is the hosts file whose names are the user's own; ""
	// means HostsFile.
	HostsFile string
}

// Resolve finds the domain the plain name means (see the package rules),
// with port as the guest port. When the name is a domain that is found but
// has no usable vsock, the Match names it with the lookup's error, as
// lookup.Resolver.Resolve does, for the IP fallback.
func (p Rules) Resolve(ctx context.Context, name string, port uint32) (Match, error) {
	if err := Eligible(name, ""); err != nil {
		return Match{}, err
	}
	if err := Routed(ReadHosts(cmp.Or(p.HostsFile, HostsFile)), name); err != nil {
		return Match{}, err
	}
	r := p.Resolver
	spec := host.Spec{Kind: host.Domain, Scope: host.Any, Domain: name}
	t, err := r.Resolve(ctx, spec, port)
	if rule := ruleOf(t, name); rule != 0 {
		return Match{Rule: rule, Spec: spec, Target: t}, err
	}
	if err != nil && failure.ClassOf(err) != failure.NotFound {
		return Match{}, err // not running, or no daemon answered: no match
	}
	// Found by ID only ("7"), or not at all: ask the leases.
	leaseDir := cmp.Or(p.LeaseDir, leases.DefaultDir)
	owners, problems := leases.Owners(leaseDir, name, time.Now())
	for _, p := range problems {
		r.Logf.Printf("%v", p)
	}
	switch len(owners) {
	case 0:
		return Match{}, failure.New(failure.NotFound, "no domain is named %s, nor has that UUID, and no guest has it as DHCP hostname in %s", name, leaseDir).
			WithHint("libvirt-ssh-proxy list shows each running domain's plain name")
	case 1:
	default:
		e := failure.New(failure.NotFound, "guests of %d domains (%s) give DHCP hostname %s in %s: it names none of them", len(owners), strings.Join(owners, ", "), name, leaseDir).
			WithHint("reach each by its domain name: ssh qemu/%s", owners[0])
		e.Lasting = true // --wait would wait for a guest to give the name up
		return Match{}, e
	}
	r.Logf.Printf("%s is the DHCP hostname of a guest of domain %q", name, owners[0])
	// libvirt's dnsmasq serves the system daemon's networks.
	spec = host.Spec{Kind: host.Domain, Scope: host.System, Domain: owners[0]}
	t, err = r.Resolve(ctx, spec, port)
	if t.Domain == nil || t.Domain.Name != owners[0] {
		if err == nil {
			err = failure.New(failure.NotFound, "DHCP hostname %s belongs to domain %q, which the lookup does not find by that name", name, owners[0])
		}
		return Match{}, fmt.Errorf("guest hostname %s: %w", name, err)
	}
	return Match{Rule: GuestHostname, Spec: spec, Target: t}, err
}

// Check is the drop-in's check (its Match exec) for name, ssh's %n, with
// sshHost, its %h: whether ssh may hand name to the helper at all
// (Eligible), then which domain the rules make of it (Resolve).
func (p Rules) Check(ctx context.Context, name, sshHost string, port uint32) (Match, error) {
	if err := Eligible(name, sshHost); err != nil {
		return Match{}, err
	}
	return p.Resolve(ctx, name, port)
}

// HostsFile is where the system's resolver reads names of the user's own
// (nsswitch's "files", which comes before libvirt's NSS modules).
const HostsFile = "/etc/hosts"

// maxHosts bounds what is read of the hosts file, which the check reads on
// every ssh: a real one is a few hundred bytes.
const maxHosts = 1 << 20

// ReadHosts returns the hosts file at path, up to maxHosts bytes; nil when
// it cannot be read (then it lists nothing).
func ReadHosts(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxHosts))
	return b
}

// Routed says, with an error, when the hosts file (its contents hosts)
// lists name, in any ASCII case as the resolver matches: the user routes it
// there; and "localhost" is always the host itself.
func Routed(hosts []byte, name string) error {
	switch {
	case lowerASCII(name) == "localhost":
		return failure.New(failure.NotFound, "%s is this host", name).WithHint("reach a domain of that name with qemu/%s", name)
	case Listed(hosts, name):
		return failure.New(failure.NotFound, "%s is in %s: ssh goes where it says", name, HostsFile).
			WithHint("take it out of %s to reach the domain by its plain name, or use qemu/%s", HostsFile, name)
	}
	return nil
}

// Listed says whether the hosts file contents hosts give name an address:
// a line "ADDRESS NAME [ALIAS...]", '#' starting a comment.
func Listed(hosts []byte, name string) bool {
	if name == "" {
		return false
	}
	for line := range strings.Lines(string(hosts)) {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		for _, n := range f[min(1, len(f)):] {
			if lowerASCII(n) == lowerASCII(name) {
				return true
			}
		}
	}
	return false
}

// ruleOf says by which rule the lookup of name found t: its name or its
// UUID. A domain found by ID only, or none, is no match: a plain name is
// never an ID ("ssh 7" is an address to ssh).
func ruleOf(t target.Target, name string) Rule {
	switch {
	case t.Domain == nil:
		return 0
	case t.Domain.Name == name:
		return DomainName
	}
	if u, ok := lookup.ParseUUID(name); ok && u.String() == t.Domain.UUID {
		return DomainUUID
	}
	return 0
}

// Package sshname decides which host names reach a libvirt domain through
// ssh: names ssh accepts on its command line, that the helper parses back
// into the same domain (list's names, completion's spellings), and aliases
// safe to write into an ssh_config with their Host blocks (ssh-config).
//
// It asks libvirt only for completion, through the lookup.Resolver it is
// handed (Complete); the rest works on a lookup.Listing already fetched.
package sshname

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
)

// refusedChars are the characters OpenSSH >= 9.6 (and Debian 12's 9.2 with
// the backport) refuses in a command-line host name, ',' among them (Debian
// 12's ssh says "hostname contains invalid characters" for qemu/a,b), plus
// '@' (ssh splits user@host at the last '@', so the name would lose its
// head).
const refusedChars = "'`\"$\\;&<>|(){},@"

// Refused says why ssh would not take s as a host name on its command line,
// or returns nil when it would.
func Refused(s string) error {
	if strings.HasPrefix(s, "-") {
		return fmt.Errorf("%q starts with '-'", s)
	}
	for _, r := range s {
		switch {
		case strings.ContainsRune(refusedChars, r):
			return fmt.Errorf("%q contains %q", s, r)
		case unicode.IsSpace(r):
			return fmt.Errorf("%q contains whitespace", s)
		case unicode.IsControl(r):
			return fmt.Errorf("%q contains a control character", s)
		}
	}
	return nil
}

// Names are the host names to give ssh and scp/rsync for one domain; an
// empty name means no spelling reaches the domain.
type Names struct {
	SSH string // for ssh and sftp: qemu/NAME, or a scoped or UUID form
	SCP string // for scp and rsync, which split "x/y:path": qemu%NAME, ...
}

// For picks, for the listed entry e, the first host name in this order that
// ssh accepts and that reaches e and no other domain: the name, the name
// with its URI's scope (qemu:session/NAME when a system domain has the same
// name), then the same two with the UUID. searchURIs gives the URIs a scope
// searches (lookup.Resolver.SearchURIs).
//
// Capitals are kept: the drop-in hands the helper ssh's %n, the name as
// typed, not %h, which ssh lowercases.
func For(ls *lookup.Listing, e *lookup.Entry, searchURIs func(host.Scope) []string) Names {
	var n Names
	for _, id := range []string{e.Name, e.UUID} {
		for _, scope := range []host.Scope{host.Any, host.System, host.Session} {
			slash, pct := scope.Prefix('/'), scope.Prefix('%')
			if n.SSH == "" && reaches(ls, e, slash+id, searchURIs) {
				n.SSH = slash + id
			}
			// scp and rsync split host:path at the first ':'.
			if n.SCP == "" && !strings.Contains(id, ":") && reaches(ls, e, pct+id, searchURIs) {
				n.SCP = pct + id
			}
		}
	}
	return n
}

// Plain returns the plain name (ssh user@NAME) that reaches the listed
// entry e with the plain-names drop-in on, by the rules of
// internal/plainname: its name, else its UUID, when ssh takes it, the
// rules take it (hosts is the hosts file, whose names are the user's) and
// the lookup finds e by it; "" when e does not run.
func Plain(ls *lookup.Listing, e *lookup.Entry, searchURIs func(host.Scope) []string, hosts []byte) string {
	if !e.Runs() {
		return ""
	}
	for _, id := range []string{e.Name, e.UUID} {
		// Find goes name, UUID, ID, as the plain-names check's lookup
		// does; Eligible refuses what is an ID ("7" is an address).
		spec := host.Spec{Kind: host.Domain, Scope: host.Any, Domain: id}
		if Refused(id) == nil && plainname.Eligible(id, "") == nil && plainname.Routed(hosts, id) == nil && ls.Find(spec, searchURIs(host.Any)) == e {
			return id
		}
	}
	return ""
}

// reaches says whether ssh accepts name and the helper resolves it to e.
func reaches(ls *lookup.Listing, e *lookup.Entry, name string, searchURIs func(host.Scope) []string) bool {
	if Refused(name) != nil {
		return false
	}
	spec, err := host.Parse(name)
	if err != nil || spec.Kind != host.Domain {
		return false
	}
	return ls.Find(spec, searchURIs(spec.Scope)) == e
}

// Alias turns a domain name into a Host alias for an ssh_config: letters
// (any script), digits, '.', '_' and '-' are kept (capitals too: Host patterns match the
// name as typed), every run of anything else becomes one '-', and leading
// '-' and '.' go (ssh refuses a leading '-'). It returns "" when nothing is
// left. The characters kept are none that ssh refuses or that Host patterns
// treat specially ('*', '?', '!', ',').
func Alias(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-", r) {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimLeft(strings.TrimRight(b.String(), "-"), "-.")
}

// ProxyTarget returns what a ProxyCommand that searches only e's URI should
// name e by: its UUID, which survives renames, unless a domain there is
// named like that UUID (names win over UUIDs in the lookup); else its name;
// "" when neither reaches e.
func ProxyTarget(ls *lookup.Listing, e *lookup.Entry) string {
	for _, id := range []string{e.UUID, e.Name} {
		spec, err := host.Parse("qemu/" + id)
		if err == nil && ls.Find(spec, []string{e.URI}) == e {
			return id
		}
	}
	return ""
}

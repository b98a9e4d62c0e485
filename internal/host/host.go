// Package host parses the host names ssh hands the helper (its %n token) into
// a Spec saying what to reach: a libvirt domain, a vsock CID or a unix socket.
//
// Parsing is pure: no I/O, no libvirt, so it can be table-tested and fuzzed.
package host

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says which sort of target a Spec names.
type Kind int

// The kinds of target.
const (
	Domain Kind = iota + 1 // a libvirt domain, by name, UUID or ID
	VSock                  // a vsock CID, dialed directly
	Unix                   // an AF_UNIX stream socket path
	Mux                    // a hybrid vsock multiplexer's AF_UNIX socket path
	Remote                 // any of the above, on another hypervisor reached with ssh
)

// Scope says which libvirt connections a Domain spec searches.
type Scope int

// The scopes, as libvirt's own helper spells them.
const (
	Any     Scope = iota // qemu/: system, then session (root: system only)
	System               // qemu:system/
	Session              // qemu:session/
)

// String names the scope as the scoped host forms spell it
// (qemu:system/, qemu%session%); "any" for Any, which they leave out.
func (s Scope) String() string {
	switch s {
	case System:
		return "system"
	case Session:
		return "session"
	}
	return "any"
}

// Prefix spells the qemu prefix that Parse reads as scope s, with sep
// between its parts: '/' for ssh (qemu/, qemu:system/), '%' for scp and
// rsync, which take "x/y:path" for a local path (qemu%, qemu%system%).
func (s Scope) Prefix(sep byte) string {
	switch {
	case s == Any:
		return "qemu" + string(sep)
	case sep == '/':
		return "qemu:" + s.String() + "/"
	}
	return "qemu%" + s.String() + "%"
}

// Spec is a parsed host name.
type Spec struct {
	Kind   Kind
	Scope  Scope  // Domain only
	Domain string // Domain only: name, UUID or ID exactly as typed
	CID    uint32 // VSock only
	Path   string // Unix and Mux

	// Remote only: Hypervisor is the ssh destination (an ssh_config Host
	// alias or host name) and Inner the host name the helper there is
	// given, as typed ("qemu/web01", "qemu%system%web01", "unix/PATH").
	Hypervisor string
	Inner      string
}

// maxName bounds a host name: libvirt caps names far below this and ssh
// itself rejects longer host names, so anything longer is a mistake.
const maxName = 1024

// vmaddrCIDAny is VMADDR_CID_ANY, which names no peer.
const vmaddrCIDAny = 1<<32 - 1

// Parse parses a host name in one of the forms
//
//	qemu/NAME  qemu:system/NAME  qemu:session/NAME
//	qemu%NAME  qemu%system%NAME  qemu%session%NAME
//	vsock/CID  vsock%CID  unix/PATH  unix%PATH  unix%%P%A%T%H
//	vsock-mux/PATH  vsock-mux%PATH  vsock-mux%%P%A%T%H
//	HV/FORM  HV%FORM  (FORM any of the above, on hypervisor HV)
//
// Prefixes are case-sensitive, like libvirt's. The '%' spellings exist
// because scp and rsync take "host/x:path" for a local path; "unix%%" and
// "vsock-mux%%" spell a whole absolute path with '%' for every '/'.
func Parse(s string) (Spec, error) {
	if err := checkText(s); err != nil {
		return Spec{}, err
	}
	// The prefix ends at the first separator; a '%' before any '/' makes
	// '%' the separator, so "unix%/run/x" and "qemu%a/b" split at the '%'.
	sep := byte('/')
	kind, rest, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(kind, "%") {
		sep = '%'
		kind, rest, ok = strings.Cut(s, "%")
	}
	switch {
	case !ok:
	case kind == "qemu":
		return parseDomain(Any, rest, sep)
	case kind == "qemu:system" && sep == '/':
		return parseDomain(System, rest, sep)
	case kind == "qemu:session" && sep == '/':
		return parseDomain(Session, rest, sep)
	case kind == "vsock":
		return parseCID(rest)
	case kind == "unix":
		return parsePath(Unix, rest, sep)
	case kind == "vsock-mux":
		return parsePath(Mux, rest, sep)
	case ok && isHypervisor(kind):
		// HV/FORM: only when FORM is itself a form served here, so that a
		// typo in a prefix ("qmeu/vm") still reads as an unknown form.
		inner, err := Parse(rest)
		if err == nil && inner.Kind != Remote {
			return Spec{Kind: Remote, Hypervisor: kind, Inner: rest}, nil
		}
	}
	return Spec{}, errUnknownForm
}

// isHypervisor says whether s can be the HV of HV/FORM: a plain host name or
// ssh_config Host alias (letters, digits, '.', '-', '_'), starting with a
// letter or digit so that ssh can never read it as an option.
func isHypervisor(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '-' || r == '_'):
		default:
			return false
		}
	}
	return true
}

var errUnknownForm = errors.New("not a host form this helper serves (want qemu/NAME, qemu:system/NAME, qemu:session/NAME, qemu%NAME, qemu%system%NAME, qemu%session%NAME, vsock/CID, unix/PATH, vsock-mux/PATH, or HV/ before any of these)")

func checkText(s string) error {
	switch {
	case s == "":
		return errors.New("empty host name")
	case len(s) > maxName:
		return fmt.Errorf("host name is %d bytes long, more than %d", len(s), maxName)
	case !utf8.ValidString(s):
		return errors.New("host name is not valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errors.New("host name contains a control character")
	}
	return nil
}

// parseDomain handles what follows "qemu/" or "qemu%". After "qemu%" the
// scope may follow as "system%" or "session%"; sep is the separator that
// followed "qemu".
func parseDomain(scope Scope, name string, sep byte) (Spec, error) {
	if scope == Any && sep == '%' {
		if n, ok := strings.CutPrefix(name, "system%"); ok {
			scope, name = System, n
		} else if n, ok := strings.CutPrefix(name, "session%"); ok {
			scope, name = Session, n
		}
	}
	if name == "" {
		return Spec{}, errors.New("no domain name, UUID or ID after the prefix")
	}
	if strings.Contains(name, "/") {
		return Spec{}, fmt.Errorf("domain name %q contains '/', which libvirt does not allow", name)
	}
	return Spec{Kind: Domain, Scope: scope, Domain: name}, nil
}

func parseCID(s string) (Spec, error) {
	cid, err := strconv.ParseUint(s, 10, 32)
	if err != nil || cid == vmaddrCIDAny {
		return Spec{}, fmt.Errorf("vsock CID %q is not a number from 0 to %d", s, uint32(vmaddrCIDAny-1))
	}
	return Spec{Kind: VSock, CID: uint32(cid)}, nil
}

// parsePath follows systemd-ssh-proxy for unix/ and vsock-mux/: the path is
// taken from the root unless it is written as absolute or explicitly
// relative ("./"). After "unix%" (sep '%'), a path that starts with '%' is
// the scp-safe spelling of an absolute path: every '%' stands for a '/', so
// "unix%%run%fc%vm1.vsock" is /run/fc/vm1.vsock. scp and rsync read a '/'
// before the first ':' as a local path, so no other spelling can name a
// socket below the root for them.
func parsePath(kind Kind, p string, sep byte) (Spec, error) {
	if sep == '%' && strings.HasPrefix(p, "%") {
		p = strings.ReplaceAll(p, "%", "/")
	}
	if strings.Trim(p, "/") == "" {
		return Spec{}, errors.New("no socket path after the prefix")
	}
	if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "./") {
		p = "/" + p
	}
	return Spec{Kind: kind, Path: p}, nil
}

// ParsePort parses ssh's %p as a vsock port. vsock ports are 32 bits wide;
// 0xFFFFFFFF is VMADDR_PORT_ANY and names no port.
func ParsePort(s string) (uint32, error) {
	p, err := strconv.ParseUint(s, 10, 32)
	if err != nil || p == 0 || p == 1<<32-1 {
		return 0, fmt.Errorf("port %q is not a number from 1 to %d", s, uint32(1<<32-2))
	}
	return uint32(p), nil
}

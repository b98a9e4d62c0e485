// Package libvirturi holds libvirt's client-side rules for connection URIs:
// the URIs a qemu/ host form searches (libvirt's defaults, --connect, the
// uri_aliases of libvirt.conf), the daemon socket a local URI is reached on
// (remote_sockets.c), and how a URI on another host is reached over ssh
// (Hop). It opens no connection: it reads libvirt.conf and stats sockets.
package libvirturi

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtconf"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/verbose"
)

// The URIs libvirt's own helper searches for qemu/ forms.
const (
	SystemURI  = "qemu:///system"
	SessionURI = "qemu:///session"
)

// DefaultURIs returns the URIs a domain spec of the given scope searches when
// no --connect is given: libvirt's meaning, where qemu/ tries system then
// session and root, having no session of its own there, tries system only.
func DefaultURIs(scope host.Scope, euid int) []string {
	switch scope {
	case host.System:
		return []string{SystemURI}
	case host.Session:
		return []string{SessionURI}
	}
	if euid == 0 {
		return []string{SystemURI}
	}
	return []string{SystemURI, SessionURI}
}

// ScopeOf returns the scope whose host form searches uri alone when no
// --connect is given (DefaultURIs), and false when none does.
func ScopeOf(uri string) (host.Scope, bool) {
	switch uri {
	case SystemURI:
		return host.System, true
	case SessionURI:
		return host.Session, true
	}
	return host.Any, false
}

// Search picks the daemons a domain spec searches: the --connect URIs (or
// LIBVIRT_SSH_PROXY_CONNECT's) when given, else libvirt's defaults.
type Search struct {
	// URIs replaces the default URI list for every domain spec (--connect,
	// LIBVIRT_SSH_PROXY_CONNECT). An entry that is a libvirt URI alias is
	// expanded from libvirt.conf's uri_aliases, read only then.
	URIs []string
	// Euid decides whether qemu/ also searches the session daemon, and
	// which libvirt.conf holds the aliases.
	Euid int
	// Env locates the session daemon's socket and the user's libvirt.conf.
	Env Env
	// Logf, when set, is told each step (-v).
	Logf verbose.Logf
}

// SearchURIs returns the URIs a domain spec of the given scope searches, in
// order: the --connect URIs with aliases expanded when given, else
// libvirt's defaults. An alias libvirt.conf does not define is an error.
func (r *Search) SearchURIs(scope host.Scope) ([]string, error) {
	return r.SearchList(scope, "")
}

// SearchList returns the URIs a domain spec of the given scope searches
// here (see expand). A URI on another host is refused: a CID means
// something only on the host that runs the guest, and the lookup dials no
// transport but a local unix socket. Only the ProxyCommand form reaches
// through, over ssh (Hop).
// domain, when not "", is the domain looked up, for the hint.
func (r *Search) SearchList(scope host.Scope, domain string) ([]string, error) {
	uris, err := r.expand(scope)
	if err != nil {
		return nil, err
	}
	for _, uri := range uris {
		h, remote, err := HopOf(uri)
		if err != nil {
			return nil, err
		}
		if remote {
			return nil, failure.New(failure.Usage, "%s is a URI on host %s, which only the ProxyCommand form reaches (over ssh)", uri, h.Host).
				WithHint("run this on %s with --connect %s%s", h.Host, shquote.Quote(h.URI), h.formHint(domain))
		}
	}
	return uris, nil
}

// Hop is how the ProxyCommand form reaches a domain on another host: ssh to
// Host (as User, on Port, each "" for ssh's own choice) and run the helper
// there with --connect URI, the same daemon as seen from that host.
type Hop struct {
	Host, User, Port string
	URI              string
}

// HopOf says whether uri names a daemon on another host: any transport but
// unix, any host part (localhost too, which may be another machine's name
// for itself in a shared configuration). For such a URI it returns the Hop:
// ssh's user and port come from an ssh transport's URI (+ssh, +libssh,
// +libssh2); a tcp or tls URI's port is libvirtd's, not sshd's, so ssh
// picks its own. ?socket= (the daemon's socket there) carries over for the
// ssh transports; ?name= becomes the URI opened there. A remote URI that
// cannot be carried over (+ext, a non-numeric port) is a usage failure.
func HopOf(uri string) (Hop, bool, error) {
	u, err := parseURI(uri)
	if err != nil {
		return Hop{}, false, failure.Wrap(failure.Usage, err, "bad --connect URI")
	}
	driver, transport, _ := strings.Cut(u.Scheme, "+")
	if (transport == "" || transport == "unix") && u.Host == "" {
		return Hop{}, false, nil
	}
	h := Hop{Host: u.Hostname()}
	if h.Host == "" {
		h.Host = "localhost" // as libvirt dials a remote transport without a host
	}
	there := url.URL{Scheme: driver, Path: u.Path}
	switch transport {
	case "ssh", "libssh", "libssh2":
		h.User, h.Port = u.User.Username(), u.Port()
		if sock := u.Query().Get("socket"); sock != "" {
			there.Scheme += "+unix"
			there.RawQuery = url.Values{"socket": {sock}}.Encode()
		}
	case "", "tcp", "tls":
	default:
		return Hop{}, true, failure.New(failure.Usage, "URI %s: transport %q cannot be carried over ssh", uri, transport).
			WithHint("name the host with +ssh: %s://%s%s", driver+"+ssh", u.Host, u.Path)
	}
	h.URI = there.String()
	if n := u.Query().Get("name"); n != "" {
		h.URI = n
	}
	if strings.HasPrefix(h.Host, "-") || strings.ContainsFunc(h.Host, unicode.IsSpace) {
		return Hop{}, true, failure.New(failure.Usage, "URI %s: %q is not a host ssh can reach", uri, h.Host)
	}
	return h, true, nil
}

// Form returns the HV/FORM spelling that reaches domain on h without
// --connect, or "" when there is none: HV/FORM names the hypervisor by a
// host name only (its user and port come from ssh's configuration), and
// its FORM searches the default URIs there.
func (h Hop) Form(domain string) string {
	scope, ok := ScopeOf(h.URI)
	if !ok || h.User != "" || h.Port != "" {
		return ""
	}
	return h.Host + "/" + scope.Prefix('/') + domain
}

// formHint is ", or reach it with HV/FORM: ssh HV/qemu:SCOPE/DOMAIN" when
// there is such a spelling and a domain to spell.
func (h Hop) formHint(domain string) string {
	if f := h.Form(domain); f != "" && domain != "" {
		return ", or reach it from here with HV/FORM: ssh " + shquote.Quote(f)
	}
	return ""
}

// Hop returns how the ProxyCommand form reaches a domain spec of the given
// scope when its search list names a daemon on another host, or nil when
// every URI is local. A list mixing hosts is refused: the same name would
// mean one VM or another depending on which daemon answers first, and a
// CID only means something on its own host. domain is for the hint.
func (r *Search) Hop(scope host.Scope, domain string) (*Hop, error) {
	uris, err := r.expand(scope)
	if err != nil {
		return nil, err
	}
	var (
		hop       *Hop
		remoteURI string
	)
	for _, uri := range uris {
		h, remote, err := HopOf(uri)
		if err != nil {
			return nil, err
		}
		if remote && hop == nil {
			hop, remoteURI = &h, uri
		}
	}
	if hop == nil || len(uris) == 1 {
		return hop, nil
	}
	return nil, failure.New(failure.Usage, "the URI list %s mixes a daemon on host %s with others: a name must mean one VM", strings.Join(uris, " "), hop.Host).
		WithHint("search one host: --connect %s alone%s", shquote.Quote(remoteURI), hop.formHint(domain))
}

// expand returns r.URIs with aliases expanded, or else the defaults.
// libvirt.conf is read only when an entry can be an alias (a URI never
// can: it has a ':'), so the plain qemu/ path reads no file.
func (r *Search) expand(scope host.Scope) ([]string, error) {
	if len(r.URIs) == 0 {
		return DefaultURIs(scope, r.Euid), nil
	}
	var conf *libvirtconf.File
	uris := make([]string, 0, len(r.URIs))
	for _, u := range r.URIs {
		if !libvirtconf.IsAlias(u) {
			uris = append(uris, u)
			continue
		}
		if conf == nil {
			var err error
			if conf, err = libvirtconf.Load(libvirtconf.Path(r.Euid, r.Env.Getenv, r.Env.Home)); err != nil {
				return nil, failure.Wrap(failure.Usage, err, "look up URI alias %q", u)
			}
		}
		uri, ok, err := conf.Alias(u)
		if err != nil {
			return nil, failure.Wrap(failure.Usage, err, "look up URI alias %q", u)
		}
		if !ok {
			return nil, failure.New(failure.Usage, "%q is neither a libvirt URI nor an alias in uri_aliases of %s", u, conf.Name).
				WithHint(`write a URI such as qemu:///system, or add "%s=URI" to uri_aliases there`, u)
		}
		r.Logf.Printf("URI alias %q is %s (%s)", u, uri, conf.Name)
		uris = append(uris, uri)
	}
	return uris, nil
}

// Env is the part of the process environment the socket rule reads.
type Env struct {
	Getenv func(string) string
	Home   string
}

// Endpoint is how to reach the daemon behind a local URI: a unix socket.
type Endpoint struct {
	Addrs []string // candidates in libvirt's order; the first that exists wins
	Name  string   // the URI to open once connected (no transport)
}

// parseURI parses a libvirt URI: driver[+transport]://[host]/path[?query].
func parseURI(uri string) (*url.URL, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("parse URI %q: %w", uri, err)
	}
	if driver, _, _ := strings.Cut(u.Scheme, "+"); driver == "" || u.Opaque != "" {
		return nil, fmt.Errorf("parse URI %q: not a libvirt URI (want driver[+transport]://[host]/path)", uri)
	}
	return u, nil
}

// EndpointFor applies libvirt's client rule (remote_sockets.c) to a local
// URI. A URI on another host (HopOf) has no endpoint here: the lookup
// dials nothing but local unix sockets.
func EndpointFor(uri string, env Env) (Endpoint, error) {
	u, err := parseURI(uri)
	if err != nil {
		return Endpoint{}, err
	}
	driver, transport, _ := strings.Cut(u.Scheme, "+")
	if (transport != "" && transport != "unix") || u.Host != "" {
		return Endpoint{}, fmt.Errorf("parse URI %q: not a URI on this host (want driver[+unix]:///path)", uri)
	}
	e := Endpoint{Name: remoteName(u)}
	if s := u.Query().Get("socket"); s != "" {
		e.Addrs = []string{s}
	} else {
		e.Addrs = localSockets(driver, u.Path, env)
	}
	return e, nil
}

// remoteName is the URI the daemon is asked to open: the client-side URI
// without transport, or its name= parameter.
func remoteName(u *url.URL) string {
	if n := u.Query().Get("name"); n != "" {
		return n
	}
	driver, _, _ := strings.Cut(u.Scheme, "+")
	return (&url.URL{Scheme: driver, Path: u.Path}).String()
}

// localSockets lists the daemon sockets for a local URI in libvirt's order:
// the modular per-driver daemon before the monolithic libvirtd. The system
// daemon is reached on its read-only socket, which is all the helper needs
// and which libvirt's default polkit rules grant to every user.
func localSockets(driver, path string, env Env) []string {
	daemon := "virt" + driver + "d-sock"
	if path == "/session" {
		dir := env.Getenv("XDG_RUNTIME_DIR")
		if dir == "" {
			dir = filepath.Join(env.Home, ".cache")
		}
		dir = filepath.Join(dir, "libvirt")
		return []string{filepath.Join(dir, daemon), filepath.Join(dir, "libvirt-sock")}
	}
	return []string{"/run/libvirt/" + daemon + "-ro", "/run/libvirt/libvirt-sock-ro"}
}

// existing returns the first candidate socket that exists, or "" if none
// does. A socket we may not even stat counts as existing, so that dialing it
// reports the permission problem instead of calling it absent.
func existing(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
	return ""
}

// Socket returns the daemon socket uri is reached on, by libvirt's client
// rule, or an error wrapping the reason there is none (ErrNoSocket).
func (r *Search) Socket(uri string) (string, error) {
	e, err := EndpointFor(uri, r.Env)
	if err != nil {
		return "", err
	}
	return e.Socket()
}

// ErrNoSocket marks a local URI none of whose daemon sockets exists: no
// daemon runs there, so there are no running domains to find.
var ErrNoSocket = errors.New("no daemon socket")

// Socket returns the first of a unix endpoint's sockets that exists.
func (e Endpoint) Socket() (string, error) {
	if p := existing(e.Addrs); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%w (%s)", ErrNoSocket, strings.Join(e.Addrs, ", "))
}

package lookup

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtconf"
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

// searchList returns the URIs a domain spec of the given scope searches:
// r.URIs with aliases expanded, or else the defaults. libvirt.conf is read
// only when an entry can be an alias (a URI never can: it has a ':'), so
// the plain qemu/ path reads no file.
func (r *Resolver) searchList(scope host.Scope) ([]string, error) {
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
		r.logf("URI alias %q is %s (%s)", u, uri, conf.Name)
		uris = append(uris, uri)
	}
	return uris, nil
}

// Env is the part of the process environment the socket rule reads.
type Env struct {
	Getenv func(string) string
	Home   string
}

// endpoint is how to reach the daemon behind a URI.
type endpoint struct {
	network string   // "unix" or "tcp"
	addrs   []string // candidates in libvirt's order; the first that exists wins
	name    string   // the URI to open once connected (no transport, no host)
}

// endpointFor applies libvirt's client rule (remote_sockets.c) to a URI.
func endpointFor(uri string, env Env) (endpoint, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return endpoint{}, fmt.Errorf("parse URI %q: %w", uri, err)
	}
	driver, transport, _ := strings.Cut(u.Scheme, "+")
	if driver == "" || u.Opaque != "" {
		return endpoint{}, fmt.Errorf("parse URI %q: not a libvirt URI (want driver[+transport]://[host]/path)", uri)
	}
	if transport == "" && u.Host != "" {
		transport = "tls"
	}
	e := endpoint{name: remoteName(u)}
	switch transport {
	case "", "unix":
		if u.Host != "" {
			return endpoint{}, fmt.Errorf("parse URI %q: a unix transport takes no host", uri)
		}
		e.network = "unix"
		if s := u.Query().Get("socket"); s != "" {
			e.addrs = []string{s}
		} else {
			e.addrs = localSockets(driver, u.Path, env)
		}
	case "tcp":
		port := u.Port()
		if port == "" {
			port = "16509"
		}
		e.network, e.addrs = "tcp", []string{u.Hostname() + ":" + port}
	case "tls", "ssh":
		// The helper has no TLS or SSH client of its own: ssh is the
		// system's, through HV/FORM.
		return endpoint{}, fmt.Errorf("parse URI %q: transport %q is not supported here; reach a guest on host %s with HV/FORM (ssh %s, then this helper there)", uri, transport, u.Hostname(), u.Hostname())
	default:
		return endpoint{}, fmt.Errorf("parse URI %q: transport %q is not supported (use unix or tcp)", uri, transport)
	}
	return e, nil
}

// remoteName is the URI the daemon is asked to open: the client-side URI
// without transport and host, or its name= parameter.
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
// rule, or an error wrapping the reason there is none (see Resolve). It is
// empty for a TCP URI.
func (r *Resolver) Socket(uri string) (string, error) {
	e, err := endpointFor(uri, r.Env)
	if err != nil || e.network != "unix" {
		return "", err
	}
	return e.socket()
}

// socket returns the first of a unix endpoint's sockets that exists.
func (e endpoint) socket() (string, error) {
	if p := existing(e.addrs); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%w (%s)", errNoSocket, strings.Join(e.addrs, ", "))
}

package lookup

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
)

func TestDefaultURIs(t *testing.T) {
	tests := []struct {
		scope host.Scope
		euid  int
		want  []string
	}{
		{host.Any, 1000, []string{SystemURI, SessionURI}},
		{host.Any, 0, []string{SystemURI}},
		{host.System, 1000, []string{SystemURI}},
		{host.Session, 1000, []string{SessionURI}},
		{host.Session, 0, []string{SessionURI}},
	}
	for _, tt := range tests {
		if got := DefaultURIs(tt.scope, tt.euid); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DefaultURIs(%v, %d) = %v, want %v", tt.scope, tt.euid, got, tt.want)
		}
	}
}

func TestEndpointFor(t *testing.T) {
	env := func(xdg string) Env {
		return Env{Getenv: func(k string) string {
			if k == "XDG_RUNTIME_DIR" {
				return xdg
			}
			return ""
		}, Home: "/home/alice"}
	}
	tests := []struct {
		uri   string
		xdg   string
		addrs []string
		name  string
	}{
		{"qemu:///system", "", []string{"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "qemu:///system"},
		{"qemu:///session", "/run/user/1000", []string{"/run/user/1000/libvirt/virtqemud-sock", "/run/user/1000/libvirt/libvirt-sock"}, "qemu:///session"},
		{"qemu:///session", "", []string{"/home/alice/.cache/libvirt/virtqemud-sock", "/home/alice/.cache/libvirt/libvirt-sock"}, "qemu:///session"},
		{"qemu+unix:///system", "", []string{"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "qemu:///system"},
		{"ch:///system", "", []string{"/run/libvirt/virtchd-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "ch:///system"},
		{"test+unix:///tmp/h.xml?socket=/tmp/d/libvirt-sock", "", []string{"/tmp/d/libvirt-sock"}, "test:///tmp/h.xml"},
		{"qemu+unix:///system?name=qemu:///embed", "", []string{"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "qemu:///embed"},
	}
	for _, tt := range tests {
		e, err := endpointFor(tt.uri, env(tt.xdg))
		if err != nil {
			t.Errorf("endpointFor(%q): %v", tt.uri, err)
			continue
		}
		if !reflect.DeepEqual(e.addrs, tt.addrs) || e.name != tt.name {
			t.Errorf("endpointFor(%q) = %q %q, want %q %q", tt.uri, e.addrs, e.name, tt.addrs, tt.name)
		}
	}
}

func TestEndpointForErrors(t *testing.T) {
	// A URI on another host (any transport but unix, any host) has no
	// endpoint here: nothing but a local unix socket is ever dialed.
	for _, uri := range []string{"", "qemu", "qemu:system", "://x", "qemu+ext:///system", "qemu+libssh2://h/system", "qemu+unix://hv1/system", "%zz",
		"qemu+tcp://hv1/system", "qemu+tcp://127.0.0.1:16509/system", "qemu+tls://hv1/system", "qemu://hv1/system", "qemu://localhost/system",
		"qemu+ssh://root@hv1/system", "qemu+ssh:///system", "qemu+tcp:///system", "test+tcp://localhost:1234/default"} {
		if _, err := endpointFor(uri, Env{Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "URI") {
			t.Errorf("endpointFor(%q) error = %v, want a URI error", uri, err)
		}
	}
}

func TestParseUUID(t *testing.T) {
	want := [16]byte{0x6f, 0x0d, 0x1b, 0x2a, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x0a}
	for _, s := range []string{
		"6f0d1b2a-0000-4000-8000-00000000000a",
		"6F0D1B2A-0000-4000-8000-00000000000A",
		"6f0d1b2a00004000800000000000000a",
	} {
		u, ok := ParseUUID(s)
		if !ok || u != want {
			t.Errorf("ParseUUID(%q) = %x, %v", s, u, ok)
		}
		if got := u.String(); got != "6f0d1b2a-0000-4000-8000-00000000000a" {
			t.Errorf("UUID.String = %q", got)
		}
	}
	for _, s := range []string{"", "web01", "6f0d1b2a-0000-4000-8000-00000000000", "6f0d1b2a-0000-4000-8000-00000000000g", "+f0d1b2a000040008000000000000000a"} {
		if _, ok := ParseUUID(s); ok {
			t.Errorf("ParseUUID(%q) ok, want not a UUID", s)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want int32
		ok   bool
	}{
		{"7", 7, true}, {"0", 0, true}, {"2147483647", 2147483647, true},
		{"2147483648", 0, false}, {"-1", 0, false}, {"+7", 0, false}, {"7a", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseID(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseID(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSearchList(t *testing.T) {
	cfg := t.TempDir()
	good := "uri_aliases = [\n  \"hv1=qemu+tcp://hv1/system\",\n  \"lab=test+unix:///tmp/h.xml?socket=/tmp/s\",\n]\n"
	write := func(content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(cfg, "libvirt"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg, "libvirt", "libvirt.conf"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := Env{Getenv: func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return cfg
		}
		return ""
	}, Home: "/nonexistent"}
	tests := []struct {
		name  string
		conf  string // "" = no file
		uris  []string
		scope host.Scope
		want  []string
		err   string
	}{
		// A broken file proves it is not read when nothing can be an alias.
		{"defaults read no file", "uri_aliases = oops", nil, host.Any, []string{SystemURI, SessionURI}, ""},
		{"URIs read no file", "uri_aliases = oops", []string{"qemu:///system", "test:///default"}, host.Any, []string{"qemu:///system", "test:///default"}, ""},
		{"aliases expand in place", good, []string{"lab", "qemu:///session", "hv1"}, host.System,
			[]string{"test+unix:///tmp/h.xml?socket=/tmp/s", "qemu:///session", "qemu+tcp://hv1/system"}, ""},
		{"unknown alias", good, []string{"hv2"}, host.Any, nil, `"hv2" is neither a libvirt URI nor an alias in uri_aliases of ` + cfg},
		{"no file", "", []string{"hv1"}, host.Any, nil, "neither a libvirt URI nor an alias"},
		{"broken file", "# ok\nuri_aliases = [ \"hv1=x\",\n", []string{"hv1"}, host.Any, nil, cfg + "/libvirt/libvirt.conf:2: list is not closed"},
		{"bad entry", "uri_aliases = [ \"h.v=x\", \"hv1=y\" ]", []string{"hv1"}, host.Any, nil, "libvirt.conf:1: uri_aliases entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(cfg, "libvirt"))
			if tt.conf != "" {
				write(tt.conf)
			}
			r := &Resolver{URIs: tt.uris, Euid: 1000, Env: env}
			got, err := r.expand(tt.scope)
			if tt.err != "" {
				if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v (class %d), want a usage error containing %q", err, failure.ClassOf(err), tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("searchList = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestHopOf: a URI on another host becomes an ssh to that host (with an ssh
// transport's user and port) running the helper on the same daemon as seen
// from there; a local URI is none.
func TestHopOf(t *testing.T) {
	tests := []struct {
		uri    string
		remote bool
		want   Hop
		err    string
	}{
		{"qemu:///system", false, Hop{}, ""},
		{"qemu+unix:///session", false, Hop{}, ""},
		{"test+unix:///h.xml?socket=/s", false, Hop{}, ""},
		{"qemu+ssh://u@hv:2222/system", true, Hop{Host: "hv", User: "u", Port: "2222", URI: "qemu:///system"}, ""},
		{"qemu+ssh://hv/session", true, Hop{Host: "hv", URI: "qemu:///session"}, ""},
		{"qemu+libssh://u@hv/system", true, Hop{Host: "hv", User: "u", URI: "qemu:///system"}, ""},
		{"qemu+libssh2://hv:22/system?known_hosts=/k", true, Hop{Host: "hv", Port: "22", URI: "qemu:///system"}, ""},
		{"qemu+ssh:///system", true, Hop{Host: "localhost", URI: "qemu:///system"}, ""},
		{"qemu+ssh://localhost/system", true, Hop{Host: "localhost", URI: "qemu:///system"}, ""},
		{"test+ssh://hv/tmp/h.xml?socket=/run/my%20sock", true, Hop{Host: "hv", URI: "test+unix:///tmp/h.xml?socket=%2Frun%2Fmy+sock"}, ""},
		{"qemu+ssh://hv/system?name=qemu:///embed", true, Hop{Host: "hv", URI: "qemu:///embed"}, ""},
		{"qemu+ssh://[::1]:2222/system", true, Hop{Host: "::1", Port: "2222", URI: "qemu:///system"}, ""},
		// tcp and tls name libvirtd's port and a SASL user, not sshd's.
		{"qemu+tcp://u@hv:16509/system", true, Hop{Host: "hv", URI: "qemu:///system"}, ""},
		{"qemu+tls://hv/system", true, Hop{Host: "hv", URI: "qemu:///system"}, ""},
		{"qemu://hv/system", true, Hop{Host: "hv", URI: "qemu:///system"}, ""},
		{"test+tcp://127.0.0.1:1234/tmp/h.xml", true, Hop{Host: "127.0.0.1", URI: "test:///tmp/h.xml"}, ""},
		{"qemu+ext://hv/system", true, Hop{}, `transport "ext" cannot be carried over ssh`},
		{"qemu+ssh://-oProxyCommand=x/system", true, Hop{}, "not a host"},
		{"%zz", false, Hop{}, "bad --connect URI"},
	}
	for _, tt := range tests {
		h, remote, err := HopOf(tt.uri)
		if tt.err != "" {
			if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("HopOf(%q) error = %v, want a usage error with %q", tt.uri, err, tt.err)
			}
			continue
		}
		if err != nil || remote != tt.remote || h != tt.want {
			t.Errorf("HopOf(%q) = %+v, %v, %v; want %+v, %v", tt.uri, h, remote, err, tt.want, tt.remote)
		}
	}
}

// TestRemoteURIs: a search list with a URI on another host is refused by
// every lookup (exit 2, naming where to run it instead), and Hop takes the
// ProxyCommand form there only when that URI is the whole list.
func TestRemoteURIs(t *testing.T) {
	env := Env{Getenv: func(string) string { return "" }}
	tests := []struct {
		uris []string
		hop  *Hop
		err  string // Hop's
	}{
		{[]string{"qemu:///system"}, nil, ""},
		{[]string{"qemu+ssh://u@hv:2222/system"}, &Hop{Host: "hv", User: "u", Port: "2222", URI: "qemu:///system"}, ""},
		{[]string{"qemu:///system", "qemu+ssh://hv/system"}, nil, "mixes a daemon on host hv with others: a name must mean one VM (search one host: --connect qemu+ssh://hv/system alone, or reach it from here with HV/FORM: ssh hv/qemu:system/web01)"},
		{[]string{"qemu+tcp://a/system", "qemu+tcp://b/system"}, nil, "mixes a daemon on host a"},
	}
	for _, tt := range tests {
		r := &Resolver{URIs: tt.uris, Euid: 1000, Env: env}
		hop, err := r.Hop(host.Any, "web01")
		if tt.err != "" {
			if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Hop(%q) error = %v, want a usage error with %q", tt.uris, err, tt.err)
			}
		} else if err != nil || !reflect.DeepEqual(hop, tt.hop) {
			t.Errorf("Hop(%q) = %+v, %v; want %+v", tt.uris, hop, err, tt.hop)
		}
		if hop == nil && tt.err == "" {
			continue
		}
		_, err = r.Resolve(context.Background(), host.Spec{Kind: host.Domain, Domain: "web01"}, 22)
		if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "only the ProxyCommand form reaches (over ssh)") {
			t.Errorf("Resolve(%q) error = %v, want a usage error", tt.uris, err)
		}
		if _, err := r.List(context.Background(), host.Any); failure.ClassOf(err) != failure.Usage {
			t.Errorf("List(%q) error = %v, want a usage error", tt.uris, err)
		}
		if _, err := r.Running(context.Background(), host.Any); failure.ClassOf(err) != failure.Usage {
			t.Errorf("Running(%q) error = %v, want a usage error", tt.uris, err)
		}
	}
	r := &Resolver{URIs: []string{"qemu+ssh://hv/system"}, Env: env}
	_, err := r.Resolve(context.Background(), host.Spec{Kind: host.Domain, Domain: "my vm"}, 22)
	if want := "run this on hv with --connect qemu:///system, or reach it from here with HV/FORM: ssh 'hv/qemu:system/my vm'"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Resolve error = %v, want the hint %q", err, want)
	}
}

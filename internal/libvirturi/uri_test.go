package libvirturi

import (
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
		e, err := EndpointFor(tt.uri, env(tt.xdg))
		if err != nil {
			t.Errorf("EndpointFor(%q): %v", tt.uri, err)
			continue
		}
		if !reflect.DeepEqual(e.Addrs, tt.addrs) || e.Name != tt.name {
			t.Errorf("EndpointFor(%q) = %q %q, want %q %q", tt.uri, e.Addrs, e.Name, tt.addrs, tt.name)
		}
	}
}

func TestEndpointForErrors(t *testing.T) {
	// A URI on another host (any transport but unix, any host) has no
	// endpoint here: nothing but a local unix socket is ever dialed.
	for _, uri := range []string{"", "qemu", "qemu:system", "://x", "qemu+ext:///system", "qemu+libssh2://h/system", "qemu+unix://hv1/system", "%zz",
		"qemu+tcp://hv1/system", "qemu+tcp://127.0.0.1:16509/system", "qemu+tls://hv1/system", "qemu://hv1/system", "qemu://localhost/system",
		"qemu+ssh://root@hv1/system", "qemu+ssh:///system", "qemu+tcp:///system", "test+tcp://localhost:1234/default"} {
		if _, err := EndpointFor(uri, Env{Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "URI") {
			t.Errorf("EndpointFor(%q) error = %v, want a URI error", uri, err)
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
			s := Search{URIs: tt.uris, Euid: 1000, Env: env}
			got, err := s.expand(tt.scope)
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

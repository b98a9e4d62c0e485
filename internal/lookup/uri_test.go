package lookup

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
		uri     string
		xdg     string
		network string
		addrs   []string
		name    string
	}{
		{"qemu:///system", "", "unix", []string{"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "qemu:///system"},
		{"qemu:///session", "/run/user/1000", "unix", []string{"/run/user/1000/libvirt/virtqemud-sock", "/run/user/1000/libvirt/libvirt-sock"}, "qemu:///session"},
		{"qemu:///session", "", "unix", []string{"/home/alice/.cache/libvirt/virtqemud-sock", "/home/alice/.cache/libvirt/libvirt-sock"}, "qemu:///session"},
		{"qemu+unix:///system", "", "unix", []string{"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "qemu:///system"},
		{"ch:///system", "", "unix", []string{"/run/libvirt/virtchd-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "ch:///system"},
		{"test+unix:///tmp/h.xml?socket=/tmp/d/libvirt-sock", "", "unix", []string{"/tmp/d/libvirt-sock"}, "test:///tmp/h.xml"},
		{"qemu+tcp://hv1/system", "", "tcp", []string{"hv1:16509"}, "qemu:///system"},
		{"qemu+tcp://hv1:1234/system", "", "tcp", []string{"hv1:1234"}, "qemu:///system"},
		{"qemu+unix:///system?name=qemu:///embed", "", "unix", []string{"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"}, "qemu:///embed"},
	}
	for _, tt := range tests {
		e, err := endpointFor(tt.uri, env(tt.xdg))
		if err != nil {
			t.Errorf("endpointFor(%q): %v", tt.uri, err)
			continue
		}
		if e.network != tt.network || !reflect.DeepEqual(e.addrs, tt.addrs) || e.name != tt.name {
			t.Errorf("endpointFor(%q) = %q %q %q, want %q %q %q", tt.uri, e.network, e.addrs, e.name, tt.network, tt.addrs, tt.name)
		}
	}
}

func TestEndpointForErrors(t *testing.T) {
	for _, uri := range []string{"", "qemu", "qemu:system", "://x", "qemu+ext:///system", "qemu+libssh2://h/system", "qemu+unix://hv1/system", "%zz",
		// No TLS or SSH client here: a remote daemon is reached with HV/FORM.
		"qemu+tls://hv1/system", "qemu://hv1/system", "qemu+ssh://root@hv1/system"} {
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
			got, err := r.searchList(tt.scope)
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

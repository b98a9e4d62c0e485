package lookup

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
)

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

// TestRemoteURIs: a search list with a URI on another host is refused by
// every lookup (exit 2, naming where to run it instead), and Hop takes the
// ProxyCommand form there only when that URI is the whole list.
func TestRemoteURIs(t *testing.T) {
	env := libvirturi.Env{Getenv: func(string) string { return "" }}
	tests := []struct {
		uris []string
		hop  *libvirturi.Hop
		err  string // Hop's
	}{
		{[]string{"qemu:///system"}, nil, ""},
		{[]string{"qemu+ssh://u@hv:2222/system"}, &libvirturi.Hop{Host: "hv", User: "u", Port: "2222", URI: "qemu:///system"}, ""},
		{[]string{"qemu:///system", "qemu+ssh://hv/system"}, nil, "mixes a daemon on host hv with others: a name must mean one VM (search one host: --connect qemu+ssh://hv/system alone, or reach it from here with HV/FORM: ssh hv/qemu:system/web01)"},
		{[]string{"qemu+tcp://a/system", "qemu+tcp://b/system"}, nil, "mixes a daemon on host a"},
	}
	for _, tt := range tests {
		r := &Resolver{Search: libvirturi.Search{URIs: tt.uris, Euid: 1000, Env: env}}
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
	r := &Resolver{Search: libvirturi.Search{URIs: []string{"qemu+ssh://hv/system"}, Env: env}}
	_, err := r.Resolve(context.Background(), host.Spec{Kind: host.Domain, Domain: "my vm"}, 22)
	if want := "run this on hv with --connect qemu:///system, or reach it from here with HV/FORM: ssh 'hv/qemu:system/my vm'"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Resolve error = %v, want the hint %q", err, want)
	}
}

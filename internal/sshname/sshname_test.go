package sshname

import (
	"fmt"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

func TestRefused(t *testing.T) {
	ok := []string{"qemu/web01", "qemu/Dev-Box", "qemu%vm", "qemu/a:b", "qemu/日本", "qemu/a*b", "qemu/-x"}
	bad := []string{"qemu/my vm", "qemu/a;b", "qemu/a'b", `qemu/a"b`, "qemu/a`b", "qemu/$x", `qemu/a\b`,
		"qemu/a&b", "qemu/a<b", "qemu/a>b", "qemu/a|b", "qemu/(a)", "qemu/{a}", "qemu/a,b", "qemu/a@b",
		"qemu/a\tb", "qemu/a\x01b", "qemu/a\u0085b", "-qemu/x"}
	for _, s := range ok {
		if err := Refused(s); err != nil {
			t.Errorf("Refused(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if Refused(s) == nil {
			t.Errorf("Refused(%q) = nil, want an error", s)
		}
	}
}

func TestFor(t *testing.T) {
	e := func(uri, name, uuid string, id int32) lookup.Entry {
		return lookup.Entry{Domain: target.Domain{URI: uri, Name: name, UUID: uuid, ID: id}}
	}
	const u = "-0000-4000-8000-000000000000"
	ls := &lookup.Listing{Entries: []lookup.Entry{
		e(libvirturi.SystemURI, "web01", "00000001"+u, 1),
		e(libvirturi.SystemURI, "Dev-Box", "00000002"+u, 2),
		e(libvirturi.SystemURI, "my vm", "00000003"+u, 3),
		e(libvirturi.SystemURI, "db:1", "00000004"+u, 4),
		e(libvirturi.SystemURI, "shared", "00000005"+u, 5),
		e(libvirturi.SessionURI, "shared", "00000006"+u, 1),
		e(libvirturi.SessionURI, "a,b", "00000007"+u, 2),
		e(libvirturi.SystemURI, "system%x", "00000008"+u, 8),
		e(libvirturi.SystemURI, "00000009"+u, "0000000a"+u, 9),
		e(libvirturi.SystemURI, "named-like-9", "00000009"+u, 10),
	}}
	defaults := func(s host.Scope) []string { return libvirturi.DefaultURIs(s, 1000) }
	tests := []struct {
		i        int
		ssh, scp string
	}{
		{0, "qemu/web01", "qemu%web01"},
		{1, "qemu/Dev-Box", "qemu%Dev-Box"}, // capitals kept: the drop-in passes %n
		{2, "qemu/00000003" + u, "qemu%00000003" + u},
		{3, "qemu/db:1", "qemu%00000004" + u}, // scp would split at ':'
		{4, "qemu/shared", "qemu%shared"},
		{5, "qemu:session/shared", "qemu%session%shared"}, // qemu/shared is the system one
		{6, "qemu/00000007" + u, "qemu%00000007" + u},
		{7, "qemu/system%x", "qemu%system%system%x"}, // qemu%system%x means x on system
		{9, "qemu/named-like-9", "qemu%named-like-9"},
	}
	for _, tt := range tests {
		got := For(ls, &ls.Entries[tt.i], defaults)
		if got.SSH != tt.ssh || got.SCP != tt.scp {
			t.Errorf("For(%q on %s) = %+v, want {SSH:%s SCP:%s}", ls.Entries[tt.i].Name, ls.Entries[tt.i].URI, got, tt.ssh, tt.scp)
		}
	}
	// The domain named like another's UUID: its UUID form is its own, but
	// its name reaches it first.
	if got := For(ls, &ls.Entries[8], defaults); got.SSH != "qemu/00000009"+u {
		t.Errorf("For(UUID-named) = %+v", got)
	}
	// With --connect, every qemu form searches the same URIs: a domain
	// shadowed by a same-named one earlier is reached by its UUID.
	connect := func(host.Scope) []string { return []string{libvirturi.SystemURI, libvirturi.SessionURI} }
	if got := For(ls, &ls.Entries[5], connect); got.SSH != "qemu/00000006"+u {
		t.Errorf("For(shadowed, --connect) = %+v, want its UUID", got)
	}
}

func TestAlias(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web01", "web01"},
		{"Dev-Box", "Dev-Box"},
		{"my vm", "my-vm"},
		{"a  ,;b", "a-b"},
		{"-lead", "lead"},
		{"..x", "x"},
		{"x.", "x."},
		{"trail!", "trail"},
		{"*", ""},
		{"日本", "日本"},
		{"café bar", "café-bar"},
		{"\u00a0x\u200by", "x-y"},
		{"vm_1.2", "vm_1.2"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Alias(tt.in); got != tt.want {
			t.Errorf("Alias(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzAlias(f *testing.F) {
	for _, s := range []string{"web01", "my vm", "-x", "日本", "a*b?c!d", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		a := Alias(name)
		if a == "" {
			return
		}
		if err := Refused(a); err != nil {
			t.Fatalf("Alias(%q) = %q, which ssh refuses: %v", name, a, err)
		}
		if strings.ContainsAny(a, "*?!, \t/%") {
			t.Fatalf("Alias(%q) = %q has a pattern or separator character", name, a)
		}
	})
}

func TestProxyTarget(t *testing.T) {
	const a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
	ls := &lookup.Listing{Entries: []lookup.Entry{
		{Domain: target.Domain{URI: "u:///1", Name: "web", UUID: a, ID: 1}},
		{Domain: target.Domain{URI: "u:///1", Name: a, UUID: b, ID: 2}}, // named like web's UUID
		{Domain: target.Domain{URI: "u:///2", Name: "web", UUID: a, ID: 1}},
	}}
	for i, want := range []string{"web", b, a} {
		if got := ProxyTarget(ls, &ls.Entries[i]); got != want {
			t.Errorf("ProxyTarget(%q on %s) = %q, want %q", ls.Entries[i].Name, ls.Entries[i].URI, got, want)
		}
	}
}

// BenchmarkForAll names every domain of a 1,000-domain listing, as `list`
// does: Find is linear, so this is quadratic in the number of domains.
func BenchmarkForAll(b *testing.B) {
	ls := &lookup.Listing{}
	for i := range 1000 {
		uri := libvirturi.SystemURI
		if i%2 == 1 {
			uri = libvirturi.SessionURI
		}
		ls.Entries = append(ls.Entries, lookup.Entry{Domain: target.Domain{URI: uri,
			Name: fmt.Sprintf("vm-%04d", i/2), UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ID: int32(i + 1)}})
	}
	defaults := func(s host.Scope) []string { return libvirturi.DefaultURIs(s, 1000) }
	for b.Loop() {
		for i := range ls.Entries {
			For(ls, &ls.Entries[i], defaults)
		}
	}
}

// TestPlain: the plain name of a running domain is its name when the
// plain-names rules take it (not an address, not the user's in the hosts
// file, not localhost) and the lookup finds this domain by it, else its
// UUID; a domain that does not run has none.
func TestPlain(t *testing.T) {
	const u = "-0000-4000-8000-000000000000"
	e := func(uri, name, uuid, state string) lookup.Entry {
		return lookup.Entry{Domain: target.Domain{URI: uri, Name: name, UUID: uuid, ID: 1, State: state}}
	}
	ls := &lookup.Listing{Entries: []lookup.Entry{
		e(libvirturi.SystemURI, "web01", "00000001"+u, "running"),
		e(libvirturi.SystemURI, "Dev-Box", "00000002"+u, "idle"),
		e(libvirturi.SystemURI, "my vm", "00000003"+u, "running"),    // ssh refuses the space
		e(libvirturi.SystemURI, "7", "00000004"+u, "running"),        // an address to ssh
		e(libvirturi.SystemURI, "10.0.0.5", "00000005"+u, "running"), // an address
		e(libvirturi.SystemURI, "shared", "00000006"+u, "running"),
		e(libvirturi.SessionURI, "shared", "00000007"+u, "running"), // the system one has the name
		e(libvirturi.SystemURI, "paused", "00000008"+u, "paused"),
		e(libvirturi.SystemURI, "qemu%x", "00000009"+u, "running"), // the helper's own form
	}}
	hosts := []byte("127.0.0.1 localhost\n10.0.0.9 LISTED # the user's\n# 10.0.0.8 commented\n")
	ls.Entries = append(ls.Entries,
		e(libvirturi.SystemURI, "listed", "0000000a"+u, "running"),    // in the hosts file
		e(libvirturi.SystemURI, "commented", "0000000b"+u, "running"), // only in a comment there
		e(libvirturi.SystemURI, "localhost", "0000000c"+u, "running"))
	want := []string{"web01", "Dev-Box", "00000003" + u, "00000004" + u, "00000005" + u, "shared", "00000007" + u, "", "00000009" + u,
		"0000000a" + u, "commented", "0000000c" + u}
	defaults := func(s host.Scope) []string { return libvirturi.DefaultURIs(s, 1000) }
	for i, w := range want {
		if got := Plain(ls, &ls.Entries[i], defaults, hosts); got != w {
			t.Errorf("Plain(%q on %s) = %q, want %q", ls.Entries[i].Name, ls.Entries[i].URI, got, w)
		}
	}
}

package lookup

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// findListing has the traps Find must get right: the same name on two URIs,
// a domain named like another's ID, one named like another's UUID, and an
// inactive domain (no ID).
func findListing() *Listing {
	e := func(uri, name, uuid string, id int32) Entry {
		return Entry{Domain: target.Domain{URI: uri, Name: name, UUID: uuid, ID: id}}
	}
	return &Listing{URIs: []string{libvirturi.SystemURI, libvirturi.SessionURI}, Entries: []Entry{
		e(libvirturi.SystemURI, "vm", "11111111-1111-1111-1111-111111111111", 1),
		e(libvirturi.SystemURI, "web", "22222222-2222-2222-2222-222222222222", 2),
		e(libvirturi.SystemURI, "1", "33333333-3333-3333-3333-333333333333", 3),
		e(libvirturi.SystemURI, "off", "44444444-4444-4444-4444-444444444444", -1),
		e(libvirturi.SystemURI, "22222222-2222-2222-2222-222222222222", "55555555-5555-5555-5555-555555555555", 5),
		e(libvirturi.SessionURI, "vm", "66666666-6666-6666-6666-666666666666", 1),
		e(libvirturi.SessionURI, "only-session", "77777777-7777-7777-7777-777777777777", 7),
	}}
}

func TestFind(t *testing.T) {
	ls := findListing()
	both := []string{libvirturi.SystemURI, libvirturi.SessionURI}
	tests := []struct {
		host string
		uris []string
		want int // index in ls.Entries; -1 = none
	}{
		{"qemu/vm", both, 0},
		{"qemu:session/vm", []string{libvirturi.SessionURI}, 5},
		{"qemu/only-session", both, 6},
		{"qemu/1", both, 2},                                    // the name "1" beats ID 1
		{"qemu/2", both, 1},                                    // ID 2
		{"qemu/7", both, 6},                                    // ID 7, on session
		{"qemu/22222222-2222-2222-2222-222222222222", both, 4}, // the name beats web's UUID
		{"qemu/22222222222222222222222222222222", both, 1},     // web's UUID, no dashes
		{"qemu/66666666-6666-6666-6666-666666666666", both, 5}, // by UUID on session
		{"qemu/44444444-4444-4444-4444-444444444444", both, 3}, // inactive, by UUID
		{"qemu/-1", both, -1},                                  // no ID -1, ever
		{"qemu/nope", both, -1},
		{"qemu/vm", []string{"test:///other"}, -1},
	}
	for _, tt := range tests {
		spec, err := host.Parse(tt.host)
		if err != nil {
			t.Fatalf("host.Parse(%q): %v", tt.host, err)
		}
		got := ls.Find(spec, tt.uris)
		switch {
		case tt.want < 0 && got != nil:
			t.Errorf("Find(%s) = %q on %s, want none", tt.host, got.Name, got.URI)
		case tt.want >= 0 && got != &ls.Entries[tt.want]:
			t.Errorf("Find(%s) = %v, want %q on %s", tt.host, got, ls.Entries[tt.want].Name, ls.Entries[tt.want].URI)
		}
	}
	if got := ls.Find(host.Spec{Kind: host.VSock, CID: 3}, both); got != nil {
		t.Errorf("Find(vsock/3) = %v, want nil", got)
	}
}

func TestListFailure(t *testing.T) {
	absent := outcome{uri: "a", err: errors.Join(libvirturi.ErrNoSocket)}
	broken := outcome{uri: "b", err: errors.New("EOF")}
	deniedO := outcome{uri: "c", err: errors.New("permission denied"), denied: true}
	tests := []struct {
		failed   []outcome
		searched int
		want     string // "" = no error
	}{
		{nil, 2, ""},
		{[]outcome{absent}, 2, ""}, // one skipped, one answered
		{[]outcome{absent, absent}, 2, "no libvirt daemon socket exists: start virtqemud or libvirtd"},
		{[]outcome{absent, {uri: "b", err: errors.New("EOF"), sock: "/run/b sock"}}, 2, "no libvirt daemon answers for b on /run/b sock"},
		{[]outcome{broken}, 2, "b: EOF"},
		{[]outcome{absent, deniedO}, 2, "join the libvirt group"},
		// the session daemon exited when idle (no socket) or died (refused)
		{[]outcome{{uri: libvirturi.SessionURI, err: libvirturi.ErrNoSocket}}, 1, "session daemon is not running (libvirt's clients start it on demand; it exits when idle): virsh -c qemu:///session list starts it"},
		{[]outcome{{uri: libvirturi.SessionURI, err: syscall.ECONNREFUSED, sock: "/run/user/1000/libvirt/libvirt-sock"}}, 1, "virsh -c qemu:///session list starts it again"},
	}
	for _, tt := range tests {
		err := listFailure(tt.failed, tt.searched)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("listFailure(%v) = %v, want nil", tt.failed, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("listFailure(%v) = %v, want it to contain %q", tt.failed, err, tt.want)
		}
	}
}

// List without a daemon: absent sockets are skipped, and with none left the
// listing fails as unreachable; a bad URI is a usage error at once.
func TestListWithoutDaemons(t *testing.T) {
	dir := t.TempDir()
	env := libvirturi.Env{Getenv: func(string) string { return "" }, Home: dir}
	tests := []struct {
		uris  []string
		class failure.Class
		text  string
	}{
		{[]string{"test+unix:///h.xml?socket=" + dir + "/a", "test+unix:///h.xml?socket=" + dir + "/b"}, failure.Unreachable, "no daemon socket (" + dir + "/a)"},
		{[]string{"qemu+ext:///system"}, failure.Usage, `transport "ext" cannot be carried over ssh`},
		{[]string{"not a uri"}, failure.Usage, "bad --connect URI"},
	}
	for _, tt := range tests {
		r := &Resolver{Search: libvirturi.Search{URIs: tt.uris, Env: env}}
		ls, err := r.List(context.Background(), host.Any)
		if failure.ClassOf(err) != tt.class || err == nil || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("List(%q) = %v (class %d), want class %d with %q", tt.uris, err, failure.ClassOf(err), tt.class, tt.text)
		}
		if len(ls.Entries) != 0 {
			t.Errorf("List(%q) listed %d domains", tt.uris, len(ls.Entries))
		}
	}
	r := &Resolver{Search: libvirturi.Search{URIs: []string{"test+unix:///h.xml?socket=" + dir + "/a"}, Env: env}}
	ls, _ := r.List(context.Background(), host.Any)
	if len(ls.Skipped) != 1 || ls.Skipped[0] != r.URIs[0] {
		t.Errorf("Skipped = %q, want the absent URI", ls.Skipped)
	}
}

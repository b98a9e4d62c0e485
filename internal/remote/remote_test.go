package remote

import (
	"os"
	"slices"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
)

func TestRemoteArgv(t *testing.T) {
	spec := host.Spec{Kind: host.Remote, Hypervisor: "hv1", Inner: "qemu/web01"}
	got := Argv("", "/usr/libexec/libvirt-ssh-proxy", ForSpec(spec), "22")
	want := []string{"ssh", "-oRequestTTY=no", "--", "hv1", "/usr/libexec/libvirt-ssh-proxy", "--relay", "qemu/web01", "22"}
	if !slices.Equal(got, want) {
		t.Errorf("Argv = %q, want %q", got, want)
	}
	spec = host.Spec{Kind: host.Remote, Hypervisor: "hv.example", Inner: "qemu%it's $(id)`x`"}
	got = Argv("/tmp/my cfg", "/opt/a b/helper", ForSpec(spec), "2222")
	want = []string{"ssh", "-F", "/tmp/my cfg", "-oRequestTTY=no", "--", "hv.example", "'/opt/a b/helper'", "--relay", `'qemu%it'\''s $(id)` + "`x`'", "2222"}
	if !slices.Equal(got, want) {
		t.Errorf("Argv = %q, want %q", got, want)
	}
	// No --remote-command: this binary's own path, shell-quoted.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	got = Argv("", "", ForSpec(spec), "22")
	if len(got) < 5 || got[4] != shquote.Quote(self) {
		t.Errorf("Argv without a helper = %q, want %s as the helper", got, shquote.Quote(self))
	}
}

// TestRemoteArgvURI: a --connect URI on another host becomes ssh to that
// host with the URI's user and port, running the helper there on the same
// daemon, as seen from there, and the same domain.
func TestRemoteArgvURI(t *testing.T) {
	cases := []struct {
		uri, domain string
		want        []string
	}{
		{"qemu+ssh://u@hv:2222/system", "web01",
			[]string{"ssh", "-oUser=u", "-oPort=2222", "-oRequestTTY=no", "--", "hv", "/h", "--relay", "--connect", "qemu:///system", "qemu/web01", "22"}},
		{"qemu+tcp://127.0.0.1:16509/session", "my vm",
			[]string{"ssh", "-oRequestTTY=no", "--", "127.0.0.1", "/h", "--relay", "--connect", "qemu:///session", "'qemu/my vm'", "22"}},
		{"test+ssh://hv/tmp/h.xml?socket=/s", "a",
			[]string{"ssh", "-oRequestTTY=no", "--", "hv", "/h", "--relay", "--connect", "'test+unix:///tmp/h.xml?socket=%2Fs'", "qemu/a", "22"}},
	}
	for _, c := range cases {
		h, remote, err := libvirturi.HopOf(c.uri)
		if err != nil || !remote {
			t.Fatalf("HopOf(%q) = %v, %v", c.uri, remote, err)
		}
		got := Argv("", "/h", ForURI(h, c.domain), "22")
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: Argv = %q, want %q", c.uri, got, c.want)
		}
	}
}

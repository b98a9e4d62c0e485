package main

import (
	"slices"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
)

func TestRemoteArgv(t *testing.T) {
	spec := host.Spec{Kind: host.Remote, Hypervisor: "hv1", Inner: "qemu/web01"}
	got := remoteArgv("", "/usr/libexec/libvirt-ssh-proxy", spec, "22")
	want := []string{"ssh", "-oRequestTTY=no", "--", "hv1", "/usr/libexec/libvirt-ssh-proxy", "--relay", "qemu/web01", "22"}
	if !slices.Equal(got, want) {
		t.Errorf("remoteArgv = %q, want %q", got, want)
	}
	spec = host.Spec{Kind: host.Remote, Hypervisor: "hv.example", Inner: "qemu%it's $(id)`x`"}
	got = remoteArgv("/tmp/my cfg", "/opt/a b/helper", spec, "2222")
	want = []string{"ssh", "-F", "/tmp/my cfg", "-oRequestTTY=no", "--", "hv.example", "'/opt/a b/helper'", "--relay", `'qemu%it'\''s $(id)` + "`x`'", "2222"}
	if !slices.Equal(got, want) {
		t.Errorf("remoteArgv = %q, want %q", got, want)
	}
}

func TestParseArgsRemote(t *testing.T) {
	o, err := parseArgs([]string{"-F", "cfg", "--remote-command", "/x/helper", "hv1/qemu/a", "22"})
	if err != nil || o.sshConfig != "cfg" || o.remoteCommand != "/x/helper" || !slices.Equal(o.args, []string{"hv1/qemu/a", "22"}) {
		t.Errorf("parseArgs = %+v, %v", o, err)
	}
	for _, argv := range [][]string{
		{"--remote-command", "", "hv1/qemu/a", "22"},
		{"--remote-command", "x", "resolve", "hv1/qemu/a"},
		{"--remote-command"},
	} {
		if _, err := parseArgs(argv); err == nil {
			t.Errorf("parseArgs(%q) accepted", argv)
		}
	}
}

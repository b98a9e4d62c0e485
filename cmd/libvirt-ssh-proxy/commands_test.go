package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseArgsCommands(t *testing.T) {
	tests := []struct {
		argv []string
		want options
	}{
		{[]string{"list"}, options{command: "list", args: []string{}, timeout: defaultTimeout}},
		{[]string{"list", "--json", "-c", "a:///x", "-c", "b:///y"}, options{command: "list", args: []string{}, timeout: defaultTimeout, json: true, connect: []string{"a:///x", "b:///y"}}},
		{[]string{"doctor", "qemu/vm"}, options{command: "doctor", args: []string{"qemu/vm"}, timeout: defaultTimeout}},
		{[]string{"doctor", "-F", "cfg", "--system-config=sys", "web01", "2222"}, options{command: "doctor", args: []string{"web01", "2222"}, timeout: defaultTimeout, sshConfig: "cfg", systemConfig: "sys"}},
		{[]string{"--ssh-config", "cfg", "doctor", "web01"}, options{command: "doctor", args: []string{"web01"}, timeout: defaultTimeout, sshConfig: "cfg"}},
		{[]string{"ssh-config"}, options{command: "ssh-config", args: []string{}, timeout: defaultTimeout}},
		{[]string{"ssh-config", "qemu/a", "qemu%b", "qemu:session/c"}, options{command: "ssh-config", args: []string{"qemu/a", "qemu%b", "qemu:session/c"}, timeout: defaultTimeout}},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.argv)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.argv, err)
			continue
		}
		if got.args == nil {
			got.args = []string{}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tt.argv, got, tt.want)
		}
	}
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"list", "qemu/vm"}, "list takes no arguments"},
		{[]string{"doctor"}, "doctor takes HOST"},
		{[]string{"doctor", "a", "22", "x"}, "doctor takes HOST"},
		{[]string{"doctor", "-F"}, "needs a value"},
		{[]string{"-F", "cfg", "resolve", "qemu/vm"}, "go with doctor"},
		{[]string{"--system-config", "s", "qemu/vm", "22"}, "go with doctor"},
	} {
		if _, err := parseArgs(tt.argv); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q) error = %v, want %q", tt.argv, err, tt.want)
		}
	}
}

// parseHelper reads back exactly the ProxyCommands ssh-config and the
// drop-in write.
func TestParseHelper(t *testing.T) {
	h, err := parseHelper([]string{"--connect", "test:///x", "qemu/u", "22"})
	if err != nil || h.Host != "qemu/u" || h.Port != "22" || !reflect.DeepEqual(h.URIs, []string{"test:///x"}) {
		t.Errorf("parseHelper = %+v, %v", h, err)
	}
	for _, bad := range [][]string{{"resolve", "qemu/u"}, {"qemu/u"}, {"--help"}, {"--bogus", "a", "1"}} {
		if _, err := parseHelper(bad); err == nil {
			t.Errorf("parseHelper(%q) succeeded", bad)
		}
	}
}

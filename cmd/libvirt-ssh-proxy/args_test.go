package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		argv []string
		want options
	}{
		{[]string{"qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: defaultTimeout}},
		{[]string{"-v", "--relay", "qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: defaultTimeout, verbose: true, relay: true}},
		{[]string{"qemu/vm", "22", "-c", "a:///x", "--connect=b:///y"}, options{args: []string{"qemu/vm", "22"}, connect: []string{"a:///x", "b:///y"}, timeout: defaultTimeout}},
		{[]string{"--timeout", "2", "qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: 2 * time.Second}},
		{[]string{"--timeout=1500ms", "qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: 1500 * time.Millisecond}},
		{[]string{"-t", "0.5", "qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: 500 * time.Millisecond}},
		{[]string{"resolve", "qemu/vm", "--json"}, options{command: "resolve", args: []string{"qemu/vm"}, timeout: defaultTimeout, json: true}},
		{[]string{"--json", "-c", "x:///y", "resolve", "qemu/vm", "2222"}, options{command: "resolve", args: []string{"qemu/vm", "2222"}, connect: []string{"x:///y"}, timeout: defaultTimeout, json: true}},
		{[]string{"--", "-odd", "22"}, options{args: []string{"-odd", "22"}, timeout: defaultTimeout}},
		{[]string{"--help"}, options{help: true, timeout: defaultTimeout}},
		{[]string{"help"}, options{help: true, args: []string{}, timeout: defaultTimeout}},
		{[]string{"--version"}, options{version: true, timeout: defaultTimeout}},
		{[]string{"--fdpass", "vsock/3", "22"}, options{args: []string{"vsock/3", "22"}, timeout: defaultTimeout, fdpass: true}},
		{[]string{"qemu/vm", "22", "--no-ip-fallback"}, options{args: []string{"qemu/vm", "22"}, timeout: defaultTimeout, noIPFallback: true}},
		{[]string{"--lease-dir", "/tmp/l", "resolve", "qemu/vm", "--lease-dir=/x"}, options{command: "resolve", args: []string{"qemu/vm"}, timeout: defaultTimeout, leaseDir: "/x"}},
		{[]string{"--wait", "qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: defaultTimeout, wait: defaultWait}},
		{[]string{"qemu/vm", "22", "--wait=30s"}, options{args: []string{"qemu/vm", "22"}, timeout: defaultTimeout, wait: 30 * time.Second}},
		{[]string{"--wait=90", "-t", "1", "qemu/vm", "22"}, options{args: []string{"qemu/vm", "22"}, timeout: time.Second, wait: 90 * time.Second}},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.argv)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.argv, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tt.argv, got, tt.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{nil, "want HOST PORT"},
		{[]string{"qemu/vm"}, "want HOST PORT"},
		{[]string{"qemu/vm", "22", "extra"}, "want HOST PORT"},
		{[]string{"resolve"}, "resolve takes HOST"},
		{[]string{"resolve", "a", "b", "c"}, "resolve takes HOST"},
		{[]string{"--bogus", "qemu/vm", "22"}, "unknown option --bogus"},
		{[]string{"qemu/vm", "22", "-c"}, "needs a value"},
		{[]string{"--connect=", "qemu/vm", "22"}, "non-empty URI"},
		{[]string{"--timeout", "soon", "qemu/vm", "22"}, "not a duration"},
		{[]string{"--timeout", "0", "qemu/vm", "22"}, "more than zero"},
		{[]string{"--timeout", "-2s", "qemu/vm", "22"}, "more than zero"},
		{[]string{"--timeout", "NaN", "qemu/vm", "22"}, "not a duration"},
		{[]string{"--timeout", "1e300", "qemu/vm", "22"}, "not a duration"},
		{[]string{"--wait=soon", "qemu/vm", "22"}, `--wait "soon" is not a duration`},
		{[]string{"--wait=0", "qemu/vm", "22"}, "--wait \"0\" must be more than zero"},
		{[]string{"--wait=", "qemu/vm", "22"}, "--wait"},
		{[]string{"--wait", "30s", "qemu/vm", "22"}, "want HOST PORT"},
		{[]string{"--fdpass", "--relay", "qemu/vm", "22"}, "exclude each other"},
		{[]string{"--relay=yes", "qemu/vm", "22"}, "takes no value"},
		{[]string{"--json", "qemu/vm", "22"}, "--json goes with a command"},
		{[]string{"--lease-dir", "qemu/vm", "22"}, "want HOST PORT"},
		{[]string{"--lease-dir=", "qemu/vm", "22"}, "non-empty directory"},
		{[]string{"qemu/vm", "22", "--lease-dir"}, "needs a value"},
		{[]string{"--no-ip-fallback=1", "qemu/vm", "22"}, "takes no value"},
	}
	for _, tt := range tests {
		_, err := parseArgs(tt.argv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q) error = %v, want it to contain %q", tt.argv, err, tt.want)
		}
	}
}

// TestParseArgsCount: a wrong number of arguments is counted in words that
// agree with the number.
func TestParseArgsCount(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"qemu/a"}, "(got 1 argument)"},
		{[]string{"list", "a", "b"}, "(got 2 arguments)"},
		{[]string{}, "(got 0 arguments)"},
	} {
		if _, err := parseArgs(tt.argv); err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q): %v, want an error ending %q", tt.argv, err, tt.want)
		}
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

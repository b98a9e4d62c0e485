package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/resolution"
)

// TestResolveJSONFailure: a failing `resolve --json` prints one object on
// stdout (the stderr line's message, the class's name, the exit code) and
// still its line on stderr and its exit code; without --json, nothing.
func TestResolveJSONFailure(t *testing.T) {
	const none = "test+unix:///x?socket=/nonexistent/sock"
	tests := []struct {
		argv  []string
		host  string
		exit  int
		class string
	}{
		{[]string{"resolve", "--json", "-c", none, "qemu/web01"}, "qemu/web01", 3, "unreachable"},
		{[]string{"resolve", "--json", "qemu/"}, "qemu/", 2, "usage"},
		{[]string{"resolve", "--json", "vsock/3", "ssh"}, "vsock/3", 2, "usage"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCaptured(t, tt.argv...)
		var v resolution.Failed
		dec := json.NewDecoder(strings.NewReader(stdout))
		if err := dec.Decode(&v); err != nil || dec.More() {
			t.Errorf("%q: want one JSON object on stdout (%v): %q", tt.argv, err, stdout)
			continue
		}
		line := strings.TrimSuffix(stderr, "\n")
		if code != tt.exit || v.Exit != tt.exit || v.Class != tt.class || v.Host != tt.host ||
			line != prog+": "+v.Host+": "+v.Error {
			t.Errorf("%q: exit %d, %+v, stderr %q; want exit %d, class %q, the stderr line's message", tt.argv, code, v, stderr, tt.exit, tt.class)
		}
	}
	if stdout, _, code := runCaptured(t, "resolve", "-c", none, "qemu/web01"); code != 3 || stdout != "" {
		t.Errorf("resolve without --json: exit %d, stdout %q; want 3 and nothing", code, stdout)
	}
}

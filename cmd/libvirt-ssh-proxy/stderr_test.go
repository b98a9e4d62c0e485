package main

import (
	"strings"
	"testing"
)

// TestStderrLines: every line on stderr, -v steps and the failure alike,
// starts with the program and then HOST when there is one; commands without
// a HOST (list, ssh-config) print no empty field for it.
func TestStderrLines(t *testing.T) {
	const none = "test+unix:///x?socket=/nonexistent/sock"
	tests := []struct {
		argv   []string
		prefix string
	}{
		{[]string{"-v", "list", "-c", none}, prog + ": "},
		{[]string{"-v", "ssh-config", "-c", none}, prog + ": "},
		{[]string{"-v", "resolve", "-c", none, "qemu/web01"}, prog + ": qemu/web01: "},
		{[]string{"-v", "ssh-config", "-c", none, "qemu/web01"}, prog + ": qemu/web01: "},
	}
	for _, tt := range tests {
		_, stderr, code := runCaptured(t, tt.argv...)
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if code != 3 || len(lines) < 2 {
			t.Errorf("%q: exit %d, stderr %q; want exit 3, a -v line and the failure", tt.argv, code, stderr)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, tt.prefix) || strings.HasPrefix(l, prog+": : ") {
				t.Errorf("%q: stderr line %q does not start with %q alone", tt.argv, l, tt.prefix)
			}
		}
	}
}

// TestWho: a failure names HOST as typed, and the domain too when HOST
// spells it otherwise (an ssh-config alias's UUID).
func TestWho(t *testing.T) {
	const uuid = "6f0d1b2a-0000-4000-8000-000000000001"
	tests := []struct{ host, domain, want string }{
		{"qemu/" + uuid, "web one", "qemu/" + uuid + ` (domain "web one")`},
		{"qemu/web01", "", "qemu/web01"},
		{"qemu/a\nb", "x", `"qemu/a\nb" (domain "x")`},
		{"", "", ""},
	}
	for _, tt := range tests {
		c := &invocation{host: tt.host, domain: tt.domain}
		if got := c.who(); got != tt.want {
			t.Errorf("who(%q, %q) = %s, want %s", tt.host, tt.domain, got, tt.want)
		}
	}
}

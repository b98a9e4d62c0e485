package sshname

import (
	"reflect"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
)

func TestFormsOf(t *testing.T) {
	tests := map[string][]string{
		"":                   {"qemu/"},
		"q":                  {"qemu/"},
		"qemu":               {"qemu/"},
		"qemu/":              {"qemu/"},
		"qemu/web":           {"qemu/"},
		"qemu%":              {"qemu%"},
		"qemu%web":           {"qemu%"},
		"qemu%system%":       {"qemu%system%"},
		"qemu%session%x":     {"qemu%session%"},
		"qemu:system/":       {"qemu:system/"},
		"qemu:session/Dev":   {"qemu:session/"},
		"qemu:sys":           {"qemu:system/"},
		"qemu:se":            {"qemu:session/"},
		"qemu%s":             {"qemu%", "qemu%system%"},
		"qemu%sys":           {"qemu%", "qemu%system%"},
		"qemu%se":            {"qemu%", "qemu%session%"},
		"vsock/3":            nil,
		"example.com":        nil,
		"qemu%systemd-thing": {"qemu%"},
	}
	for typed, want := range tests {
		var got []string
		for _, f := range FormsOf(typed) {
			got = append(got, f.Prefix)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FormsOf(%q) = %q, want %q", typed, got, want)
		}
	}
	// Every form parses back to its own scope, so completion searches the
	// URIs the completed name will be looked up on.
	for _, f := range hostForms {
		spec, err := host.Parse(f.Prefix + "vm")
		if err != nil || spec.Kind != host.Domain || spec.Scope != f.Scope || spec.Domain != "vm" {
			t.Errorf("host.Parse(%q) = %+v, %v; want domain vm, scope %v", f.Prefix+"vm", spec, err, f.Scope)
		}
	}
}

func TestCandidates(t *testing.T) {
	names := []string{"Dev-Box", "a b", "db:1", "it's", "web01", "web02", "x@y", "ünï"}
	tests := []struct {
		user, typed string
		want        []string
	}{
		{"", "", []string{"qemu/Dev-Box", "qemu/db:1", "qemu/web01", "qemu/web02", "qemu/ünï"}},
		{"", "qemu/w", []string{"qemu/web01", "qemu/web02"}},
		{"alice@", "q", []string{"alice@qemu/Dev-Box", "alice@qemu/db:1", "alice@qemu/web01", "alice@qemu/web02", "alice@qemu/ünï"}},
		// ':' would split scp's host from its path: not in a '%' spelling.
		{"", "qemu%", []string{"qemu%Dev-Box", "qemu%web01", "qemu%web02", "qemu%ünï"}},
		{"", "qemu%system%D", []string{"qemu%system%Dev-Box"}},
		{"", "qemu:session/web0", []string{"qemu:session/web01", "qemu:session/web02"}},
		{"", "qemu:s", []string{"qemu:system/Dev-Box", "qemu:system/db:1", "qemu:system/web01", "qemu:system/web02", "qemu:system/ünï"}},
		{"", "qemu/web03", nil},
		{"", "qemu/dev", nil}, // names are case-sensitive
	}
	for _, tt := range tests {
		got := Candidates(tt.user, tt.typed, FormsOf(tt.typed)[0], names)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Candidates(%q, %q) = %q, want %q", tt.user, tt.typed, got, tt.want)
		}
	}
}

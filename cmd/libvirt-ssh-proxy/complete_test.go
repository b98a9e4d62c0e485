package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
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
		for _, f := range formsOf(typed) {
			got = append(got, f.prefix)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("formsOf(%q) = %q, want %q", typed, got, want)
		}
	}
	// Every form parses back to its own scope, so completion searches the
	// URIs the completed name will be looked up on.
	for _, f := range hostForms {
		spec, err := host.Parse(f.prefix + "vm")
		if err != nil || spec.Kind != host.Domain || spec.Scope != f.scope || spec.Domain != "vm" {
			t.Errorf("host.Parse(%q) = %+v, %v; want domain vm, scope %v", f.prefix+"vm", spec, err, f.scope)
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
		got := candidates(tt.user, tt.typed, formsOf(tt.typed)[0], names)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("candidates(%q, %q) = %q, want %q", tt.user, tt.typed, got, tt.want)
		}
	}
}

// A word that cannot become a qemu host name is answered at once, without
// libvirt: the URI here would fail (exit 3) if it were tried.
func TestCompleteHostsOtherWords(t *testing.T) {
	for _, word := range []string{"web01", "alice@vsock/3", "qx", "unix/"} {
		out, _, code := runCaptured(t, "complete-hosts", "-c", "test+unix:///x?socket=/nonexistent/sock", word)
		if code != 0 || out != "" {
			t.Errorf("complete-hosts %q: exit %d, output %q; want exit 0, no output", word, code, out)
		}
	}
	if _, _, code := runCaptured(t, "complete-hosts", "-c", "test+unix:///x?socket=/nonexistent/sock", "qemu/"); code != 3 {
		t.Errorf("complete-hosts qemu/ with no daemon: exit %d, want 3", code)
	}
}

// runCaptured runs the command with stdout and stderr in files and returns
// them and the exit code.
func runCaptured(t *testing.T, argv ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.Create(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	outF, errF := open("stdout"), open("stderr")
	env := libvirturi.Env{Getenv: func(string) string { return "" }, Home: dir}
	code = run(argv, system{stdin: stdin, stdout: outF, stderr: errF, env: env})
	out, err := os.ReadFile(outF.Name())
	if err != nil {
		t.Fatal(err)
	}
	errText, err := os.ReadFile(errF.Name())
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 && !strings.HasPrefix(string(errText), prog+": ") {
		t.Errorf("%q: exit %d with stderr %q", argv, code, errText)
	}
	return string(out), string(errText), code
}

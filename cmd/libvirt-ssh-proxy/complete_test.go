package main

import (
	"os"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
)

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

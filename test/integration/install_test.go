//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeInstall installs into a DESTDIR, checks the drop-in names the
// installed helper and that ssh applies it to our forms only, then
// uninstalls and checks nothing is left.
func TestMakeInstall(t *testing.T) {
	requireBins(t, "ssh", "make")
	dest := t.TempDir()
	runMake := func(target string) {
		t.Helper()
		cmd := exec.Command("make", "-C", repoRoot, target, "DESTDIR="+dest, "PREFIX=/opt/lsp", "SYSCONFDIR=/etc")
		if r := runCmd(t, 5*time.Minute, cmd); r.Code != 0 {
			t.Fatalf("make %s: %s", target, r)
		}
	}
	runMake("install")
	bin := filepath.Join(dest, "opt/lsp/bin/libvirt-ssh-proxy")
	dropin := filepath.Join(dest, "etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf")
	if st, err := os.Stat(bin); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("installed helper: %v %v", st, err)
	}
	text, err := os.ReadFile(dropin)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "@BINDIR@") || !strings.Contains(string(text), "ProxyCommand /opt/lsp/bin/libvirt-ssh-proxy '%n' %p") {
		t.Fatalf("drop-in does not name the installed helper:\n%s", text)
	}
	r := runCmd(t, 10*time.Second, exec.Command(bin, "--version"))
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "libvirt-ssh-proxy ") {
		t.Fatalf("installed helper --version: %s", r)
	}
	for host, want := range map[string]bool{
		"qemu/web01": true, "qemu:system/Dev-Box": true, "qemu:session/x": true,
		"qemu%web01": true, "qemu%system%x": true, "vsock/3": true, "vsock%3": true,
		"unix/run/s": true, "unix%/run/s": true,
		"example.com": false, "qemu": false, "web01": false, "QEMU/x": false,
	} {
		r := runCmd(t, 10*time.Second, exec.Command("ssh", "-G", "-F", dropin, host))
		got := strings.Contains(r.Stdout, "proxycommand /opt/lsp/bin/libvirt-ssh-proxy")
		if got != want {
			t.Errorf("ssh -G %s: drop-in applies = %v, want %v\n%s", host, got, want, grepProxy(r.Stdout))
		}
		if want && !strings.Contains(r.Stdout, "proxyusefdpass yes") {
			t.Errorf("ssh -G %s: no proxyusefdpass yes", host)
		}
	}
	// The plain-names drop-in: installed off (outside ssh_config.d), naming
	// the installed helper, and no helper run for a plain name until
	// linked in.
	plain := filepath.Join(dest, "opt/lsp/share/libvirt-ssh-proxy/plain-names.conf")
	ptext, err := os.ReadFile(plain)
	if err != nil {
		t.Fatalf("the plain-names drop-in is not installed: %v", err)
	}
	for _, want := range []string{`exec "/opt/lsp/bin/libvirt-ssh-proxy plain-name `, "ProxyCommand /opt/lsp/bin/libvirt-ssh-proxy --plain '%n' %p", "ln -s /opt/lsp/share/libvirt-ssh-proxy/plain-names.conf /etc/ssh/ssh_config.d/"} {
		if !strings.Contains(string(ptext), want) {
			t.Errorf("plain-names drop-in lacks %q:\n%s", want, ptext)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dest, "etc/ssh/ssh_config.d/*plain*")); len(m) > 0 {
		t.Errorf("make install turned plain names on: %v", m)
	}
	runMake("uninstall")
	var left []string
	filepath.Walk(dest, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("make uninstall left %v", left)
	}
	if _, err := os.Stat(filepath.Dir(plain)); err == nil {
		t.Errorf("make uninstall left its own directory %s", filepath.Dir(plain))
	}
}

//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
}

// readmeInstalledPath is a path of ours in the README's code blocks: a file
// under /usr or /etc whose name has libvirt-ssh-proxy in it.
var readmeInstalledPath = regexp.MustCompile(`/(?:usr|etc)/[A-Za-z0-9_./-]*libvirt-ssh-proxy[A-Za-z0-9_./-]*`)

// TestREADMEPathsInstalled: the README's first command is `sudo make
// install`, so every path of ours its code blocks show (what a user copies:
// the plain-names link, a ProxyCommand of their own, the sample output) is
// one that `make install` with the default PREFIX puts there, not the
// package's /usr/bin or /usr/share: a link to a file that is not there
// dangles, and ssh skips it without a word. The one path the user makes,
// the plain-names link in ssh_config.d, is the link's name, not a file.
func TestREADMEPathsInstalled(t *testing.T) {
	requireBins(t, "make")
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	inBlock := false
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			paths = append(paths, readmeInstalledPath.FindAllString(line, -1)...)
		}
	}
	if len(paths) == 0 {
		t.Fatal("found no path of ours in the README's code blocks: the pattern no longer matches them")
	}
	dest := t.TempDir()
	cmd := exec.Command("make", "-C", repoRoot, "install", "DESTDIR="+dest)
	if r := runCmd(t, 5*time.Minute, cmd); r.Code != 0 {
		t.Fatalf("make install: %s", r)
	}
	const userLink = "/etc/ssh/ssh_config.d/90-libvirt-ssh-proxy-plain-names.conf"
	for _, p := range paths {
		if p == userLink {
			continue
		}
		if _, err := os.Stat(filepath.Join(dest, p)); err != nil {
			t.Errorf("the README shows %s, which make install does not install (a package path?)", p)
		}
	}
}

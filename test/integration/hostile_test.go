//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileDomains have names a shell, ssh's token expansion or a terminal
// would treat specially. libvirt allows all of them (only '/' is refused).
var hostileDomains = []Domain{
	// Everything ssh lets through that a shell would expand: glob, history,
	// comment, tilde.
	{Name: "a*b?c[d]!e#f~g", CID: 71},
	// Shell syntax: command substitution, separators, redirections, quotes.
	{Name: "$(touch pwned);`touch pwned`|&<>'\"\\", CID: 72},
	// ssh tokens: %n is substituted once, its text is not expanded again.
	{Name: "%n%p%%", CID: 73},
	{Name: "50%off", CID: 74},
	{Name: "日本語-ü", CID: 75},
}

// noCanary fails the test if a shell ran a name (touch pwned).
func noCanary(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatalf("a shell ran part of a host name: %s/pwned exists", dir)
	}
}

// TestHostileNamesHelper: hostile names through the real binary (no shell
// between): found exactly as named, refused ones with a clear one-line error,
// nothing executed.
func TestHostileNamesHelper(t *testing.T) {
	needHelper(t)
	requireBins(t, "libvirtd")
	d := StartLibvirtd(t, HostXML(hostileDomains...))
	uri := d.URI()
	dir := shortTempDir(t)
	for _, dom := range hostileDomains {
		t.Run("found "+dom.Name, func(t *testing.T) {
			r := runHelperIn(t, dir, "resolve", "--json", "-c", uri, "qemu/"+dom.Name)
			var v struct {
				Name string `json:"name"`
				CID  uint32 `json:"cid"`
			}
			if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.Name != dom.Name || v.CID != uint32(dom.CID) {
				t.Errorf("want name %q cid %d: %s", dom.Name, dom.CID, r)
			}
			expectExit(t, runHelperIn(t, dir, "-c", uri, "qemu/"+dom.Name, "22"), 11,
				fmt.Sprintf("libvirt-ssh-proxy: qemu/%s: no VM holds vsock CID %d: no such device (", dom.Name, dom.CID))
		})
	}
	cases := []struct {
		name, host string
		code       int
		msg        string
	}{
		{"absent, shell syntax", "qemu/$(touch pwned)x", 4, `libvirt-ssh-proxy: qemu/$(touch pwned)x: no domain named "$(touch pwned)x"`},
		{"absent, backquotes", "qemu/`touch pwned`", 4, "libvirt-ssh-proxy: qemu/`touch pwned`: no domain named \"`touch pwned`\""},
		{"% spelling with % in the name", "qemu%system%50%off", 11, "libvirt-ssh-proxy: qemu%system%50%off: no VM holds vsock CID 74"},
		{"4 KiB name", "qemu/" + strings.Repeat("x", 4091), 2, ": bad host name: host name is 4096 bytes long, more than 1024\n"},
		{"newline", "qemu/a\nfake: line", 2, `libvirt-ssh-proxy: "qemu/a\nfake: line": bad host name: host name contains a control character`},
		{"terminal escape", "qemu/\x1b]0;owned\x07", 2, `libvirt-ssh-proxy: "qemu/\x1b]0;owned\a": bad host name: host name contains a control character`},
		{"invalid UTF-8", "qemu/\xff\xfe", 2, `libvirt-ssh-proxy: "qemu/\xff\xfe": bad host name: host name is not valid UTF-8`},
		{"leading dash after --", "-oProxyCommand=touch pwned", 2, "libvirt-ssh-proxy: -oProxyCommand=touch pwned: bad host name: not a host form"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runHelperIn(t, dir, "-c", uri, "--", c.host, "22")
			expectExit(t, r, c.code, c.msg)
		})
	}
	noCanary(t, dir)
}

// TestHostileNamesSSH: the drop-in's '%n' quoting against every name ssh
// lets through (ssh -G shows the drop-in applies to each, name as typed). ssh runs the ProxyCommand with $SHELL -c in a directory
// where the unquoted glob a*b?c[d]!e#f~g would match a file: the helper's
// line must still name each domain exactly. Names with shell syntax never
// reach a shell: ssh refuses them first.
func TestHostileNamesSSH(t *testing.T) {
	requireBins(t, "ssh", "libvirtd")
	needHelper(t)
	d := StartLibvirtd(t, HostXML(hostileDomains...))
	cfg := dropInConnect(t, d.URI())
	dir := shortTempDir(t)
	// What an unquoted qemu/a*b?c[d]!e#f~g would expand to.
	if err := os.MkdirAll(filepath.Join(dir, "qemu"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "qemu", "aXXbYcd!e#f~g"), "", 0o644)
	ssh := func(t *testing.T, host string) Result {
		t.Helper()
		cmd := guarded(context.Background(), "ssh", "-F", cfg, "--", host, "true")
		cmd.Dir = dir
		return runCmd(t, sshLimit, cmd)
	}
	for _, dom := range hostileDomains {
		if strings.ContainsAny(dom.Name, "$`;|&<>'\"\\") {
			continue // ssh refuses these, below
		}
		for _, host := range []string{"qemu/" + dom.Name, "qemu%" + dom.Name} {
			t.Run(host, func(t *testing.T) {
				// ssh -G: the name is kept as typed and the drop-in applies.
				g := runCmd(t, sshLimit, guarded(context.Background(), "ssh", "-F", cfg, "-G", "--", host))
				if g.Code != 0 || !strings.Contains(g.Stdout, "\nhostname "+host+"\n") || !strings.Contains(g.Stdout, "' '%n' %p\n") {
					t.Errorf("ssh -G %s: want hostname as typed and the drop-in's ProxyCommand:\n%s", host, grepProxy(g.Stdout))
				}
				r := ssh(t, host)
				want := fmt.Sprintf("libvirt-ssh-proxy: %s: no VM holds vsock CID %d: no such device (", host, dom.CID)
				if r.Code != 255 || !strings.Contains(r.Stderr, want) {
					t.Errorf("want ssh exit 255 and %q on stderr: %s", want, r)
				}
			})
		}
	}
	t.Run("4 KiB name", func(t *testing.T) {
		host := "qemu/" + strings.Repeat("x", 4091)
		r := ssh(t, host)
		want := "libvirt-ssh-proxy: " + host + ": bad host name: host name is 4096 bytes long, more than 1024\n"
		if r.Code != 255 || !strings.HasPrefix(r.Stderr, want) {
			t.Errorf("want ssh exit 255 and the helper's line first on stderr: exit %d, stderr %.200q", r.Code, r.Stderr)
		}
	})
	for _, host := range []string{"qemu/$(touch pwned)", "qemu/`touch pwned`", "qemu/a;touch pwned", "qemu/a'b", "qemu/a|touch pwned", "qemu/" + hostileDomains[1].Name} {
		t.Run("refused "+host, func(t *testing.T) {
			r := ssh(t, host)
			if r.Code != 255 || r.Stderr != "hostname contains invalid characters\r\n" {
				t.Errorf("want ssh to refuse the name (exit 255, one line): %s", r)
			}
		})
	}
	noCanary(t, dir)
}

//go:build integration

package integration

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// runHelperEnv is runHelper with extra environment variables and, when cred
// is set, as another user.
func runHelperEnv(t *testing.T, env []string, cred *syscall.Credential, args ...string) Result {
	t.Helper()
	needHelper(t)
	cmd := guarded(context.Background(), helperBin, args...)
	cmd.Env = append(os.Environ(), env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	r := runCmd(t, helperLimit, cmd)
	r.Args = append(append([]string{}, env...), append([]string{"libvirt-ssh-proxy"}, args...)...)
	return r
}

// TestConnectEnv: LIBVIRT_SSH_PROXY_CONNECT is --connect's list when no
// --connect is given; LIBVIRT_DEFAULT_URI is not used by the qemu forms.
func TestConnectEnv(t *testing.T) {
	e := newLookupEnv(t)
	sys, sess := e.sys.URI(), e.sess.URI()
	cases := []struct {
		name string
		env  string
		args []string
		uri  string // where "vm" is found (it is in both daemons)
	}{
		{"one URI", sys, nil, sys},
		{"comma list, first socket missing", e.missing + "," + sess, nil, sess},
		{"space list", e.missing + "  " + sys, nil, sys},
		{"--connect wins", sys, []string{"-c", sess}, sess},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runHelperEnv(t, []string{"LIBVIRT_SSH_PROXY_CONNECT=" + c.env}, nil, append([]string{"resolve", "--json", "qemu/vm"}, c.args...)...)
			if r.Code != 0 || !strings.Contains(r.Stdout, `"uri": "`+c.uri+`"`) {
				t.Errorf("want vm found on %s: %s", c.uri, r)
			}
		})
	}
	t.Run("LIBVIRT_DEFAULT_URI is not searched", func(t *testing.T) {
		t.Parallel()
		r := runHelperEnv(t, []string{"LIBVIRT_DEFAULT_URI=" + sys, "LIBVIRT_SSH_PROXY_CONNECT="}, nil, "resolve", "qemu:system/vm")
		if r.Code == 0 || strings.Contains(r.Stderr, sys) || !strings.Contains(r.Stderr, "qemu:///system") {
			t.Errorf("want qemu:///system searched, not LIBVIRT_DEFAULT_URI: %s", r)
		}
	})
	t.Run("direct forms ignore the list", func(t *testing.T) {
		t.Parallel()
		r := runHelperEnv(t, []string{"LIBVIRT_SSH_PROXY_CONNECT=no-such-alias"}, nil, "vsock/42", "22")
		expectExit(t, r, 11, "42")
	})
}

// TestURIAliasRoot: as root the aliases come from /etc/libvirt/libvirt.conf
// (the distribution's file, all comments, parses), whatever XDG_CONFIG_HOME
// says.
func TestURIAliasRoot(t *testing.T) {
	requireRoot(t, "root reads /etc/libvirt/libvirt.conf")
	r := runHelperEnv(t, []string{"XDG_CONFIG_HOME=" + shortTempDir(t)}, nil, "resolve", "-c", "lsp-no-such-alias", "qemu/vm")
	expectExit(t, r, 2, `"lsp-no-such-alias" is neither a libvirt URI nor an alias in uri_aliases of /etc/libvirt/libvirt.conf`)
}

// TestURIAliasUser: a user's aliases come from
// $XDG_CONFIG_HOME/libvirt/libvirt.conf, for --connect and for
// LIBVIRT_SSH_PROXY_CONNECT alike. The helper runs as nobody, against a
// private libvirtd whose read-only socket nobody may use.
func TestURIAliasUser(t *testing.T) {
	e := newLookupEnv(t)
	requireRoot(t, "to run the helper as another user")
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("looking up the user nobody, who runs the helper here: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	// Let nobody run the built binaries and reach the system daemon's socket.
	for _, p := range []string{binDir, e.sys.Dir, filepath.Dir(e.sys.Sock)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(e.sys.Sock, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg := shortTempDir(t)
	os.Chmod(cfg, 0o755)
	conf := filepath.Join(cfg, "libvirt", "libvirt.conf")
	os.Mkdir(filepath.Dir(conf), 0o755)
	writeFile(t, conf, `# written by the test
uri_default = "qemu:///session"
uri_aliases = [
  "other=`+e.missing+`",
  "lsp-sys=`+e.sys.URI()+`",
]
`, 0o644)
	env := []string{"XDG_CONFIG_HOME=" + cfg, "HOME=" + cfg, "LIBVIRT_SSH_PROXY_CONNECT="}
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--connect alias", nil, []string{"-c", "lsp-sys"}},
		{"alias after a URI", nil, []string{"-c", e.missing, "-c", "lsp-sys"}},
		{"LIBVIRT_SSH_PROXY_CONNECT alias", []string{"LIBVIRT_SSH_PROXY_CONNECT=other,lsp-sys"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runHelperEnv(t, append(append([]string{}, env...), c.env...), cred, append([]string{"resolve", "--json", "qemu/vm"}, c.args...)...)
			if r.Code != 0 || !strings.Contains(r.Stdout, `"uri": "`+e.sys.URI()+`"`) || !strings.Contains(r.Stdout, vmUUID) {
				t.Errorf("want vm found through the alias: %s", r)
			}
		})
	}
	t.Run("unknown alias", func(t *testing.T) {
		r := runHelperEnv(t, env, cred, "resolve", "-c", "lsp-nope", "qemu/vm")
		expectExit(t, r, 2, `"lsp-nope" is neither a libvirt URI nor an alias in uri_aliases of `+conf)
	})
	t.Run("broken file", func(t *testing.T) {
		bad := shortTempDir(t)
		os.Chmod(bad, 0o755)
		os.Mkdir(filepath.Join(bad, "libvirt"), 0o755)
		writeFile(t, filepath.Join(bad, "libvirt", "libvirt.conf"), "uri_aliases = [\n  \"lsp-sys=test:///default\"\n  \"b=c\",\n]\n", 0o644)
		r := runHelperEnv(t, []string{"XDG_CONFIG_HOME=" + bad}, cred, "resolve", "-c", "lsp-sys", "qemu/vm")
		expectExit(t, r, 2, filepath.Join(bad, "libvirt", "libvirt.conf")+":3: expecting ',' or ']'")
		// A URI list without aliases does not read the broken file.
		r = runHelperEnv(t, []string{"XDG_CONFIG_HOME=" + bad}, cred, "resolve", "-c", e.sys.URI(), "qemu/vm")
		if r.Code != 0 {
			t.Errorf("a list without aliases read libvirt.conf: %s", r)
		}
	})
}

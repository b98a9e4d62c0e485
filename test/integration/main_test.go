//go:build integration

// Package integration runs the real libvirt-ssh-proxy binary against real
// parts on this host: private libvirtd daemons serving the test driver, a
// private sshd, and OpenSSH's ssh, scp, sftp and rsync.
//
// Run:
//
//	go test -tags integration ./test/integration/
//	go test -tags integration -run '^$' -bench . -benchtime 50x ./test/integration/
//
// Every run of the helper goes through test/nofsock, a seccomp guard under
// which socket(AF_VSOCK) fails with ENODEV: on these machines a vsock connect
// leaves the machine, so the helper's expected outcome for a running domain
// with a CID is exit 11 ("no VM with CID N") and no packet is ever sent.
//
// A test that cannot run fails, naming what is missing and the command that
// installs it (test/deps.sh, which make check runs first, installs them all);
// tests that need root fail when not run as root.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var (
	// binDir holds the binaries TestMain built.
	binDir string
	// helperBin is the built libvirt-ssh-proxy; helperErr says why it is
	// missing when the build failed (the tests that need it fail with it).
	helperBin, helperErr = "", error(nil)
	// nofsockBin is the built seccomp guard.
	nofsockBin string
	// repoRoot is the top of the source tree.
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// ssh starts its ProxyCommand with SIGHUP at its default, and the
	// signal tests depend on it; a test run started under nohup (or from a
	// shell's background job) would hand every helper an ignored SIGHUP,
	// since an ignored signal stays ignored across exec. Catching it here
	// gives the children the default again (exec resets caught signals).
	if signal.Ignored(syscall.SIGHUP) {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	}
	var err error
	if repoRoot, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if binDir, err = os.MkdirTemp("", "lspbin"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)

	// The guard is needed by every test that runs the helper: no guard, no run.
	nofsockBin = filepath.Join(binDir, "nofsock")
	if out, err := goBuild(nofsockBin, "./test/nofsock"); err != nil {
		fmt.Fprintf(os.Stderr, "building test/nofsock: %v\n%s", err, out)
		return 1
	}
	// The helper under test is the one we ship: built by the Makefile's
	// own rule, with its flags (CGO_ENABLED=0, -trimpath, ...).
	helperBin = filepath.Join(binDir, "libvirt-ssh-proxy")
	if err := makeHelper(helperBin); err != nil {
		helperErr = err
		helperBin = ""
		fmt.Fprintln(os.Stderr, helperErr)
	}
	return m.Run()
}

// makeHelper builds the helper into out with the Makefile's rule, which
// vars (NAME=VALUE) may change.
func makeHelper(out string, vars ...string) error {
	cmd := exec.Command("make", append([]string{"--no-print-directory", "-s", "BIN=" + out, out}, vars...)...)
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building cmd/libvirt-ssh-proxy with make: %v\n%s", err, b)
	}
	return nil
}

func goBuild(out, pkg string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot
	return cmd.CombinedOutput()
}

// needHelper fails the test when the helper did not build.
func needHelper(t testing.TB) {
	t.Helper()
	if helperBin == "" {
		t.Fatalf("the helper is not available: %v", helperErr)
	}
}

// packages maps the binaries the suite runs to the Debian package with them.
var packages = map[string]string{
	"libvirtd":   "libvirt-daemon",
	"virsh":      "libvirt-clients",
	"sshd":       "openssh-server",
	"ssh":        "openssh-client",
	"ssh-keygen": "openssh-client",
	"scp":        "openssh-client",
	"sftp":       "openssh-client",
	"rsync":      "rsync",
	"zsh":        "zsh",
	"socat":      "socat",
	"make":       "make",
	"time":       "time",
}

// sbin is where sshd and libvirtd live; not always on a user's PATH.
var sbin = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// lookBin finds a binary on PATH or in the sbin directories.
func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range sbin {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", name, strings.Join(sbin, ", "))
}

// requireBins fails the test when a binary is missing, with the command that
// installs it.
func requireBins(t testing.TB, names ...string) {
	t.Helper()
	var missing, pkgs []string
	seen := map[string]bool{}
	for _, n := range names {
		if _, err := lookBin(n); err != nil {
			missing = append(missing, n)
			if p := packages[n]; p != "" && !seen[p] {
				seen[p] = true
				pkgs = append(pkgs, p)
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	t.Fatalf("missing %s; install with: apt-get install -y --no-install-recommends %s (or run test/deps.sh integration as root)",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
}

// requireRoot fails the test when it does not run as root; make check runs
// as root.
func requireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("needs root (%s): run it as root, as make check does", why)
	}
}

// mustBin is lookBin for a binary requireBins already checked.
func mustBin(t testing.TB, name string) string {
	t.Helper()
	p, err := lookBin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

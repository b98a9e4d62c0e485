//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeText is the README.
func readmeText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeSample is what a console block of the README shows after the line
// "$ CMD": the lines up to the next command or the block's end.
func readmeSample(t *testing.T, cmd string) string {
	t.Helper()
	_, sample, ok := strings.Cut(readmeText(t), "\n$ "+cmd+"\n")
	if !ok {
		t.Fatalf("README has no line %q", "$ "+cmd)
	}
	sample, _, _ = strings.Cut(sample, "\n```")
	sample, _, _ = strings.Cut(sample, "\n$ ")
	return sample
}

// readmeBlock returns the lines of the README's first code block after
// the line lead, comments and blank lines dropped.
func readmeBlock(t *testing.T, lead string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(readmeText(t), "\n"+lead+"\n\n```sh\n")
	if !ok {
		t.Fatalf("README has no code block after the line %q", lead)
	}
	block, _, _ := strings.Cut(rest, "\n```")
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if l, _, _ = strings.Cut(l, " #"); strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}

// readmeWeb01 is the README's web01: its UUID begins as the README's
// `qemu/6f0d1b2a-...` does, which the test completes with this one.
const readmeWeb01 = "6f0d1b2a-0000-4000-8000-000000000001"

// readmeWant is what one host of a README block must come to: the
// helper's line on ssh's stderr after "libvirt-ssh-proxy: HOST", and the
// exit code of the ProxyCommand ssh runs for it.
type readmeWant struct {
	msg  string
	code int
}

// readmeDir is a directory holding what the README's commands copy.
func readmeDir(t *testing.T) string {
	t.Helper()
	dir := shortTempDir(t)
	writeFile(t, filepath.Join(dir, "notes.txt"), "notes\n", 0o644)
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "dir", "f"), "f\n", 0o644)
	return dir
}

// runREADMEBlock runs each line of the README's block after lead as
// printed, in dir, with only ssh's -F cfg added (rsync: -e "ssh -F cfg"),
// under the AF_VSOCK guard, and checks that each host comes to what want
// says: the helper's line on the client's stderr, and the ProxyCommand ssh
// -G shows for it, run as ssh runs it, with that exit code. A line whose
// host want lacks, or a host of want no line shows, fails the test: the
// block and the test change together.
func runREADMEBlock(t *testing.T, lead, cfg, dir string, want map[string]readmeWant) {
	seen := map[string]bool{}
	for _, line := range readmeBlock(t, lead) {
		words := strings.Fields(strings.ReplaceAll(line, "6f0d1b2a-...", readmeWeb01))
		// The host: the word with the user's "alice@", for scp and rsync
		// up to the first ':', where they split it.
		var hostName, port string
		for i, w := range words {
			if h, ok := strings.CutPrefix(w, "alice@"); ok {
				if words[0] != "ssh" {
					h, _, _ = strings.Cut(h, ":")
				}
				hostName = h
			}
			if w == "-p" && i+1 < len(words) {
				port = words[i+1]
			}
		}
		w, ok := want[hostName]
		if !ok {
			t.Errorf("README line %q: host %q has no expectation in this test", line, hostName)
			continue
		}
		seen[hostName] = true
		t.Run(line, func(t *testing.T) {
			args := append([]string{"-F", cfg}, words[1:]...)
			if words[0] == "rsync" {
				args = append([]string{"-e", "ssh -F " + cfg}, words[1:]...)
			}
			cmd := guarded(context.Background(), words[0], args...)
			cmd.Dir = dir
			r := runCmd(t, helperLimit, cmd)
			if r.Code == 0 || !strings.Contains(r.Stderr, "libvirt-ssh-proxy: "+hostName+w.msg) {
				t.Errorf("want the helper's line %q on stderr: %s", "libvirt-ssh-proxy: "+hostName+w.msg, r)
			}
			// The ProxyCommand ssh runs for it, as ssh runs it (ssh -G runs
			// the plain-names check: under the guard too).
			gArgs := []string{"-G", "-F", cfg, hostName}
			if port != "" {
				gArgs = append([]string{"-p", port}, gArgs...)
			}
			g := runCmd(t, helperLimit, guarded(context.Background(), "ssh", gArgs...))
			var pc, gotPort string
			for _, l := range strings.Split(g.Stdout, "\n") {
				if v, ok := strings.CutPrefix(l, "proxycommand "); ok {
					pc = v
				}
				if v, ok := strings.CutPrefix(l, "port "); ok {
					gotPort = v
				}
			}
			if pc == "" || port != "" && gotPort != port {
				t.Fatalf("ssh -G %s: want our ProxyCommand and port %q: %s", hostName, port, g)
			}
			pc = strings.NewReplacer("%n", hostName, "%p", gotPort).Replace(pc)
			expectExit(t, runCmd(t, helperLimit, guarded(context.Background(), "sh", "-c", pc+" </dev/null")), w.code,
				"libvirt-ssh-proxy: "+hostName+w.msg)
		})
	}
	for h := range want {
		if !seen[h] {
			t.Errorf("the README's block after %q no longer shows %s", lead, h)
		}
	}
}

// TestREADMEThenExamples runs the README's "Then:" block as printed
// (runREADMEBlock) against a private libvirtd with the README's domains
// (web01 with CID 42, Dev-Box, a 7th domain for qemu/7): each command gets
// as far as the vsock step for the domain its comment names and fails
// there with the helper's documented line, its ProxyCommand with exit 11
// (no VM holds the CID).
func TestREADMEThenExamples(t *testing.T) {
	requireBins(t, "ssh", "scp", "rsync")
	needHelper(t)
	doms := []Domain{{Name: "web01", UUID: readmeWeb01, CID: 42}, {Name: "Dev-Box", CID: 55}}
	for _, n := range []string{"f3", "f4", "f5", "f6"} {
		doms = append(doms, Domain{Name: n, CID: 4300 + int(n[1]-'0')})
	}
	doms = append(doms, Domain{Name: "seventh", CID: 4307}) // ID 7: running domains get IDs in file order
	d := StartLibvirtd(t, HostXML(doms...))
	dir := readmeDir(t)
	cfg := filepath.Join(dir, "ssh_config")
	writeFile(t, cfg, "BatchMode yes\nGlobalKnownHostsFile /dev/null\nUserKnownHostsFile /dev/null\nInclude "+dropInWith(t, dir, d.URI())+"\n", 0o644)
	runREADMEBlock(t, "Then:", cfg, dir, map[string]readmeWant{
		"qemu/web01":                 {": no VM holds vsock CID 42:", 11},
		"qemu:session/Dev-Box":       {": no VM holds vsock CID 55:", 11},
		"qemu%web01":                 {": no VM holds vsock CID 42:", 11},
		"qemu%system%web01":          {": no VM holds vsock CID 42:", 11},
		"qemu/" + readmeWeb01:        {` (domain "web01"): no VM holds vsock CID 42:`, 11},
		"qemu/7":                     {` (domain "seventh"): no VM holds vsock CID 4307:`, 11},
		"vsock/42":                   {": no VM holds vsock CID 42:", 11},
		"vsock-mux/run/fc/vm1.vsock": {": no socket at /run/fc/vm1.vsock:", 11},
	})
}

// TestREADMEPlainNamesExamples runs the README's plain-names block as
// printed through the plain-names drop-in (newPlainEnv): web01 reaches the
// vsock step of the domain web01 (exit 11), oldbox the domain legacybox,
// whose guest's lease gives that hostname and which has no vsock device:
// its IP fallback finds no sshd on port 22 there (exit 6).
func TestREADMEPlainNamesExamples(t *testing.T) {
	requireBins(t, "scp")
	e := newPlainEnv(t)
	runREADMEBlock(t, "### Plain names (opt-in)", e.cfg, readmeDir(t), map[string]readmeWant{
		"web01":  {": no VM holds vsock CID 5101:", 11},
		"oldbox": {` (domain "legacybox"): domain "legacybox" on ` + e.d.URI() + " has no vsock device, and the IP fallback failed", 6},
	})
}

// lineNo is the line of the Include that doctor names: the README's
// system config is not the test's.
var lineNo = regexp.MustCompile(` \(line [0-9]+\)$`)

// TestREADMEDoctorSample: the README's `doctor qemu/web01` sample is what
// doctor prints for its case, a running domain with CID 42 whose guest has
// nothing on vsock port 22 (the guard answers ECONNREFUSED) and a leased
// address: the same checks in the same order with the same verdicts, the
// same summary line on stderr, and the exit code the sample's `echo $?`
// shows.
func TestREADMEDoctorSample(t *testing.T) {
	var checks []string // "OK    domain exists", ...: verdict and check, up to its ':'
	var summary string
	for _, l := range strings.Split(readmeSample(t, "libvirt-ssh-proxy doctor qemu/web01"), "\n") {
		switch {
		case strings.HasPrefix(l, "OK    "), strings.HasPrefix(l, "FAIL  "), strings.HasPrefix(l, "SKIP  "):
			c, _, _ := strings.Cut(l, ":")
			checks = append(checks, lineNo.ReplaceAllString(c, ""))
		case strings.HasPrefix(l, "libvirt-ssh-proxy: "):
			summary = l
		}
	}
	code := readmeSample(t, "echo $?")
	d := StartLibvirtd(t, HostXML(Domain{Name: "web01", UUID: readmeWeb01, CID: 42, NICs: []NIC{{"52:54:00:00:00:42", "nosuch"}}}))
	dir := shortTempDir(t)
	leases := filepath.Join(dir, "leases")
	if err := os.Mkdir(leases, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(leases, "virbr0.status"), `[{"ip-address":"192.168.122.10","mac-address":"52:54:00:00:00:42"}]`, 0o644)
	confD := filepath.Join(dir, "ssh_config.d")
	if err := os.Mkdir(confD, 0o755); err != nil {
		t.Fatal(err)
	}
	dropIn, err := os.ReadFile(dropInWith(t, dir, d.URI()))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(confD, "30-libvirt-ssh-proxy.conf"), string(dropIn), 0o644)
	sys := filepath.Join(dir, "ssh_config")
	writeFile(t, sys, "Include "+confD+"/*.conf\n", 0o644)
	r := runHelperErrno(t, "ECONNREFUSED", "doctor", "-F", sys, "--system-config", sys, "--lease-dir", leases, "-c", d.URI(), "qemu/web01")
	// The test's system config stands in for /etc/ssh/ssh_config.
	stdout := strings.NewReplacer(confD, "/etc/ssh/ssh_config.d", sys, "/etc/ssh/ssh_config").Replace(r.Stdout)
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		c, _, _ := strings.Cut(l, ":")
		got = append(got, lineNo.ReplaceAllString(c, ""))
	}
	if strings.Join(got, "\n") != strings.Join(checks, "\n") {
		t.Errorf("doctor's checks differ from the README's sample:\n got %q\nwant %q\n%s", got, checks, r)
	}
	// 8, nothing listening, is this case's code; the README must show it.
	if strings.TrimSuffix(r.Stderr, "\n") != summary || code != "8" || r.Code != 8 {
		t.Errorf("want exit 8 (the README's echo $? shows %q) and stderr %q: %s", code, summary, r)
	}
}

// TestREADMESSHConfigSample: the README's `ssh-config qemu/web01
// qemu/Dev-Box` sample is ssh-config's output for those two domains, but
// for what the test's daemon changes: its URI for qemu:///system (and so
// the ProxyCommand's `--connect URI` for `qemu:system/`), the helper's
// path, and the UUIDs the sample shortens.
func TestREADMESSHConfigSample(t *testing.T) {
	sample := readmeSample(t, "libvirt-ssh-proxy ssh-config qemu/web01 qemu/Dev-Box")
	const devBox = "3e5a9c1d-0000-4000-8000-000000000055"
	d := StartLibvirtd(t, HostXML(Domain{Name: "web01", UUID: readmeWeb01, CID: 42}, Domain{Name: "Dev-Box", UUID: devBox, CID: 55}))
	r := runHelper(t, "ssh-config", "-c", d.URI(), "qemu/web01", "qemu/Dev-Box")
	if r.Code != 0 {
		t.Fatalf("ssh-config: %s", r)
	}
	got := strings.NewReplacer(
		helperBin+" --connect '"+d.URI()+"' qemu/", "/usr/local/bin/libvirt-ssh-proxy qemu:system/",
		d.URI(), "qemu:///system",
		readmeWeb01, readmeWeb01[:8]+"-...",
		devBox, devBox[:8]+"-...",
	).Replace(strings.TrimSuffix(r.Stdout, "\n"))
	if got != sample {
		t.Errorf("ssh-config's output differs from the README's sample:\n got:\n%s\nwant:\n%s", got, sample)
	}
}

// TestREADMEListSample: the README's `list` sample is list's output for
// its domains (Dev-Box, autocid, db:main, "my vm", novsock, old shut off,
// web01), column for column, with the test daemon's URI for
// qemu:///system; the columns' widths follow the URI, so only the words
// of each line are compared.
func TestREADMEListSample(t *testing.T) {
	sample := readmeSample(t, "libvirt-ssh-proxy list")
	d := StartLibvirtd(t, HostXML(
		Domain{Name: "web01", UUID: readmeWeb01, CID: 42},
		Domain{Name: "Dev-Box", CID: 55},
		Domain{Name: "autocid", AutoCID: true},
		Domain{Name: "db:main", CID: 60},
		Domain{Name: "my vm", UUID: "6f0d1b2a-0000-4000-8000-00000000000c", CID: 62},
		Domain{Name: "novsock"},
		Domain{Name: "old", CID: 77, Stopped: true},
	))
	r := runHelper(t, "list", "-c", d.URI())
	if r.Code != 0 {
		t.Fatalf("list: %s", r)
	}
	words := func(s string) string {
		var ls []string
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			ls = append(ls, strings.Join(strings.Fields(l), " "))
		}
		return strings.Join(ls, "\n")
	}
	if got, want := words(strings.ReplaceAll(r.Stdout, d.URI(), "qemu:///system")), words(sample); got != want {
		t.Errorf("list's output differs from the README's sample:\n got:\n%s\nwant:\n%s", got, want)
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
	var paths []string
	inBlock := false
	for _, line := range strings.Split(readmeText(t), "\n") {
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

//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listed is one element of `list --json`.
type listed struct {
	URI   string  `json:"uri"`
	Name  string  `json:"name"`
	UUID  string  `json:"uuid"`
	ID    *int    `json:"id"`
	State string  `json:"state"`
	CID   *int    `json:"cid"`
	VSock string  `json:"vsock"`
	SSH   *string `json:"ssh"`
	SCP   *string `json:"scp"`
	Plain *string `json:"plain"`
}

func listJSON(t *testing.T, args ...string) []listed {
	t.Helper()
	r := runHelper(t, append([]string{"list", "--json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("want exit 0: %s", r)
	}
	var out []listed
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("list --json is not JSON: %v\n%s", err, r)
	}
	return out
}

// listSystem is like systemDomains with a UUID for every domain: the test
// driver makes up a new UUID on every connection for a domain without one,
// and list prints UUID forms that a later connection must find.
var listSystem = []Domain{
	{Name: "vm", UUID: vmUUID, CID: 42},
	{Name: "web-01", UUID: webUUID, CID: 1234},
	{Name: "Dev-Box", UUID: devUUID, CID: 55},
	{Name: "novsock", UUID: "10000000-0000-4000-8000-000000000001"},
	{Name: "autocid", UUID: "10000000-0000-4000-8000-000000000002", AutoCID: true},
	{Name: "stopped", UUID: stopUUID, CID: 77, Stopped: true},
	{Name: "2", UUID: "10000000-0000-4000-8000-000000000003", CID: 222},
	// Named like web-01's UUID: web-01's UUID form reaches this one.
	{Name: webUUID, UUID: "10000000-0000-4000-8000-000000000004", CID: 333},
	{Name: "db:primary", UUID: "10000000-0000-4000-8000-000000000005", CID: 60},
	{Name: "a@b", UUID: "10000000-0000-4000-8000-000000000006", CID: 61},
	{Name: "my vm", UUID: "10000000-0000-4000-8000-000000000007", CID: 62},
	{Name: "system", UUID: "10000000-0000-4000-8000-000000000008", CID: 63},
	{Name: "café", UUID: "10000000-0000-4000-8000-000000000009", CID: 64},
}

// newListEnv starts a "system" daemon with listSystem and a "session" one
// with sessionDomains and returns their URIs.
func newListEnv(t *testing.T) (sys, sess string) {
	t.Helper()
	needHelper(t)
	requireBins(t, "libvirtd")
	return StartLibvirtd(t, HostXML(listSystem...)).URI(), StartLibvirtd(t, HostXML(sessionDomains...)).URI()
}

// TestList: every domain of both daemons, in URI order then by name, with
// state, CID and a host name that really reaches it: each printed ssh and
// scp name goes back through `resolve` and must find the same domain.
func TestList(t *testing.T) {
	sys, sess := newListEnv(t)
	got := listJSON(t, "-c", sys, "-c", sess)
	if want := len(listSystem) + len(sessionDomains); len(got) != want {
		t.Fatalf("%d domains listed, want %d: %+v", len(got), want, got)
	}
	byKey := map[string]listed{}
	for i, l := range got {
		byKey[l.URI+" "+l.Name] = l
		if i > 0 && got[i-1].URI == l.URI && got[i-1].Name > l.Name {
			t.Errorf("not sorted by name: %q before %q", got[i-1].Name, l.Name)
		}
	}
	if got[0].URI != sys || got[len(got)-1].URI != sess {
		t.Errorf("not in URI order: first %s, last %s", got[0].URI, got[len(got)-1].URI)
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	num := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	cases := []struct {
		uri, name, state string
		cid              int // -1 = null
		vsock, ssh, scp  string
	}{
		{sys, "vm", "running", 42, "", "qemu/vm", "qemu%vm"},
		{sys, "Dev-Box", "running", 55, "", "qemu/Dev-Box", "qemu%Dev-Box"},
		{sys, "stopped", "shut off", 77, "", "qemu/stopped", "qemu%stopped"},
		{sys, "novsock", "running", -1, "no vsock device", "qemu/novsock", "qemu%novsock"},
		{sys, "autocid", "running", -1, "no CID address", "qemu/autocid", "qemu%autocid"},
		{sys, "2", "running", 222, "", "qemu/2", "qemu%2"},
		{sys, webUUID, "running", 333, "", "qemu/" + webUUID, "qemu%" + webUUID},
		{sys, "web-01", "running", 1234, "", "qemu/web-01", "qemu%web-01"},
		{sys, "db:primary", "running", 60, "", "qemu/db:primary", "uuid"},
		{sys, "a@b", "running", 61, "", "uuid", "uuid"},
		{sys, "my vm", "running", 62, "", "uuid", "uuid"},
		{sys, "system", "running", 63, "", "qemu/system", "qemu%system"},
		{sys, "café", "running", 64, "", "qemu/café", "qemu%café"},
		{sess, "sessvm", "running", 500, "", "qemu/sessvm", "qemu%sessvm"},
		// Shadowed by the system "vm": only its UUID reaches it.
		{sess, "vm", "running", 501, "", "qemu/" + sess2UUID, "qemu%" + sess2UUID},
	}
	for _, c := range cases {
		l, ok := byKey[c.uri+" "+c.name]
		if !ok {
			t.Errorf("%q on %s not listed", c.name, c.uri)
			continue
		}
		ssh, scp := c.ssh, c.scp
		if ssh == "uuid" {
			ssh = "qemu/" + l.UUID
		}
		if scp == "uuid" {
			scp = "qemu%" + l.UUID
		}
		if l.State != c.state || num(l.CID) != c.cid || l.VSock != c.vsock || str(l.SSH) != ssh || str(l.SCP) != scp {
			t.Errorf("%q on %s: got %s %d %q ssh %s scp %s; want %s %d %q ssh %s scp %s", c.name, c.uri,
				l.State, num(l.CID), l.VSock, str(l.SSH), str(l.SCP), c.state, c.cid, c.vsock, ssh, scp)
		}
		if (l.ID == nil) != (c.state == "shut off") {
			t.Errorf("%q: id %v with state %s", c.name, l.ID, l.State)
		}
	}
	// The names list prints are exact: resolve finds the listed domain.
	for _, l := range got {
		for _, name := range []*string{l.SSH, l.SCP} {
			if name == nil {
				t.Errorf("%q on %s: no host name printed", l.Name, l.URI)
				continue
			}
			r := runHelper(t, "resolve", "--json", *name, "-c", sys, "-c", sess)
			var v resolved
			json.Unmarshal([]byte(r.Stdout), &v)
			if l.CID != nil && l.State == "running" && (r.Code != 0 || v.UUID != l.UUID || v.URI != l.URI) {
				t.Errorf("%q on %s is listed as %s, which resolves elsewhere: %s", l.Name, l.URI, *name, r)
			}
			if l.CID == nil || l.State != "running" {
				// resolve refuses these, but for the right domain.
				if r.Code == 0 || !strings.Contains(r.Stderr, l.Name) && !strings.Contains(r.Stderr, l.UUID) {
					t.Errorf("%s: want a refusal naming %q: %s", *name, l.Name, r)
				}
			}
		}
	}

	// The table: a header, a row per domain, quoted names with blanks.
	r := runHelper(t, "list", "-c", sys)
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Code != 0 || len(lines) != 1+len(listSystem) || !strings.HasPrefix(lines[0], "NAME ") {
		t.Fatalf("list table: %s", r)
	}
	if !strings.Contains(r.Stdout, `"my vm"`) || !strings.Contains(r.Stdout, " no address ") || !strings.Contains(r.Stdout, " none ") {
		t.Errorf("list table lacks a quoted name or a CID column value:\n%s", r.Stdout)
	}
}

// TestListURIs: an absent daemon is skipped; none at all, a broken daemon
// or a hung one fail with one line and their exit code, after printing what
// the others gave.
func TestListURIs(t *testing.T) {
	e := newLookupEnv(t)
	sys := e.sys.URI()
	if got := listJSON(t, "-c", e.missing, "-c", sys); len(got) != len(systemDomains) {
		t.Errorf("with an absent daemon first: %d domains, want %d", len(got), len(systemDomains))
	}
	r := runHelper(t, "list", "-c", e.missing, "-c", e.missing2)
	expectExit(t, r, 3, "no daemon socket", "no libvirt daemon socket exists: start virtqemud or libvirtd")

	r = runHelper(t, "list", "-c", sys, "-c", e.closing)
	closingSock := e.closing[strings.Index(e.closing, "?socket=")+len("?socket="):]
	if r.Code != 3 || !strings.Contains(r.Stdout, "web-01") || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, e.closing) ||
		!strings.Contains(r.Stderr, "no libvirt daemon answers for "+e.closing+" on "+closingSock) {
		t.Errorf("a broken daemon after a good one: want exit 3, the good one's table and one line naming the broken one: %s", r)
	}
	r = runHelper(t, "list", "--timeout", "1", "-c", e.hung)
	expectExit(t, r, 9, "timed out")
}

// TestListVerbose: -v list traces each daemon's connection calls but sums up
// the XML reads in one line a daemon, not one a domain (10,000 lines on a
// big host).
func TestListVerbose(t *testing.T) {
	sys, sess := newListEnv(t)
	r := runHelper(t, "-v", "list", "-c", sys, "-c", sess)
	if r.Code != 0 {
		t.Fatalf("-v list: %s", r)
	}
	for _, want := range []struct {
		text string
		n    int
	}{
		{"libvirt CONNECT_OPEN #", 2},
		{"libvirt CONNECT_CLOSE #", 2},
		{"libvirt DOMAIN_GET_XML_DESC #", 0},
		{fmt.Sprintf("libvirt DOMAIN_GET_XML_DESC x%d, 5 in flight: ok in ", len(listSystem)), 1},
		{fmt.Sprintf("libvirt DOMAIN_GET_XML_DESC x%d, %d in flight: ok in ", len(sessionDomains), len(sessionDomains)), 1},
	} {
		if got := strings.Count(r.Stderr, want.text); got != want.n {
			t.Errorf("%q %d times on stderr, want %d:\n%s", want.text, got, want.n, r.Stderr)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n") {
		if !strings.HasPrefix(line, "libvirt-ssh-proxy: ") {
			t.Errorf("-v line not in the helper's form: %q", line)
		}
	}
}

// dropInWith writes the product drop-in with `-c URI` in its ProxyCommands,
// so the helper ssh runs searches the test's daemon, and returns its path.
func dropInWith(t *testing.T, dir, uri string) string {
	t.Helper()
	b, err := os.ReadFile(DropIn(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(binDir, "libvirt-ssh-proxy")
	s := strings.ReplaceAll(string(b), prog+" ", prog+" -c '"+uri+"' ")
	if strings.Count(s, "-c '") < 2 {
		t.Fatalf("could not insert -c into the drop-in's ProxyCommands:\n%s", s)
	}
	p := filepath.Join(dir, "dropin-c.conf")
	writeFile(t, p, s, 0o644)
	return p
}

// TestSSHConfigCommand: generate Host blocks from the daemon, then use them:
// ssh -G shows our ProxyCommand for the alias, and ssh through the alias
// reaches the helper, which (under the guard) fails at the vsock step with
// the domain's CID on ssh's stderr.
func TestSSHConfigCommand(t *testing.T) {
	requireBins(t, "ssh")
	sys, _ := newListEnv(t)
	r := runHelper(t, "ssh-config", "-c", sys)
	if r.Code != 0 {
		t.Fatalf("ssh-config: %s", r)
	}
	gen := r.Stdout
	hosts := map[string]bool{}
	for _, l := range strings.Split(gen, "\n") {
		if h, ok := strings.CutPrefix(l, "Host "); ok {
			hosts[h] = true
		}
	}
	want := []string{"vm", "web-01", "Dev-Box", "2", webUUID, "db-primary", "a-b", "my-vm", "system", "café"}
	for _, h := range want {
		if !hosts[h] {
			t.Errorf("no Host %s in:\n%s", h, gen)
		}
	}
	if len(hosts) != len(want) { // not stopped, novsock, autocid
		t.Errorf("%d Host blocks, want %d:\n%s", len(hosts), len(want), gen)
	}
	if strings.Contains(gen, "StrictHostKeyChecking") {
		t.Errorf("generated config weakens host key checking:\n%s", gen)
	}
	dir := shortTempDir(t)
	cfg := filepath.Join(dir, "generated")
	writeFile(t, cfg, gen, 0o644)

	// ssh reads it and picks our ProxyCommand for the alias.
	g := runCmd(t, sshLimit, exec.Command(mustBin(t, "ssh"), "-G", "web-01", "-F", cfg))
	// web-01 by name: a domain named like its UUID would take its UUID form.
	wantPC := "proxycommand " + helperBin + " --connect '" + strings.ReplaceAll(sys, "%", "%%") + "' qemu/web-01 %p"
	for _, l := range []string{wantPC, "proxyusefdpass yes", "checkhostip no", "hostkeyalias " + webUUID} {
		if !strings.Contains(g.Stdout, l+"\n") {
			t.Errorf("ssh -G web-01 -F generated lacks %q:\n%s", l, grepProxy(g.Stdout))
		}
	}
	g = runCmd(t, sshLimit, exec.Command(mustBin(t, "ssh"), "-G", "Dev-Box", "-F", cfg))
	if wantPC := " qemu/" + devUUID + " %p\n"; !strings.Contains(g.Stdout, wantPC) {
		t.Errorf("ssh -G Dev-Box -F generated: want the UUID form %q:\n%s", wantPC, grepProxy(g.Stdout))
	}
	// And ssh through the aliases reaches the helper, which finds the
	// domain and stops at the vsock step.
	for alias, cid := range map[string]string{"web-01": "1234", "my-vm": "62", "Dev-Box": "55", webUUID: "333", "café": "64"} {
		s := runCmd(t, sshLimit, guarded(t.Context(), "ssh", "-F", cfg, "-o", "BatchMode=yes", alias, "true"))
		if s.Code == 0 || !strings.Contains(s.Stderr, "libvirt-ssh-proxy: ") || !strings.Contains(s.Stderr, "CID "+cid) {
			t.Errorf("ssh %s: want the helper's line with CID %s on ssh's stderr: %s", alias, cid, s)
		}
	}

	// URIs from LIBVIRT_SSH_PROXY_CONNECT are carried as --connect too: ssh
	// may run the helper without that environment.
	cmd := guarded(t.Context(), helperBin, "ssh-config", "qemu/Dev-Box")
	cmd.Env = append(os.Environ(), "LIBVIRT_SSH_PROXY_CONNECT="+sys)
	if r := runCmd(t, helperLimit, cmd); r.Code != 0 || !strings.Contains(r.Stdout, " --connect '"+strings.ReplaceAll(sys, "%", "%%")+"' qemu/"+devUUID+" %p\n") {
		t.Errorf("ssh-config with LIBVIRT_SSH_PROXY_CONNECT: want --connect in the ProxyCommand: %s", r)
	}

	// HOST arguments: just those; a stopped one fails the command.
	r = runHelper(t, "ssh-config", "-c", sys, "qemu/Dev-Box", "qemu%my vm")
	if r.Code != 0 || strings.Count(r.Stdout, "Host ") != 2 || !strings.Contains(r.Stdout, "Host Dev-Box\n") || !strings.Contains(r.Stdout, "Host my-vm\n") {
		t.Errorf("ssh-config qemu/Dev-Box qemu%%my vm: %s", r)
	}
	expectExit(t, runHelper(t, "ssh-config", "-c", sys, "vsock/3"), 2, "names no libvirt domain")
	testSSHConfigLeftOut(t, sys)
}

// testSSHConfigLeftOut: a HOST that fails costs the others nothing. Each
// one that fails gets its line on stderr and a comment in its place; the
// exit code is the first failure's, as if it had been asked alone; when
// every HOST fails, nothing goes to stdout.
func testSSHConfigLeftOut(t *testing.T, sys string) {
	stopped := `domain "stopped" on ` + sys + ` is not running: shut off (start it: virsh -c '` + sys + `' start stopped)`
	tests := []struct {
		hosts []string
		code  int
		// stdout, in order: "Host X" for a block, "# ..." for a comment;
		// nil: nothing at all on stdout.
		out    []string
		stderr []string // the lines, in order, each after "libvirt-ssh-proxy: "
	}{
		{[]string{"qemu/Dev-Box", "qemu/stopped", "qemu/nosuch", "qemu%my vm"}, 5,
			[]string{"Host Dev-Box", "# qemu/stopped left out: " + stopped, `# qemu/nosuch left out: no domain named "nosuch"`, "Host my-vm"},
			[]string{"qemu/stopped: " + stopped, `qemu/nosuch: no domain named "nosuch"`}},
		{[]string{"qemu/nosuch", "qemu/vm", "qemu/stopped"}, 4,
			[]string{`# qemu/nosuch left out: no domain named "nosuch"`, "Host vm", "# qemu/stopped left out: " + stopped},
			[]string{`qemu/nosuch: no domain named "nosuch"`, "qemu/stopped: " + stopped}},
		// By UUID, as an alias's ProxyCommand names it: the message names
		// the domain.
		{[]string{"qemu/" + stopUUID, "qemu/vm"}, 5,
			[]string{"# qemu/" + stopUUID + " left out: " + stopped, "Host vm"},
			[]string{"qemu/" + stopUUID + ": " + stopped}},
		{[]string{"qemu/stopped"}, 5, nil, []string{"qemu/stopped: " + stopped}},
		{[]string{"qemu/stopped", "qemu/nosuch"}, 5, nil, []string{"qemu/stopped: " + stopped, `qemu/nosuch: no domain named "nosuch"`}},
	}
	for _, tt := range tests {
		r := runHelper(t, append([]string{"ssh-config", "-c", sys}, tt.hosts...)...)
		if r.Code != tt.code {
			t.Errorf("ssh-config %q: want exit %d: %s", tt.hosts, tt.code, r)
			continue
		}
		var out []string
		for _, l := range strings.Split(r.Stdout, "\n") {
			if strings.HasPrefix(l, "Host ") || strings.Contains(l, " left out: ") {
				out = append(out, l)
			}
		}
		for i, l := range out {
			if i >= len(tt.out) || !strings.HasPrefix(l, tt.out[i]) {
				t.Errorf("ssh-config %q: stdout line %q, want %q in that place: %s", tt.hosts, l, tt.out, r)
				break
			}
		}
		if len(out) != len(tt.out) || (tt.out == nil) != (r.Stdout == "") {
			t.Errorf("ssh-config %q: want %q on stdout: %s", tt.hosts, tt.out, r)
		}
		lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
		for i, l := range lines {
			if i >= len(tt.stderr) || !strings.HasPrefix(l, "libvirt-ssh-proxy: "+tt.stderr[i]) {
				t.Errorf("ssh-config %q: stderr line %q, want lines starting %q: %s", tt.hosts, l, tt.stderr, r)
				break
			}
		}
		if len(lines) != len(tt.stderr) {
			t.Errorf("ssh-config %q: want %d stderr lines: %s", tt.hosts, len(tt.stderr), r)
		}
		if tt.out == nil {
			continue
		}
		// What is printed is still a config ssh reads.
		cfg := filepath.Join(t.TempDir(), "generated")
		writeFile(t, cfg, r.Stdout, 0o644)
		alias := strings.TrimPrefix(tt.out[slices.IndexFunc(tt.out, func(l string) bool { return strings.HasPrefix(l, "Host ") })], "Host ")
		if g := runCmd(t, sshLimit, exec.Command(mustBin(t, "ssh"), "-G", "-F", cfg, alias)); g.Code != 0 || !strings.Contains(g.Stdout, "proxycommand "+helperBin) {
			t.Errorf("ssh -G -F (ssh-config %q) %s: want our ProxyCommand: %s", tt.hosts, alias, g)
		}
	}
}

// TestDoctor drives every check to its failure for real: ssh configs that
// shadow the drop-in or lack it, a system config without the Include, the
// daemon, the domain's state and vsock, the port (a unix target with and
// without a listener; a vsock one under the guard), fd passing.
func TestDoctor(t *testing.T) {
	requireBins(t, "ssh")
	sys, _ := newListEnv(t)
	dir := shortTempDir(t)
	dropIn := dropInWith(t, dir, sys)
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content, 0o644)
		return p
	}
	base := "BatchMode yes\nUserKnownHostsFile /dev/null\n"
	good := file("good.conf", base+"Include "+dropIn+"\n")
	shadow := file("shadow.conf", base+"Host *\n    ProxyCommand nc %h %p\nInclude "+dropIn+"\n")
	jump := file("jump.conf", base+"Host *\n    ProxyJump bastion.example\nInclude "+dropIn+"\n")
	nofd := file("nofd.conf", base+"Host *\n    ProxyUseFdpass no\nInclude "+dropIn+"\n")
	stock := file("stock.conf", base+"Host *\n    SendEnv LANG LC_*\n")
	sysOK := file("ssh_config", "Include "+filepath.Join(dir, "ssh_config.d")+"/*.conf\n")
	// ssh ends the keyword at a tab as well as a space.
	sysTab := file("tab_ssh_config", "Host *\n    SendEnv LANG\nInclude\t"+filepath.Join(dir, "ssh_config.d")+"/*.conf\n")
	if err := os.Mkdir(filepath.Join(dir, "ssh_config.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	DropIn(t, filepath.Join(dir, "ssh_config.d")) // installed where sysOK includes it
	sysStock := file("stock_ssh_config", "Host *\n    SendEnv LANG LC_*\n")
	missingDrop := dropInWith(t, shortTempDir(t), URIFor(filepath.Join(dir, "host.xml"), filepath.Join(dir, "no-such-sock")))
	unreach := file("unreach.conf", base+"Include "+missingDrop+"\n")
	hungDrop := dropInWith(t, shortTempDir(t), URIFor(filepath.Join(dir, "host.xml"), HungDaemon(t, dir)))
	hung := file("hung.conf", base+"Include "+hungDrop+"\n")
	live := FakeDaemon(t, dir, "live-sock", func(c net.Conn) { c.Close() })
	dead := DeadSocket(t, dir)
	gen := runHelper(t, "ssh-config", "-c", sys, "qemu/web-01")
	if gen.Code != 0 {
		t.Fatalf("ssh-config: %s", gen)
	}
	aliases := file("aliases.conf", base+gen.Stdout)

	cases := []struct {
		name string
		args []string
		code int
		ok   []string // in OK lines
		fail []string // in FAIL lines
	}{
		{"running, vsock under the guard", []string{"-F", good, "qemu/vm"}, 11,
			[]string{"ssh runs the helper", `"vm" on ` + sys, "running", "CID 42", "ProxyUseFdpass): yes"}, []string{"no VM holds vsock CID 42"}},
		{"domain missing", []string{"-F", good, "qemu/nosuch"}, 4, []string{"libvirt daemon answers"}, []string{`no domain named "nosuch"`, "list domains with: virsh -c '" + sys + "' list --all"}},
		{"shut off", []string{"-F", good, "qemu/stopped"}, 5, []string{"domain exists"}, []string{"not running", "start stopped"}},
		// The IP fallback's addresses are listed, never dialed; these test
		// domains have no interfaces, and the lease directory is empty.
		{"no vsock", []string{"-F", good, "--lease-dir", dir, "qemu/novsock"}, 6, []string{"domain is running"},
			[]string{"no vsock device", "<vsock model='virtio'>", `IP fallback to port 22 (listed, not dialed): found no IP address for "novsock"`}},
		{"no vsock, no fallback", []string{"-F", good, "--no-ip-fallback", "qemu/novsock"}, 6, nil, []string{"no vsock device"}},
		{"vsock without CID", []string{"-F", good, "qemu/autocid"}, 7, nil, []string{"without a CID address"}},
		{"daemon absent", []string{"-F", unreach, "qemu/vm"}, 3, []string{"ssh runs the helper"}, []string{"cannot reach libvirt", "no daemon socket"}},
		{"daemon hung", []string{"-F", hung, "--timeout", "1", "qemu/vm"}, 9, []string{"ssh runs the helper"}, []string{"libvirt daemon answers: timed out"}},
		{"Host * ProxyCommand shadows the drop-in", []string{"-F", shadow, "qemu/vm"}, 14, nil,
			[]string{`ProxyCommand "nc %h %p" applies`, shadow + " line 3 (Host *)", "Include /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf"}},
		{"Host * ProxyJump shadows the drop-in", []string{"-F", jump, "qemu/vm"}, 14, nil, []string{"ProxyJump bastion.example applies"}},
		{"no drop-in, system config without Include", []string{"-F", stock, "--system-config", sysStock, "-c", sys, "qemu/vm"}, 14, []string{"CID 42"},
			[]string{"no ProxyCommand applies", "add `Include " + dir + "/ssh_config.d/*.conf` as the first line of " + sysStock}},
		{"system config with the Include", []string{"-F", stock, "--system-config", sysOK, "-c", sys, "qemu/vm"}, 14,
			[]string{sysOK + " includes " + dir + "/ssh_config.d/*.conf (line 1)"}, []string{"no ProxyCommand applies"}},
		{"system config with Include<TAB>", []string{"-F", stock, "--system-config", sysTab, "-c", sys, "qemu/vm"}, 14,
			[]string{sysTab + " includes " + dir + "/ssh_config.d/*.conf (line 3)"}, []string{"no ProxyCommand applies"}},
		{"no fd passing", []string{"-F", nofd, "unix/" + live}, 12, []string{"guest port accepts a connection: " + live}, []string{`ProxyUseFdpass is "no"`}},
		{"unix target accepts", []string{"-F", good, "unix/" + live}, 0, []string{"guest port accepts a connection: " + live, "ProxyUseFdpass): yes"}, nil},
		{"unix target, nothing listening", []string{"-F", good, "unix/" + dead}, 8, nil, []string{"nothing listening on " + dead}},
		{"alias from ssh-config", []string{"-F", aliases, "web-01"}, 11, []string{"qemu/web-01", "CID 1234"}, []string{"no VM holds vsock CID 1234"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runHelper(t, append([]string{"doctor"}, c.args...)...)
			if r.Code != c.code {
				t.Errorf("want exit %d: %s", c.code, r)
			}
			var oks, fails []string
			for _, l := range strings.Split(r.Stdout, "\n") {
				switch {
				case strings.HasPrefix(l, "OK "):
					oks = append(oks, l)
				case strings.HasPrefix(l, "FAIL "):
					fails = append(fails, l)
				}
			}
			for _, s := range c.ok {
				if !strings.Contains(strings.Join(oks, "\n"), s) {
					t.Errorf("no OK line with %q:\n%s", s, r.Stdout)
				}
			}
			for _, s := range c.fail {
				if !strings.Contains(strings.Join(fails, "\n"), s) {
					t.Errorf("no FAIL line with %q:\n%s", s, r.Stdout)
				}
			}
			if slices.Contains(c.args, "--no-ip-fallback") && strings.Contains(r.Stdout, "IP fallback") {
				t.Errorf("--no-ip-fallback, yet an IP fallback line:\n%s", r.Stdout)
			}
			if (c.code == 0) != (len(fails) == 0) {
				t.Errorf("exit %d with %d FAIL lines:\n%s", r.Code, len(fails), r.Stdout)
			}
			if c.code != 0 {
				line := strings.TrimSuffix(r.Stderr, "\n")
				if !strings.HasPrefix(line, "libvirt-ssh-proxy: ") || strings.Contains(line, "\n") || !strings.Contains(line, "checks failed") {
					t.Errorf("want one summary line on stderr: %q", r.Stderr)
				}
			}
		})
	}
}

// TestSessionDaemonGone: qemu:session/ when no session daemon runs -- its
// socket absent (it exited when idle) or left behind by one that died, as
// the nested-VM tier 3 saw -- names libvirt's own way back, not a daemon to
// start by hand.
func TestSessionDaemonGone(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	stale := filepath.Join(dir, "stale")
	if err := os.MkdirAll(filepath.Join(stale, "libvirt"), 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(stale, "libvirt", "libvirt-sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	for _, c := range []struct{ name, runtimeDir, why string }{
		{"exited", filepath.Join(dir, "empty"), "no daemon socket"},
		{"died", stale, "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := guarded(context.Background(), helperBin, "resolve", "qemu:session/vm")
			cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+c.runtimeDir)
			r := runCmd(t, helperLimit, cmd)
			expectExit(t, r, 3, "qemu:///session", c.why, "your session daemon is not running", "virsh -c qemu:///session list starts it again")
		})
	}
}

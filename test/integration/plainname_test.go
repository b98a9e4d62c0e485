//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The plain-names domains: which plain name reaches which, and which must
// not. Their MACs and the lease files of newPlainEnv tie guest hostnames to
// them.
const (
	plainUUID   = "91a1a000-0000-4000-8000-000000000003"
	macLegacy2  = "52:54:00:91:00:01" // legacybox: hostname oldbox, 127.0.0.2 (the sshd)
	macSneaky   = "52:54:00:91:00:02" // sneaky: claims hostname web01
	macTwinA    = "52:54:00:91:00:03" // twin-a and twin-b both claim "twin"
	macTwinB    = "52:54:00:91:00:04"
	macStopped  = "52:54:00:91:00:05" // stopped: hostname stoppedbox, domain shut off
	macExpired2 = "52:54:00:91:00:06" // lapsed: its lease of hostname lapsedbox expired
	macVsockH   = "52:54:00:91:00:07" // vsockhost: hostname vbox, and a vsock CID
)

var plainDomains = []Domain{
	{Name: "web01", CID: 5101},
	{Name: "Dev-Box", CID: 5102},
	{Name: "byuuid", UUID: plainUUID, CID: 5103},
	{Name: "legacybox", NICs: []NIC{{macLegacy2, missingNet}}},
	{Name: "sneaky", NICs: []NIC{{macSneaky, missingNet}}},
	{Name: "twin-a", NICs: []NIC{{macTwinA, missingNet}}},
	{Name: "twin-b", NICs: []NIC{{macTwinB, missingNet}}},
	{Name: "stopped", Stopped: true, NICs: []NIC{{macStopped, missingNet}}},
	{Name: "paused", RunState: 3, CID: 5104},
	{Name: "lapsed", NICs: []NIC{{macExpired2, missingNet}}},
	{Name: "vsockhost", CID: 5105, NICs: []NIC{{macVsockH, missingNet}}},
	// Names the user's own ssh_config routes elsewhere.
	{Name: "routed", CID: 5106},
	{Name: "pcdom", CID: 5107},
	{Name: "jumpdom", CID: 5108},
}

// plainEnv is a libvirtd with plainDomains, an sshd also on
// 127.0.0.2:port, lease files naming guest hostnames, and an ssh_config:
// the user's own blocks first (as ~/.ssh/config comes before the system
// files), then the product drop-in and the plain-names drop-in, each with
// -c and --lease-dir pointing at the test's daemon and lease files, then a
// block read after them (a system file below its Include line).
type plainEnv struct {
	d        *Libvirtd
	s        *SSHD
	port     string
	leaseDir string
	cfg      string
	cfgOff   string // cfg without the plain-names drop-in
}

func newPlainEnv(t *testing.T) *plainEnv {
	t.Helper()
	needHelper(t)
	requireBins(t, "libvirtd", "virsh", "sshd", "ssh", "ssh-keygen")
	e := &plainEnv{d: StartLibvirtd(t, HostXML(plainDomains...)), s: StartSSHD(t)}
	e.port = fmt.Sprint(e.s.ListenTCP(t, "127.0.0.2"))
	e.leaseDir = shortTempDir(t)
	now := time.Now().Unix()
	lease := func(ip, mac, hostname string, expiry int64) string {
		return fmt.Sprintf(`{"ip-address":%q,"mac-address":%q,"hostname":%q,"expiry-time":%d}`, ip, mac, hostname, expiry)
	}
	writeFile(t, filepath.Join(e.leaseDir, "virbr0.status"), "[\n"+strings.Join([]string{
		lease("127.0.0.2", macLegacy2, "oldbox", now+3600),
		lease("127.0.0.4", macSneaky, "web01", now+3600),
		lease("127.0.0.4", macTwinA, "twin", now+3600),
		lease("127.0.0.4", macTwinB, "twin", now+3600),
		lease("127.0.0.4", macStopped, "stoppedbox", now+3600),
		lease("127.0.0.4", macExpired2, "lapsedbox", now-10),
		lease("127.0.0.3", macVsockH, "vbox", now+3600),
	}, ",\n")+"\n]\n", 0o644)
	macs := []string{}
	for _, d := range plainDomains {
		for _, n := range d.NICs {
			macs = append(macs, fmt.Sprintf(`{"domain":%q,"macs":[%q]}`, d.Name, n.MAC))
		}
	}
	writeFile(t, filepath.Join(e.leaseDir, "virbr0.macs"), "["+strings.Join(macs, ",")+"]", 0o644)

	dir := shortTempDir(t)
	opts := "-c '" + e.d.URI() + "' --lease-dir '" + e.leaseDir + "' "
	plain := PlainDropIn(t, dir, opts)
	main := dropInWith(t, dir, e.d.URI())
	cc, err := os.ReadFile(e.s.ClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	user := `# The user's own blocks, read first.
Host myalias
    HostName 10.0.0.5
Host 10.0.0.5
    Port 2200
Host alias1
    HostName web01
Host routed
    HostName 127.0.0.9
Host pcdom
    ProxyCommand /bin/false %h %p
Host jumpdom
    ProxyJump jumphost.invalid
`
	late := `# Read after the drop-ins.
Host late
    HostName 127.0.0.8
`
	e.cfg = filepath.Join(dir, "ssh_config")
	writeFile(t, e.cfg, strings.Replace(string(cc), "Include "+e.s.DropIn, user+"Match all\nInclude "+main+"\nInclude "+plain+"\n"+late, 1), 0o644)
	e.cfgOff = filepath.Join(dir, "ssh_config.off")
	writeFile(t, e.cfgOff, strings.Replace(string(cc), "Include "+e.s.DropIn, user+"Match all\nInclude "+main+"\n"+late, 1), 0o644)
	return e
}

// PlainDropIn writes config/plain-names.conf with @BINDIR@ set to the built
// helper's directory and opts inserted after the helper's path in both of
// its command lines, and returns its path.
func PlainDropIn(t testing.TB, dir, opts string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "config", "plain-names.conf"))
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(binDir, "libvirt-ssh-proxy")
	s := strings.ReplaceAll(string(b), "@BINDIR@/libvirt-ssh-proxy ", prog+" "+opts)
	if strings.Count(s, opts) != 2 {
		t.Fatalf("want the helper twice in the plain-names drop-in (check and ProxyCommand):\n%s", s)
	}
	p := filepath.Join(dir, "plain-names.conf")
	writeFile(t, p, s, 0o644)
	return p
}

// sshG runs ssh -G under the guard (the check it runs is the real helper)
// and returns the options that decide the route, and ssh's stderr.
func (e *plainEnv) sshG(t *testing.T, host string) (map[string]string, string) {
	t.Helper()
	r := runCmd(t, helperLimit, guarded(t.Context(), "ssh", "-F", e.cfg, "-G", host))
	if r.Code != 0 {
		t.Fatalf("ssh -G: %s", r)
	}
	got := map[string]string{}
	for _, l := range strings.Split(r.Stdout, "\n") {
		k, v, _ := strings.Cut(l, " ")
		switch k {
		case "hostname", "proxycommand", "proxyjump", "proxyusefdpass":
			got[k] = v
		}
	}
	return got, r.Stderr
}

// TestPlainNamesSSHConfig: with the plain-names drop-in on, real ssh -G
// sends a plain name to the helper (ProxyCommand ... --plain '%n' %p)
// exactly when a running domain has that name or UUID, or one guest's lease
// that hostname, and leaves every other name, and every name the user's
// configuration routes (HostName, ProxyCommand, ProxyJump), as it was.
func TestPlainNamesSSHConfig(t *testing.T) {
	e := newPlainEnv(t)
	plainPC := "--plain '%n' %p"
	tests := []struct {
		host string
		ours bool   // the plain-names ProxyCommand applies
		want string // else: "hostname X", "proxycommand X" or "proxyjump X" that must be
	}{
		{"web01", true, ""},
		{"Dev-Box", true, ""}, // capitals: %h is the name as typed
		{plainUUID, true, ""},
		{strings.ToUpper(plainUUID), true, ""},
		{"oldbox", true, ""}, // a guest's DHCP hostname
		{"OLDBOX", true, ""}, // DNS names fold case
		{"vbox", true, ""},   // the hostname of a guest with vsock
		{"legacybox", true, ""},
		{"twin", false, "hostname twin"},             // two guests claim it
		{"stoppedbox", false, "hostname stoppedbox"}, // its domain does not run
		{"stopped", false, "hostname stopped"},
		{"paused", false, "hostname paused"},
		{"lapsedbox", false, "hostname lapsedbox"}, // expired lease
		{"nosuchhost", false, "hostname nosuchhost"},
		{"1", false, "hostname 0.0.0.1"}, // web01's ID, but an address to ssh
		{"127.0.0.2", false, "hostname 127.0.0.2"},
		{"localhost", false, "hostname localhost"},
		{"alias1", false, "hostname web01"},     // the user's alias of a domain's name
		{"routed", false, "hostname 127.0.0.9"}, // a domain the user gives a HostName
		{"pcdom", false, "proxycommand /bin/false %h %p"},
		{"jumpdom", false, "proxyjump jumphost.invalid"},
		{"qemu/web01", false, "proxycommand " + helperBin + " -c '" + e.d.URI() + "' '%n' %p"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			got, stderr := e.sshG(t, tt.host)
			if stderr != "" {
				t.Errorf("ssh -G %s printed on stderr (the check must be silent): %q", tt.host, stderr)
			}
			isOurs := strings.HasSuffix(got["proxycommand"], plainPC)
			if isOurs != tt.ours {
				t.Fatalf("ssh -G %s: plain-names ProxyCommand applies = %v, want %v: %v", tt.host, isOurs, tt.ours, got)
			}
			if tt.ours {
				// No ProxyUseFdpass from this block: it would break a
				// ProxyCommand of the user's (see pcdom).
				if got["proxyusefdpass"] != "no" {
					t.Errorf("ssh -G %s: proxyusefdpass %q, want no", tt.host, got["proxyusefdpass"])
				}
				return
			}
			k, v, _ := strings.Cut(tt.want, " ")
			if got[k] != v {
				t.Errorf("ssh -G %s: %s %q, want %q (all: %v)", tt.host, k, got[k], v, got)
			}
			if tt.host == "pcdom" && got["proxyusefdpass"] != "no" {
				t.Errorf("the user's ProxyCommand got ProxyUseFdpass %q", got["proxyusefdpass"])
			}
		})
	}
}

// TestPlainNamesUntouched: for every name the plain-names rules do not
// match, ssh -G says exactly what it says with the drop-in off: no option
// of any block changes (a Match final would: ssh would read everything
// again with the HostName as host name, and Host 10.0.0.5's Port would
// apply to myalias).
func TestPlainNamesUntouched(t *testing.T) {
	e := newPlainEnv(t)
	for _, h := range []string{"myalias", "example.com", "late", "alias1", "routed", "pcdom", "jumpdom", "twin", "stopped", "qemu/web01", "10.0.0.5"} {
		t.Run(h, func(t *testing.T) {
			t.Parallel()
			on := runCmd(t, helperLimit, guarded(t.Context(), "ssh", "-F", e.cfg, "-G", h))
			off := runCmd(t, helperLimit, guarded(t.Context(), "ssh", "-F", e.cfgOff, "-G", h))
			if on.Code != 0 || off.Code != 0 || on.Stdout != off.Stdout {
				t.Errorf("ssh -G %s differs with plain names on:\non:  %s\noff: %s", h, on, off)
			}
		})
	}
	if r := runCmd(t, helperLimit, guarded(t.Context(), "ssh", "-F", e.cfg, "-G", "myalias")); !strings.Contains(r.Stdout, "\nport 22\n") {
		t.Errorf("ssh -G myalias: want port 22, not Host 10.0.0.5's: %s", r)
	}
}

// TestPlainNamesCheck runs the check itself: exit 0 on a match and 1 on
// none, silent but for -v, which names the rule; a domain name wins over a
// guest's lease that claims it; no daemon socket means no match, at once.
func TestPlainNamesCheck(t *testing.T) {
	e := newPlainEnv(t)
	opts := []string{"-c", e.d.URI(), "--lease-dir", e.leaseDir}
	tests := []struct {
		args   []string
		code   int
		stderr string // with -v
	}{
		{[]string{"web01", "web01"}, 0, `matched by domain name: domain "web01"`}, // sneaky's guest claims web01 too
		{[]string{plainUUID, plainUUID}, 0, `matched by domain UUID: domain "byuuid"`},
		{[]string{"oldbox", "oldbox"}, 0, `matched by guest hostname (DHCP lease): domain "legacybox"`},
		{[]string{"oldbox"}, 0, `domain "legacybox"`},
		{[]string{"web01", "127.0.0.9"}, 1, "ssh's configuration routes web01 to HostName 127.0.0.9"},
		{[]string{"twin", "twin"}, 1, "guests of 2 domains (twin-a, twin-b) give DHCP hostname twin"},
		{[]string{"stopped", "stopped"}, 1, `domain "stopped"`},
		{[]string{"stoppedbox", "stoppedbox"}, 1, `domain "stopped"`},
		{[]string{"nosuchhost", "nosuchhost"}, 1, "no domain is named nosuchhost"},
		{[]string{"10.1", "10.1"}, 1, "is an IP address"},
		{[]string{"localhost", "localhost"}, 1, "localhost is this host"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			t.Parallel()
			r := runHelper(t, append(append([]string{"plain-name"}, opts...), tt.args...)...)
			if r.Code != tt.code || r.Stdout != "" || r.Stderr != "" {
				t.Errorf("want exit %d and no output, got %s", tt.code, r)
			}
			r = runHelper(t, append(append([]string{"plain-name", "-v"}, opts...), tt.args...)...)
			if r.Code != tt.code || !strings.Contains(r.Stderr, tt.stderr) {
				t.Errorf("-v: want exit %d and %q on stderr, got %s", tt.code, tt.stderr, r)
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		expectExit(t, runHelper(t, "plain-name"), 2, "plain-name takes NAME")
	})
	t.Run("--plain -v names the rule as the check does", func(t *testing.T) {
		r := runHelper(t, append(opts, "-v", "resolve", "--plain", "oldbox")...)
		if want := `libvirt-ssh-proxy: oldbox: matched by guest hostname (DHCP lease): domain "legacybox" on `; r.Code != 0 || !strings.Contains(r.Stderr, want) {
			t.Errorf("want exit 0 and %q on stderr, got %s", want, r)
		}
	})
	t.Run("--plain --wait", func(t *testing.T) {
		// A name no rule matches yet is waited for; one two guests claim
		// fails at once.
		r := runHelper(t, append(opts, "resolve", "--plain", "--wait=1s", "nosuchhost")...)
		expectExit(t, r, 4, "still failing after --wait 1s", "no domain is named nosuchhost")
		if r.Elapsed < time.Second {
			t.Errorf("--wait=1s gave up after %v", r.Elapsed)
		}
		r = runHelper(t, append(opts, "resolve", "--plain", "--wait=20s", "twin")...)
		expectExit(t, r, 4, "guests of 2 domains")
		if r.Elapsed > 5*time.Second {
			t.Errorf("--wait waited %v on a name two guests claim", r.Elapsed)
		}
	})
	t.Run("no daemon", func(t *testing.T) {
		// No socket at the default paths of this (empty) home: the check
		// stats and stops.
		home := shortTempDir(t)
		cmd := guarded(t.Context(), helperBin, "plain-name", "-v", "-c", URIFor("/nonexistent.xml", filepath.Join(home, "sock")), "web01", "web01")
		r := runCmd(t, helperLimit, cmd)
		if r.Code != 1 || !strings.Contains(r.Stderr, "no daemon socket") {
			t.Errorf("want exit 1 naming the missing socket: %s", r)
		}
	})
}

// TestPlainNamesSSH logs in with real ssh by plain names through the
// plain-names drop-in: a domain without vsock by its name and a guest by
// its DHCP hostname (both over the IP fallback to the sshd on 127.0.0.2),
// and shows that a domain with vsock goes to the helper's vsock step (under
// the guard: no VM holds the CID, exit 11 on ssh's stderr), by name and by
// its guest's hostname.
func TestPlainNamesSSH(t *testing.T) {
	e := newPlainEnv(t)
	for _, host := range []string{"legacybox", "oldbox"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, sshLimit, guarded(t.Context(), "ssh", "-F", e.cfg, "-p", e.port, e.s.User+"@"+host, "echo", "hello", "plain"))
			if r.Code != 0 || r.Stdout != "hello plain\n" {
				t.Fatalf("ssh %s: %s", host, r)
			}
		})
	}
	for _, c := range []struct{ host, cid string }{{"web01", "5101"}, {"vbox", "5105"}, {"Dev-Box", "5102"}} {
		t.Run(c.host, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, sshLimit, guarded(t.Context(), "ssh", "-F", e.cfg, e.s.User+"@"+c.host, "true"))
			if r.Code != 255 || !strings.Contains(r.Stderr, "CID "+c.cid) {
				t.Fatalf("ssh %s: want the helper's vsock failure for CID %s: %s", c.host, c.cid, r)
			}
		})
	}
	// scp takes a plain name as it is: no '/' for it to read as a path.
	t.Run("scp", func(t *testing.T) {
		t.Parallel()
		src := filepath.Join(shortTempDir(t), "f")
		dst := filepath.Join(shortTempDir(t), "g")
		writeFile(t, src, "plain scp\n", 0o644)
		r := runCmd(t, sshLimit, guarded(t.Context(), "scp", "-F", e.cfg, "-P", e.port, src, e.s.User+"@oldbox:"+dst))
		if b, err := os.ReadFile(dst); r.Code != 0 || err != nil || string(b) != "plain scp\n" {
			t.Fatalf("scp to oldbox: %s (%v)", r, err)
		}
	})
	// The same through resolve --plain: the rule's domain, no connect.
	r := runHelper(t, "resolve", "--plain", "-c", e.d.URI(), "--lease-dir", e.leaseDir, "vbox")
	if r.Code != 0 || !strings.Contains(r.Stdout, "vsockhost") {
		t.Errorf("resolve --plain vbox: %s", r)
	}
}

// BenchmarkPlainNames measures what the plain-names drop-in costs every
// ssh to a host that is no domain: ssh -G example.invalid with the drop-in
// on (its check runs: no daemon socket, so a stat and exit; or a private
// libvirtd with 10 running domains, so a lookup and a read of the lease
// files) against ssh -G with the same configuration but the drop-in, ssh's
// config parsing alone. The two run alternately, so that load hits both
// alike, each under the guard; reported per run as wall and CPU time
// (ssh's with its children's: the shell and the check) in ms, on-ms and
// off-ms, on-cpu-ms and off-cpu-ms, which make bench's table reads.
func BenchmarkPlainNames(b *testing.B) {
	needHelper(b)
	requireBins(b, "ssh", "libvirtd")
	var doms []Domain
	for i := range 10 {
		doms = append(doms, Domain{Name: fmt.Sprintf("vm%d", i), CID: 6000 + i})
	}
	// test:///default, built once: a host file would be parsed again on
	// every connection, a cost of the test driver that virtqemud has not.
	d := StartLibvirtd(b, HostXML())
	uri := DefaultWith(b, d, doms)
	dir := shortTempDir(b)
	leaseDir := filepath.Join(dir, "leases")
	if err := os.Mkdir(leaseDir, 0o755); err != nil {
		b.Fatal(err)
	}
	writeFile(b, filepath.Join(leaseDir, "virbr0.status"), `[{"ip-address":"192.0.2.5","mac-address":"52:54:00:92:00:01","hostname":"someguest"}]`, 0o644)
	writeFile(b, filepath.Join(leaseDir, "virbr0.macs"), `[{"domain":"vm1","macs":["52:54:00:92:00:01"]}]`, 0o644)
	base := "Host *\n    User bench\n    GlobalKnownHostsFile /dev/null\n"
	off := filepath.Join(dir, "off.conf")
	writeFile(b, off, base, 0o644)
	for _, c := range []struct{ name, uri string }{
		{"no-daemon", URIFor("/nonexistent.xml", filepath.Join(dir, "no-such-sock"))},
		{"daemon", uri},
	} {
		sub := filepath.Join(dir, c.name)
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		on := filepath.Join(sub, "on.conf")
		writeFile(b, on, base+"Include "+PlainDropIn(b, sub, "-c '"+c.uri+"' --lease-dir '"+leaseDir+"' ")+"\n", 0o644)
		b.Run(c.name, func(b *testing.B) {
			var wall, cpu [2]time.Duration
			for b.Loop() {
				for i, cfg := range []string{on, off} {
					r := runCmd(b, helperLimit, guarded(context.Background(), "ssh", "-F", cfg, "-G", "example.invalid"))
					if r.Code != 0 || strings.Contains(r.Stdout, "proxycommand") {
						b.Fatalf("ssh -G example.invalid: %s", r)
					}
					wall[i] += r.Elapsed
					cpu[i] += r.CPU
				}
			}
			for i, name := range []string{"on", "off"} {
				b.ReportMetric(float64(wall[i])/float64(b.N)/1e6, name+"-ms")
				b.ReportMetric(float64(cpu[i])/float64(b.N)/1e6, name+"-cpu-ms")
			}
		})
	}
}

// TestPlainNamesDoctor: doctor NAME through the plain-names drop-in names
// the rule that matched and the domain, then checks that domain's road;
// for a name no rule matches, or one the user routes elsewhere, it says
// why, after ssh's configuration's own failure.
func TestPlainNamesDoctor(t *testing.T) {
	e := newPlainEnv(t)
	tests := []struct {
		host string
		code int
		text []string
	}{
		{"web01", 11, []string{"OK    ssh -G web01: ssh runs the helper: ProxyCommand " + helperBin, "--plain '%n' %p",
			`OK    plain name web01: the domain name rule: domain "web01" on ` + e.d.URI(), "CID 5101",
			"OK    fd passing (ProxyUseFdpass): no, the helper relays"}},
		{"oldbox", 6, []string{`OK    plain name oldbox: the guest hostname (DHCP lease) rule: domain "legacybox"`,
			"has no vsock device", "the helper tries 127.0.0.2"}},
		{plainUUID, 11, []string{"the domain UUID rule: domain \"byuuid\""}},
		{"twin", 14, []string{"no ProxyCommand applies to twin", "or turn plain names on: ln -s ",
			"FAIL  plain name twin: no rule matches: guests of 2 domains (twin-a, twin-b) give DHCP hostname twin"}},
		{"routed", 14, []string{"FAIL  plain name routed: no rule matches: ssh's configuration routes routed to HostName 127.0.0.9"}},
		{"stopped", 14, []string{`FAIL  plain name stopped: no rule matches: domain "stopped" on ` + e.d.URI() + " is not running: shut off"}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			r := runHelper(t, "doctor", "-F", e.cfg, "-c", e.d.URI(), "--lease-dir", e.leaseDir, tt.host)
			if r.Code != tt.code {
				t.Errorf("want exit %d: %s", tt.code, r)
			}
			for _, s := range tt.text {
				if !strings.Contains(r.Stdout, s) {
					t.Errorf("report lacks %q:\n%s", s, r.Stdout)
				}
			}
		})
	}
}

// TestPlainNamesList: list's plain name for each domain is the one the
// check takes for that very domain (and a domain that does not run has
// none), so list never shows a name ssh would not bring there.
func TestPlainNamesList(t *testing.T) {
	e := newPlainEnv(t)
	want := map[string]string{"web01": "web01", "Dev-Box": "Dev-Box", "byuuid": "byuuid", "stopped": "", "paused": ""}
	for _, l := range listJSON(t, "-c", e.d.URI()) {
		got := ""
		if l.Plain != nil {
			got = *l.Plain
		}
		if w, ok := want[l.Name]; ok && got != w {
			t.Errorf("list: %s has plain name %q, want %q", l.Name, got, w)
		}
		if got == "" {
			continue
		}
		r := runHelper(t, "plain-name", "-v", "-c", e.d.URI(), "--lease-dir", e.leaseDir, got, got)
		if r.Code != 0 || !strings.Contains(r.Stderr, fmt.Sprintf("domain %q", l.Name)) {
			t.Errorf("list's plain name %s for %s: the check says %s", got, l.Name, r)
		}
	}
	r := runHelper(t, "list", "-c", e.d.URI())
	plain := map[string]string{} // NAME's PLAIN, the column before URI
	for _, l := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(l); len(f) >= 6 {
			plain[f[0]] = f[len(f)-2]
		}
	}
	if r.Code != 0 || plain["NAME"] != "PLAIN" || plain["web01"] != "web01" || plain["stopped"] != "-" {
		t.Errorf("list table: want a PLAIN column with web01 and - for stopped: %s", r)
	}
}

// TestPlainNamesNoDaemon: with plain names on and no daemon to ask, or
// one that never answers, real ssh -G goes its normal way for a name: no
// ProxyCommand, nothing on stderr, and the hung daemon costs ssh the
// check's --timeout 1, not more (give or take timeoutSlack on a loaded
// machine); without a socket there is nothing to wait for.
func TestPlainNamesNoDaemon(t *testing.T) {
	needHelper(t)
	requireBins(t, "ssh")
	dir := shortTempDir(t)
	for _, c := range []struct {
		name, sock string
		limit      time.Duration
	}{
		{"no socket", filepath.Join(dir, "no-such-sock"), timeoutSlack},
		{"hung daemon", HungDaemon(t, dir), time.Second + timeoutSlack},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := shortTempDir(t)
			leaseDir := shortTempDir(t)
			cfg := filepath.Join(sub, "ssh_config")
			writeFile(t, cfg, "LogLevel ERROR\nInclude "+PlainDropIn(t, sub, "-c '"+URIFor("/nonexistent.xml", c.sock)+"' --lease-dir '"+leaseDir+"' ")+"\n", 0o644)
			r := runCmd(t, helperLimit, guarded(t.Context(), "ssh", "-F", cfg, "-G", "web01"))
			if r.Code != 0 || strings.Contains(r.Stdout, "proxycommand") || r.Stderr != "" {
				t.Errorf("ssh -G web01: want ssh's own way, silently: %s", r)
			}
			if r.Elapsed > c.limit {
				t.Errorf("ssh -G web01 took %v, want under %v", r.Elapsed.Round(time.Millisecond), c.limit)
			}
		})
	}
}

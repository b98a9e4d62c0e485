//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// UUIDs with hex letters, so that case matters to a sloppy parser.
const (
	vmUUID    = "c0ffee00-1234-4abc-9def-00000000000a"
	webUUID   = "aabbccdd-eeff-4a0b-8c0d-0123456789ab"
	devUUID   = "deadbeef-0000-4000-8000-00000000d0d0"
	stopUUID  = "44444444-4444-4444-4444-444444444444"
	sessUUID  = "5e55e55e-5e55-4e55-8e55-5e55e55e5e55"
	sess2UUID = "5e55e55e-5e55-4e55-8e55-5e55e55e5e56"
)

// systemDomains is the "system" daemon's host file. The test driver gives the
// running ones IDs 1, 2, ... in this order (checked with virsh, not assumed).
var systemDomains = []Domain{
	{Name: "vm", UUID: vmUUID, CID: 42},
	{Name: "web-01", UUID: webUUID, CID: 1234}, // ID 2
	{Name: "Dev-Box", UUID: devUUID, CID: 55},
	{Name: "novsock"},
	{Name: "autocid", AutoCID: true},
	{Name: "stopped", UUID: stopUUID, CID: 77, Stopped: true},
	// Named like web-01's ID: the name must win over the ID.
	{Name: "2", CID: 222},
	// Named like web-01's UUID (lower case, dashed): the name must win over
	// the UUID; the same UUID in upper case is no name, so it finds web-01.
	{Name: webUUID, CID: 333},
	// Names may hold ':', '@', spaces, and words of the host forms.
	{Name: "db:primary", CID: 60},
	{Name: "a@b", CID: 61},
	{Name: "my vm", CID: 62},
	{Name: "system", CID: 63},
	{Name: "café", CID: 64},
}

// sessionDomains is the "session" daemon's host file. "vm" is in both: the
// first URI searched wins.
var sessionDomains = []Domain{
	{Name: "sessvm", UUID: sessUUID, CID: 500},
	{Name: "vm", UUID: sess2UUID, CID: 501},
}

// lookupEnv is two private libvirtds standing in for qemu:///system and
// qemu:///session, plus sockets that are missing, hung or broken.
type lookupEnv struct {
	sys, sess *Libvirtd
	// URIs of the same host file over sockets that do not work.
	missing, missing2, hung, closing, garbage string
	ids                                       map[string]int // domain name -> ID, from virsh
}

// newLookupEnv starts the daemons for one top-level test (about 100 ms).
func newLookupEnv(t *testing.T) *lookupEnv {
	t.Helper()
	needHelper(t)
	requireBins(t, "libvirtd", "virsh")
	e := &lookupEnv{
		sys:  StartLibvirtd(t, HostXML(systemDomains...)),
		sess: StartLibvirtd(t, HostXML(sessionDomains...)),
	}
	dir := shortTempDir(t)
	e.missing = URIFor(e.sys.HostXML, dir+"/no-such-sock")
	e.missing2 = URIFor(e.sess.HostXML, dir+"/no-such-sock-either")
	e.hung = URIFor(e.sys.HostXML, HungDaemon(t, dir))
	e.closing = URIFor(e.sys.HostXML, ClosingDaemon(t, dir))
	e.garbage = URIFor(e.sys.HostXML, GarbageDaemon(t, dir))
	e.ids = map[string]int{}
	for _, line := range strings.Split(e.sys.Virsh(t, "list"), "\n")[2:] {
		f := strings.Fields(line)
		if len(f) >= 2 {
			id, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("virsh list: %q", line)
			}
			e.ids[strings.Join(f[1:len(f)-1], " ")] = id
		}
	}
	if e.ids["vm"] == 0 || e.ids["Dev-Box"] == 0 || e.ids["web-01"] != 2 {
		t.Fatalf("unexpected domain IDs from virsh: %v", e.ids)
	}
	return e
}

// resolved is the JSON `resolve --json` prints.
type resolved struct {
	URI   string          `json:"uri"`
	Name  string          `json:"name"`
	UUID  string          `json:"uuid"`
	ID    json.RawMessage `json:"id"`
	State json.RawMessage `json:"state"`
	CID   json.RawMessage `json:"cid"`
	Path  string          `json:"path"`
	Port  json.RawMessage `json:"port"`
}

// resolveJSON runs `resolve --json ARGS...` (ARGS hold HOST and options in
// any order), wants exit 0 and parses the output.
func resolveJSON(t *testing.T, args ...string) (resolved, map[string]json.RawMessage) {
	t.Helper()
	r := runHelper(t, append([]string{"resolve", "--json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("want exit 0: %s", r)
	}
	var v resolved
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("resolve --json output is not JSON: %v\n%s", err, r)
	}
	json.Unmarshal([]byte(r.Stdout), &m)
	return v, m
}

func mapString(m map[string]json.RawMessage) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func jsonNum(raw json.RawMessage) string { return strings.Trim(string(raw), `"`) }

// TestResolveLookup: every way of naming a domain, through `resolve` (which
// connects to nothing), against the "system" daemon only.
func TestResolveLookup(t *testing.T) {
	e := newLookupEnv(t)
	sysURI := e.sys.URI()
	cases := []struct {
		name, host string
		wantName   string
		wantCID    int
	}{
		{"by name", "qemu/vm", "vm", 42},
		{"by name with dash", "qemu/web-01", "web-01", 1234},
		{"mixed-case name", "qemu/Dev-Box", "Dev-Box", 55},
		{"UUID lower dashed", "qemu/" + vmUUID, "vm", 42},
		{"UUID upper dashed", "qemu/" + strings.ToUpper(vmUUID), "vm", 42},
		{"UUID lower no dashes", "qemu/" + strings.ReplaceAll(vmUUID, "-", ""), "vm", 42},
		{"UUID upper no dashes", "qemu/" + strings.ToUpper(strings.ReplaceAll(vmUUID, "-", "")), "vm", 42},
		{"UUID mixed case", "qemu/C0FFEE00-1234-4ABC-9def-00000000000a", "vm", 42},
		{"by ID", fmt.Sprintf("qemu/%d", e.ids["vm"]), "vm", 42},
		{"by ID mixed-case domain", fmt.Sprintf("qemu/%d", e.ids["Dev-Box"]), "Dev-Box", 55},
		{"name wins over ID", "qemu/2", "2", 222},
		{"name wins over UUID", "qemu/" + webUUID, webUUID, 333},
		{"upper-case UUID is no name: UUID lookup", "qemu/" + strings.ToUpper(webUUID), "web-01", 1234},
		{"form qemu:system/", "qemu:system/vm", "vm", 42},
		{"form qemu:session/", "qemu:session/vm", "vm", 42},
		{"form qemu%", "qemu%vm", "vm", 42},
		{"form qemu%system%", "qemu%system%vm", "vm", 42},
		{"form qemu%session%", "qemu%session%Dev-Box", "Dev-Box", 55},
		{"name with ':'", "qemu/db:primary", "db:primary", 60},
		{"name with ':', qemu:system/", "qemu:system/db:primary", "db:primary", 60},
		{"name with ':', qemu%", "qemu%db:primary", "db:primary", 60},
		{"name with '@'", "qemu/a@b", "a@b", 61},
		{"name with a space", "qemu/my vm", "my vm", 62},
		{"non-ASCII name", "qemu/café", "café", 64},
		{"domain named system, qemu%", "qemu%system", "system", 63},
		{"domain named system, qemu%system%", "qemu%system%system", "system", 63},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v, _ := resolveJSON(t, c.host, "-c", sysURI)
			if v.Name != c.wantName || jsonNum(v.CID) != strconv.Itoa(c.wantCID) || v.URI != sysURI {
				t.Errorf("resolve %s: got name %q cid %s uri %q; want name %q cid %d uri %q",
					c.host, v.Name, v.CID, v.URI, c.wantName, c.wantCID, sysURI)
			}
		})
	}
}

// TestResolveJSON checks every field of `resolve --json` for one domain,
// and the direct forms (vsock, unix) that need no libvirt.
func TestResolveJSON(t *testing.T) {
	e := newLookupEnv(t)
	v, m := resolveJSON(t, "qemu/vm", "-c", e.sys.URI())
	// "path" belongs to unix targets: absent or empty here (checked below).
	for _, k := range []string{"uri", "name", "uuid", "id", "state", "cid", "port"} {
		if _, ok := m[k]; !ok {
			t.Errorf("resolve --json lacks key %q: %s", k, mapString(m))
		}
	}
	if v.URI != e.sys.URI() {
		t.Errorf("uri: got %q want %q", v.URI, e.sys.URI())
	}
	if v.Name != "vm" {
		t.Errorf("name: got %q", v.Name)
	}
	if v.UUID != vmUUID {
		t.Errorf("uuid: got %q want %q", v.UUID, vmUUID)
	}
	if got := jsonNum(v.ID); got != strconv.Itoa(e.ids["vm"]) {
		t.Errorf("id: got %s want %d", v.ID, e.ids["vm"])
	}
	if got := strings.ToLower(string(v.State)); !strings.Contains(got, "running") && got != "1" {
		t.Errorf("state: got %s, want running", v.State)
	}
	if jsonNum(v.CID) != "42" {
		t.Errorf("cid: got %s want 42", v.CID)
	}
	if v.Path != "" {
		t.Errorf("path for a vsock target: got %q", v.Path)
	}
	t.Logf("resolve --json qemu/vm: %s", mapString(m))

	// With a PORT the port is reported.
	r := runHelper(t, "resolve", "qemu/vm", "2222", "--json", "-c", e.sys.URI())
	if r.Code != 0 || !strings.Contains(r.Stdout, `"port":2222`) && !strings.Contains(r.Stdout, `"port": 2222`) {
		t.Errorf(`resolve qemu/vm 2222 --json: want "port":2222: %s`, r)
	}

	direct := []struct{ host, cid, path string }{
		{"vsock/42", "42", ""},
		{"vsock%1234", "1234", ""},
		{"unix/run/x.sock", "", "/run/x.sock"},
		{"unix//run/x.sock", "", "/run/x.sock"},
		{"unix%run/x.sock", "", "/run/x.sock"},
		{"unix%/run/x.sock", "", "/run/x.sock"},
	}
	for _, d := range direct {
		t.Run(d.host, func(t *testing.T) {
			// No -c: these must not touch libvirt at all.
			v, _ := resolveJSON(t, d.host)
			if d.cid != "" && jsonNum(v.CID) != d.cid {
				t.Errorf("cid: got %s want %s", v.CID, d.cid)
			}
			if v.Path != d.path {
				t.Errorf("path: got %q want %q", v.Path, d.path)
			}
		})
	}
	t.Run("unix/./rel", func(t *testing.T) {
		v, _ := resolveJSON(t, "unix/./rel.sock")
		if v.Path == "/rel.sock" || v.Path == "/./rel.sock" || !strings.HasSuffix(v.Path, "rel.sock") {
			t.Errorf("unix/./rel.sock is relative to the working directory, got path %q", v.Path)
		}
	})
}

// TestResolveErrors: refused domains, lookups over several URIs, broken
// daemons, usage errors. Each asserts the exit code and the message.
func TestResolveErrors(t *testing.T) {
	e := newLookupEnv(t)
	sys, sess := e.sys.URI(), e.sess.URI()
	cases := []exitCase{
		{"inactive refused", []string{"qemu/stopped", "-c", sys}, 5, []string{"stopped"}},
		{"inactive refused by UUID", []string{"qemu/" + stopUUID, "-c", sys}, 5, nil},
		{"no vsock device", []string{"qemu/novsock", "-c", sys}, 6, []string{"novsock"}},
		{"vsock without CID address", []string{"qemu/autocid", "-c", sys}, 7, []string{"autocid"}},
		{"names are case-sensitive", []string{"qemu/dev-box", "-c", sys}, 4, []string{"dev-box", sys}},
		{"no such ID", []string{"qemu/99", "-c", sys}, 4, []string{sys}},
		{"ID -1 is no stopped domain", []string{"qemu/-1", "-c", sys}, 4, []string{sys}},
		{"ID beyond int32", []string{"qemu/99999999999999999999", "-c", sys}, 4, []string{sys}},
		{"no such UUID", []string{"qemu/" + strings.Repeat("9", 32), "-c", sys}, 4, []string{sys}},
		{"not found lists both URIs", []string{"qemu/nosuch", "-c", sys, "-c", sess}, 4, []string{"nosuch", sys, sess}},
		{"all sockets missing", []string{"qemu/vm", "-c", e.missing, "-c", e.missing2}, 3, nil},
		{"daemon closes the connection", []string{"qemu/vm", "-c", e.closing}, 3, nil},
		{"daemon speaks garbage", []string{"qemu/vm", "-c", e.garbage}, 3, nil},
		{"bad vsock CID", []string{"vsock/abc"}, 2, nil},
		{"empty vsock CID", []string{"vsock/"}, 2, nil},
		{"empty domain name", []string{"qemu/", "-c", sys}, 2, nil},
		{"unknown option", []string{"qemu/vm", "--no-such-option", "-c", sys}, 2, []string{"--no-such-option"}},
		{"bad --timeout", []string{"qemu/vm", "--timeout", "soon", "-c", sys}, 2, []string{"soon"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expectExit(t, runHelper(t, append([]string{"resolve"}, c.args...)...), c.code, c.msg...)
		})
	}

	found := []struct {
		name     string
		args     []string
		wantURI  string
		wantCID  string
		wantName string
	}{
		{"found in the second URI", []string{"qemu/sessvm", "-c", sys, "-c", sess}, sess, "500", "sessvm"},
		{"first URI wins", []string{"qemu/vm", "-c", sys, "-c", sess}, sys, "42", "vm"},
		{"first URI wins, other order", []string{"qemu/vm", "-c", sess, "-c", sys}, sess, "501", "vm"},
		{"missing socket skipped", []string{"qemu/vm", "-c", e.missing, "-c", sys}, sys, "42", "vm"},
		{"options before HOST", []string{"-c", sess, "--connect", sys, "qemu/sessvm"}, sess, "500", "sessvm"},
		{"--connect=URI", []string{"--connect=" + sys, "qemu/Dev-Box"}, sys, "55", "Dev-Box"},
	}
	for _, c := range found {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v, _ := resolveJSON(t, c.args...)
			if v.URI != c.wantURI || jsonNum(v.CID) != c.wantCID || v.Name != c.wantName {
				t.Errorf("got uri %q cid %s name %q; want %q %s %q", v.URI, v.CID, v.Name, c.wantURI, c.wantCID, c.wantName)
			}
		})
	}
}

// TestResolveJSONFailure: `resolve --json` that fails still prints one
// JSON object on stdout, with the message of the failure line, the class's
// name and the exit code, besides that one line on stderr and that code.
func TestResolveJSONFailure(t *testing.T) {
	e := newLookupEnv(t)
	sys := e.sys.URI()
	tests := []struct {
		name  string
		args  []string
		exit  int
		class string
	}{
		{"bad host name", []string{"qemu/"}, 2, "usage"},
		{"bad PORT", []string{"-c", sys, "qemu/vm", "ssh"}, 2, "usage"},
		{"no daemon socket", []string{"-c", e.missing, "qemu/vm"}, 3, "unreachable"},
		{"not found", []string{"-c", sys, "qemu/nosuch"}, 4, "not-found"},
		{"not running", []string{"-c", sys, "qemu/stopped"}, 5, "not-running"},
		{"not running, by UUID", []string{"-c", sys, "qemu/" + stopUUID}, 5, "not-running"},
		{"no vsock", []string{"--no-ip-fallback", "-c", sys, "qemu/novsock"}, 6, "no-vsock"},
		{"no CID", []string{"--no-ip-fallback", "-c", sys, "qemu/autocid"}, 7, "no-cid"},
		{"hung daemon", []string{"-t", "500ms", "-c", e.hung, "qemu/vm"}, 9, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runHelper(t, append([]string{"resolve", "--json"}, tt.args...)...)
			var v struct {
				Host, Error, Class string
				Exit               int
			}
			dec := json.NewDecoder(strings.NewReader(r.Stdout))
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("want one JSON object on stdout (%v): %s", err, r)
			}
			line := strings.TrimSuffix(r.Stderr, "\n")
			if r.Code != tt.exit || v.Exit != tt.exit || v.Class != tt.class || v.Error == "" ||
				!strings.HasPrefix(line, "libvirt-ssh-proxy: "+v.Host) || !strings.HasSuffix(line, ": "+v.Error) || strings.Contains(line, "\n") {
				t.Errorf("want exit %d, class %q, and the stderr line's message as error: %+v\n%s", tt.exit, tt.class, v, r)
			}
		})
	}
}

// TestProxyGuarded runs the ProxyCommand form (HOST PORT) under the nofsock
// guard: for a running domain with a CID the lookup succeeds end-to-end and
// the vsock step fails with ENODEV, exit 11, the CID in the message. No
// packet leaves the machine.
func TestProxyGuarded(t *testing.T) {
	e := newLookupEnv(t)
	sys, sess := e.sys.URI(), e.sess.URI()
	cases := []exitCase{
		{"by name", []string{"-c", sys, "qemu/vm", "22"}, 11, []string{"42"}},
		{"options after", []string{"qemu/vm", "22", "-c", sys}, 11, []string{"42"}},
		{"mixed-case name, % form", []string{"-c", sys, "qemu%Dev-Box", "22"}, 11, []string{"55"}},
		{"by UUID upper", []string{"-c", sys, "qemu/" + strings.ToUpper(webUUID), "22"}, 11, []string{"1234"}},
		{"by ID", []string{"-c", sys, fmt.Sprintf("qemu/%d", e.ids["Dev-Box"]), "22"}, 11, []string{"55"}},
		{"second URI", []string{"-c", sys, "-c", sess, "qemu:session/sessvm", "2222"}, 11, []string{"500"}},
		{"--fdpass", []string{"--fdpass", "-c", sys, "qemu/vm", "22"}, 11, []string{"42"}},
		{"--relay", []string{"--relay", "-c", sys, "qemu/vm", "22"}, 11, []string{"42"}},
		{"direct vsock/CID", []string{"vsock/42", "22"}, 11, []string{"42"}},
		{"direct vsock%CID", []string{"vsock%4242", "22"}, 11, []string{"4242"}},
		{"inactive", []string{"-c", sys, "qemu/stopped", "22"}, 5, []string{"stopped"}},
		{"no vsock", []string{"-c", sys, "qemu/novsock", "22"}, 6, []string{"novsock"}},
		{"auto CID", []string{"-c", sys, "qemu/autocid", "22"}, 7, []string{"autocid"}},
		{"not found", []string{"-c", sys, "-c", sess, "qemu/nosuch", "22"}, 4, []string{sys, sess}},
		{"sockets missing", []string{"-c", e.missing, "qemu/vm", "22"}, 3, nil},
		{"missing socket skipped", []string{"-c", e.missing, "-c", sys, "qemu/vm", "22"}, 11, []string{"42"}},
		{"no HOST PORT", []string{"-c", sys}, 2, nil},
		{"bad PORT", []string{"vsock/42", "ssh"}, 2, nil},
		{"CID beyond 32 bits", []string{"vsock/4294967296", "22"}, 2, nil},
	}
	runExitCases(t, cases)
}

// TestProxyUnixErrors: the unix/PATH target when nothing is there or nothing
// listens.
func TestProxyUnixErrors(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	dead := DeadSocket(t, dir)
	cases := []exitCase{
		{"no socket at PATH", []string{"unix/" + dir + "/absent.sock", "22"}, 11, []string{dir + "/absent.sock"}},
		{"no socket at PATH, % form", []string{"unix%" + dir + "/absent.sock", "22"}, 11, []string{dir + "/absent.sock"}},
		{"nothing listening", []string{"unix/" + dead, "22"}, 8, []string{dead}},
	}
	runExitCases(t, cases)
}

// timeoutSlack is what a run may take beyond its --timeout: process start
// and exit on a loaded 2-core machine. The checks catch a timeout that is not
// honoured (a hang), not speed.
const timeoutSlack = 3 * time.Second

// TestProxyUnixBusyListener: a unix target whose listener is alive but has
// its backlog full (connect: EAGAIN) is neither "no socket at PATH" (11) nor
// "nothing listening" (8): the helper should keep trying until --timeout and
// report exit 9, "timed out".
func TestProxyUnixBusyListener(t *testing.T) {
	needHelper(t)
	busy := BusySocket(t, shortTempDir(t))
	r := runHelper(t, "--timeout", "1", "unix/"+busy, "22")
	expectExit(t, r, 9, "timed out")
	if r.Elapsed > time.Second+timeoutSlack {
		t.Errorf("took %v, want at most --timeout 1s + %v", r.Elapsed, timeoutSlack)
	}
}

// TestTimeoutHungDaemon: a libvirtd that accepts and never answers must not
// hang the helper beyond --timeout (+ timeoutSlack), exit 9, "timed out".
func TestTimeoutHungDaemon(t *testing.T) {
	e := newLookupEnv(t)
	cases := []struct {
		name    string
		args    []string
		timeout time.Duration
	}{
		{"proxy --timeout 1", []string{"--timeout", "1", "-c", e.hung, "qemu/vm", "22"}, time.Second},
		{"proxy --timeout 1s", []string{"qemu/vm", "22", "--timeout", "1s", "-c", e.hung}, time.Second},
		{"proxy --timeout=500ms", []string{"--timeout=500ms", "-c", e.hung, "qemu/vm", "22"}, 500 * time.Millisecond},
		{"proxy --timeout 0.7", []string{"--timeout", "0.7", "-c", e.hung, "qemu/vm", "22"}, 700 * time.Millisecond},
		{"resolve --timeout 1", []string{"resolve", "qemu/vm", "--timeout", "1", "-c", e.hung}, time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runHelper(t, c.args...)
			expectExit(t, r, 9, "timed out")
			if r.Elapsed > c.timeout+timeoutSlack {
				t.Errorf("took %v, want at most --timeout %v + %v", r.Elapsed, c.timeout, timeoutSlack)
			}
			if r.Elapsed < c.timeout-50*time.Millisecond {
				t.Errorf("took %v, gave up before --timeout %v", r.Elapsed, c.timeout)
			}
			t.Logf("exit %d after %v", r.Code, r.Elapsed.Round(time.Millisecond))
		})
	}
}

// TestTimeoutPerDaemon: each URI gets its share of --timeout, so a hung
// daemon first in the list neither eats the whole budget nor gets a later,
// good daemon blamed: the domain is found on the good one, and when no
// daemon has it the failure names the hung one by its socket.
func TestTimeoutPerDaemon(t *testing.T) {
	e := newLookupEnv(t)
	sys, sess := e.sys.URI(), e.sess.URI()
	hungSock := e.hung[strings.Index(e.hung, "?socket=")+len("?socket="):]
	cases := []exitCase{
		{"found after a hung daemon", []string{"--timeout", "2", "-c", e.hung, "-c", sys, "qemu/vm", "22"}, 11, []string{"CID 42"}},
		{"found on the third", []string{"--timeout", "2", "-c", e.hung, "-c", e.hung, "-c", sess, "qemu/sessvm", "22"}, 11, []string{"CID 500"}},
		{"resolve after a hung daemon", []string{"resolve", "--timeout", "2", "-c", e.hung, "-c", sys, "qemu/web-01"}, 0, nil},
		{"not found: the hung one is named", []string{"--timeout", "2", "-c", e.hung, "-c", sys, "qemu/nosuch", "22"}, 9,
			[]string{"timed out waiting for the libvirt daemon at " + hungSock, sys + ": not found"}},
	}
	runExitCases(t, cases)
	t.Run("list prints what the others gave", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, "list", "--timeout", "2", "-c", e.hung, "-c", sys)
		if r.Code != 9 || !strings.Contains(r.Stdout, "web-01") || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, hungSock) {
			t.Errorf("want exit 9, the good daemon's table and one line naming the hung socket: %s", r)
		}
	})
}

// TestVersionHelp: --version and --help exit 0.
func TestVersionHelp(t *testing.T) {
	needHelper(t)
	for _, a := range []string{"--version", "--help"} {
		r := runHelper(t, a)
		if r.Code != 0 || r.Stdout+r.Stderr == "" {
			t.Errorf("%s: want exit 0 and some text: %s", a, r)
		}
	}
}

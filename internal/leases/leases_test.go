package leases

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []Lease
		bad     int
		errText string
	}{
		{"libvirt's shape", `[
  {"ip-address": "192.168.122.45", "mac-address": "52:54:00:12:34:56", "hostname": "web01", "client-id": "01:52:54:00:12:34:56", "expiry-time": 1700000000}
]`, []Lease{{IP: netip.MustParseAddr("192.168.122.45"), MAC: "52:54:00:12:34:56", Hostname: "web01", Expiry: time.Unix(1700000000, 0)}}, 0, ""},
		{"no expiry is infinite", `[{"ip-address":"10.0.0.2","mac-address":"52:54:00:00:00:01"}]`,
			[]Lease{{IP: netip.MustParseAddr("10.0.0.2"), MAC: "52:54:00:00:00:01"}}, 0, ""},
		{"expiry 0 is infinite", `[{"ip-address":"10.0.0.2","mac-address":"52:54:00:00:00:01","expiry-time":0}]`,
			[]Lease{{IP: netip.MustParseAddr("10.0.0.2"), MAC: "52:54:00:00:00:01"}}, 0, ""},
		{"upper-case MAC made canonical", `[{"ip-address":"10.0.0.2","mac-address":"52:54:00:AB:CD:EF"}]`,
			[]Lease{{IP: netip.MustParseAddr("10.0.0.2"), MAC: "52:54:00:ab:cd:ef"}}, 0, ""},
		{"IPv6 and no MAC", `[{"ip-address":"fd00::5","expiry-time":5}]`,
			[]Lease{{IP: netip.MustParseAddr("fd00::5"), Expiry: time.Unix(5, 0)}}, 0, ""},
		{"IPv4-mapped IPv6 unmapped, zone dropped", `[{"ip-address":"::ffff:10.0.0.9"},{"ip-address":"fe80::1%eth0"}]`,
			[]Lease{{IP: netip.MustParseAddr("10.0.0.9")}, {IP: netip.MustParseAddr("fe80::1")}}, 0, ""},
		{"unknown fields ignored", `[{"ip-address":"10.0.0.2","iaid":"1","server-duid":"x"}]`,
			[]Lease{{IP: netip.MustParseAddr("10.0.0.2")}}, 0, ""},
		{"empty array", `[]`, nil, 0, ""},
		{"empty file", "", nil, 0, ""},
		{"blank file", " \n", nil, 0, ""},
		{"null", `null`, nil, 0, ""},
		{"missing ip", `[{"mac-address":"52:54:00:00:00:01"}]`, nil, 1, ""},
		{"ip of wrong type", `[{"ip-address":17,"mac-address":"52:54:00:00:00:01"}]`, nil, 1, ""},
		{"ip not an address", `[{"ip-address":"host.example","mac-address":"52:54:00:00:00:01"}]`, nil, 1, ""},
		{"expiry as string", `[{"ip-address":"10.0.0.2","expiry-time":"1700000000"}]`, nil, 1, ""},
		{"expiry as float", `[{"ip-address":"10.0.0.2","expiry-time":1.5}]`, nil, 1, ""},
		{"negative expiry", `[{"ip-address":"10.0.0.2","expiry-time":-1}]`, nil, 1, ""},
		{"bad MAC", `[{"ip-address":"10.0.0.2","mac-address":"52:54:00"}]`, nil, 1, ""},
		{"20-byte MAC", `[{"ip-address":"10.0.0.2","mac-address":"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"}]`, nil, 1, ""},
		{"entry not an object", `[1, "x", null, {"ip-address":"10.0.0.3"}]`, []Lease{{IP: netip.MustParseAddr("10.0.0.3")}}, 3, ""},
		{"object, not array", `{"ip-address":"10.0.0.2"}`, nil, 0, "not a JSON array"},
		{"truncated", `[{"ip-address":"10.0.0.2"`, nil, 0, "not a JSON array"},
		{"garbage", "\x00\xff garbage", nil, 0, "not a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad, err := ParseStatus([]byte(tt.data))
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if bad != tt.bad {
				t.Errorf("bad = %d, want %d", bad, tt.bad)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("leases = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseMACs(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []DomainMACs
		bad     int
		errText string
	}{
		{"libvirt's shape", `[{"domain":"web01","macs":["52:54:00:12:34:56","52:54:00:AB:CD:EF"]},{"domain":"db","macs":[]}]`,
			[]DomainMACs{{"web01", []string{"52:54:00:12:34:56", "52:54:00:ab:cd:ef"}}, {"db", nil}}, 0, ""},
		{"no domain", `[{"macs":["52:54:00:12:34:56"]}]`, nil, 1, ""},
		{"macs not a list", `[{"domain":"x","macs":"52:54:00:12:34:56"}]`, nil, 1, ""},
		{"bad MAC spoils its entry only", `[{"domain":"x","macs":["nope"]},{"domain":"y","macs":["52:54:00:00:00:02"]}]`,
			[]DomainMACs{{"y", []string{"52:54:00:00:00:02"}}}, 1, ""},
		{"empty file", "", nil, 0, ""},
		{"not JSON", "domain=x", nil, 0, "not a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad, err := ParseMACs([]byte(tt.data))
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.errText)
				}
				return
			}
			if err != nil || bad != tt.bad || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, bad %d, err %v; want %+v, bad %d", got, bad, err, tt.want, tt.bad)
			}
		})
	}
}

// now is the clock Find is given in these tests.
var now = time.Unix(1_800_000_000, 0)

func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func leaseJSON(ip, mac string, expiry int64) string {
	if expiry == 0 {
		return fmt.Sprintf(`{"ip-address":%q,"mac-address":%q}`, ip, mac)
	}
	return fmt.Sprintf(`{"ip-address":%q,"mac-address":%q,"expiry-time":%d}`, ip, mac, expiry)
}

func TestFind(t *testing.T) {
	const (
		mac1 = "52:54:00:00:00:01"
		mac2 = "52:54:00:00:00:02"
		mac3 = "52:54:00:00:00:03"
	)
	soon, later := now.Unix()+60, now.Unix()+3600
	past := now.Unix() - 1
	files := map[string]string{
		"virbr0.status": "[" + strings.Join([]string{
			leaseJSON("192.168.122.10", mac1, soon),
			leaseJSON("192.168.122.11", mac1, past), // expired
			leaseJSON("192.168.122.12", mac2, later),
			leaseJSON("192.168.122.99", mac3, 0), // someone else's
			leaseJSON("fe80::5054:ff:fe00:1", mac1, soon),
		}, ",") + "]",
		"virbr1.status": "[" + strings.Join([]string{
			leaseJSON("10.1.0.5", mac1, 0),          // never expires: first
			leaseJSON("192.168.122.12", mac2, soon), // same address again: once
			leaseJSON("fd00::7", mac2, later),
		}, ",") + "]",
		"virbr2.status":    "this is not JSON",                                // corrupt: skipped
		"virbr3.status":    `[{"ip-address":"10.3.0.1","mac-address":5}]`,     // bad entry
		"virbr0.macs":      `[{"domain":"web","macs":["52:54:00:00:00:02"]}]`, // web's mac2
		"virbr1.macs":      `[{"domain":"other","macs":["52:54:00:00:00:03"]}]`,
		"virbr2.macs":      `{broken`,
		"dnsmasq.conf":     "not ours",
		"virbr0.hostsfile": "52:54:00:00:00:01,192.168.122.10",
	}
	dir := writeDir(t, files)

	addrs := func(ls []Lease) []string {
		var s []string
		for _, l := range ls {
			s = append(s, l.IP.String())
		}
		return s
	}
	tests := []struct {
		name   string
		domain string
		macs   []string
		want   []string
	}{
		{"XML MAC and .macs MAC", "web", []string{mac1},
			[]string{"10.1.0.5", "192.168.122.12", "fd00::7", "192.168.122.10", "fe80::5054:ff:fe00:1%virbr0"}},
		{"XML MAC only, any case", "nomacs", []string{strings.ToUpper(mac1)},
			[]string{"10.1.0.5", "192.168.122.10", "fe80::5054:ff:fe00:1%virbr0"}},
		{".macs only", "web", nil, []string{"192.168.122.12", "fd00::7"}},
		{"no MACs at all", "nobody", nil, nil},
		{"unparsable XML MAC ignored", "nobody", []string{"zz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := Find(dir, tt.domain, tt.macs, now)
			if !reflect.DeepEqual(addrs(got), tt.want) {
				t.Errorf("addresses = %q, want %q", addrs(got), tt.want)
			}
			for _, l := range got {
				if !strings.HasPrefix(l.File, dir) || !strings.HasSuffix(l.File, ".status") {
					t.Errorf("lease %v names file %q", l.IP, l.File)
				}
			}
			msgs := fmt.Sprint(problems)
			if !strings.Contains(msgs, "virbr2.macs") {
				t.Errorf("problems do not name the corrupt virbr2.macs: %s", msgs)
			}
			// Without a MAC to look for, the .status files are not read.
			if len(tt.want) > 0 {
				for _, want := range []string{"skipping " + filepath.Join(dir, "virbr2.status"), "virbr3.status: skipped 1 malformed"} {
					if !strings.Contains(msgs, want) {
						t.Errorf("problems lack %q: %s", want, msgs)
					}
				}
			}
		})
	}
}

func TestFindProblems(t *testing.T) {
	if _, problems := Find(filepath.Join(t.TempDir(), "nope"), "x", []string{"52:54:00:00:00:01"}, now); len(problems) != 1 || !strings.Contains(problems[0].Error(), "read lease directory") {
		t.Errorf("missing directory: problems = %v", problems)
	}
	big := strings.Repeat(" ", MaxFileSize) + "[" + leaseJSON("10.0.0.1", "52:54:00:00:00:01", 0) + "]"
	dir := writeDir(t, map[string]string{
		"huge.status": big,
		"ok.status":   "[" + leaseJSON("10.0.0.2", "52:54:00:00:00:01", 0) + "]",
	})
	if err := os.Mkdir(filepath.Join(dir, "dir.status"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, problems := Find(dir, "x", []string{"52:54:00:00:00:01"}, now)
	if len(got) != 1 || got[0].IP.String() != "10.0.0.2" {
		t.Errorf("leases = %+v, want only 10.0.0.2 from ok.status", got)
	}
	msgs := fmt.Sprint(problems)
	for _, want := range []string{"huge.status: larger than 16 MiB", "dir.status"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("problems lack %q: %s", want, msgs)
		}
	}
}

func TestNewer(t *testing.T) {
	var never time.Time
	a, b := time.Unix(10, 0), time.Unix(20, 0)
	tests := []struct {
		x, y time.Time
		want int
	}{
		{never, never, 0}, {never, a, -1}, {a, never, 1}, {b, a, -1}, {a, b, 1}, {a, a, 0},
	}
	for _, tt := range tests {
		if got := newer(tt.x, tt.y); got != tt.want {
			t.Errorf("newer(%v, %v) = %d, want %d", tt.x, tt.y, got, tt.want)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		`[{"ip-address":"192.168.122.45","mac-address":"52:54:00:12:34:56","hostname":"h","expiry-time":1700000000}]`,
		`[{"ip-address":"fd00::1","expiry-time":0}]`,
		`[{"ip-address":17}]`, `[1,"x",null]`, `{}`, `[`, ``, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		leases, bad, err := ParseStatus(data)
		if err != nil && (leases != nil || bad != 0) {
			t.Fatalf("error %v with results", err)
		}
		for _, l := range leases {
			if !l.IP.IsValid() || l.IP.Zone() != "" || l.IP.Is4In6() {
				t.Fatalf("lease with address %v", l.IP)
			}
			if l.MAC != "" && len(l.MAC) != 17 {
				t.Fatalf("lease with MAC %q", l.MAC)
			}
			if !l.Expiry.IsZero() && l.Expiry.Unix() <= 0 {
				t.Fatalf("lease with expiry %v", l.Expiry)
			}
		}
	})
}

func FuzzParseMACs(f *testing.F) {
	for _, s := range []string{
		`[{"domain":"web01","macs":["52:54:00:12:34:56"]}]`,
		`[{"domain":"x","macs":"y"}]`, `[{"macs":[]}]`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doms, _, err := ParseMACs(data)
		if err != nil && doms != nil {
			t.Fatalf("error %v with results", err)
		}
		for _, d := range doms {
			for _, m := range d.MACs {
				if c, err := canonicalMAC(m); err != nil || c != m {
					t.Fatalf("MAC %q not canonical", m)
				}
			}
		}
	})
}

// BenchmarkFind measures one fallback's lease-file cost: a host with one
// network and a handful of leases, and a busy one with 4 networks of 250.
func BenchmarkFind(b *testing.B) {
	for _, size := range []struct{ networks, leases int }{{1, 5}, {4, 250}} {
		files := map[string]string{}
		for n := 0; n < size.networks; n++ {
			var ls []string
			for i := 0; i < size.leases; i++ {
				ls = append(ls, leaseJSON(fmt.Sprintf("10.%d.%d.%d", n, i/200, i%200+2), fmt.Sprintf("52:54:00:%02x:%02x:%02x", n, i/256, i%256), now.Unix()+int64(i)))
			}
			files[fmt.Sprintf("virbr%d.status", n)] = "[" + strings.Join(ls, ",") + "]"
			files[fmt.Sprintf("virbr%d.macs", n)] = fmt.Sprintf(`[{"domain":"vm-%d","macs":["52:54:00:%02x:00:03"]}]`, n, n)
		}
		dir := writeDir(b, files)
		b.Run(fmt.Sprintf("leases=%d", size.networks*size.leases), func(b *testing.B) {
			for b.Loop() {
				if got, _ := Find(dir, "vm-0", nil, now); len(got) != 1 {
					b.Fatalf("found %d leases, want 1", len(got))
				}
			}
		})
	}
}

func TestOwners(t *testing.T) {
	now := time.Unix(2_000_000_000, 0)
	status := `[
  {"ip-address":"192.168.122.10","mac-address":"52:54:00:00:00:01","hostname":"web","expiry-time":2000000100},
  {"ip-address":"192.168.122.11","mac-address":"52:54:00:00:00:02","hostname":"Old","expiry-time":1999999999},
  {"ip-address":"192.168.122.12","mac-address":"52:54:00:00:00:03","hostname":"twin"},
  {"ip-address":"192.168.122.13","mac-address":"52:54:00:00:00:04","hostname":"twin"},
  {"ip-address":"192.168.122.14","hostname":"nomac"},
  {"ip-address":"192.168.122.15","mac-address":"52:54:00:00:00:05","hostname":"orphan"},
  {"ip-address":"192.168.122.16","mac-address":"52:54:00:00:00:06","hostname":"kelvin"}
]`
	v6 := `[{"ip-address":"fd00::10","mac-address":"52:54:00:00:00:01","hostname":"WEB"}]`
	macs := `[{"domain":"vm-web","macs":["52:54:00:00:00:01"]},{"domain":"vm-old","macs":["52:54:00:00:00:02"]},
  {"domain":"vm-a","macs":["52:54:00:00:00:03"]},{"domain":"vm-b","macs":["52:54:00:00:00:04"]},
  {"domain":"vm-k","macs":["52:54:00:00:00:06"]}]`
	dir := t.TempDir()
	for name, data := range map[string]string{"virbr0.status": status, "virbr1.status": v6, "virbr0.macs": macs, "virbr2.status": "garbage"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		hostname string
		want     []string
	}{
		{"web", []string{"vm-web"}},        // two networks, one domain, once
		{"wEb", []string{"vm-web"}},        // DNS names fold ASCII case
		{"old", nil},                       // expired
		{"twin", []string{"vm-a", "vm-b"}}, // two guests claim it: both, for the caller to refuse
		{"nomac", nil},                     // no MAC, no domain
		{"orphan", nil},                    // no .macs entry
		{"\u212aelvin", nil},               // the Kelvin sign is no k
		{"", nil},                          // no name
		{"vm-web", nil},                    // a domain name is no hostname
	}
	for _, tt := range tests {
		t.Run(tt.hostname, func(t *testing.T) {
			got, problems := Owners(dir, tt.hostname, now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Owners(%q) = %q, want %q", tt.hostname, got, tt.want)
			}
			if len(problems) != 1 || !strings.Contains(problems[0].Error(), "virbr2.status") {
				t.Errorf("problems = %v, want the corrupt virbr2.status only", problems)
			}
		})
	}
	if got, problems := Owners(filepath.Join(dir, "absent"), "web", now); got != nil || len(problems) != 1 {
		t.Errorf("absent directory: %q, %v; want nothing and one problem", got, problems)
	}
}

func FuzzOwners(f *testing.F) {
	f.Add([]byte(`[{"ip-address":"10.0.0.2","mac-address":"52:54:00:00:00:01","hostname":"web"}]`),
		[]byte(`[{"domain":"vm","macs":["52:54:00:00:00:01"]}]`), "WEB", int64(0))
	f.Add([]byte(`[{"ip-address":"10.0.0.2","mac-address":"52:54:00:00:00:01","hostname":"a","expiry-time":5}]`),
		[]byte(`[{"domain":"x","macs":["52:54:00:00:00:01"]},{"domain":"x","macs":["52:54:00:00:00:01"]}]`), "a", int64(6))
	f.Fuzz(func(t *testing.T, status, macs []byte, hostname string, now int64) {
		ls, _, _ := ParseStatus(status)
		doms, _, _ := ParseMACs(macs)
		got := OwnersOf(hostname, ls, doms, time.Unix(now, 0))
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("owners %q not sorted and distinct", got)
		}
		for _, o := range got {
			// Each owner holds a MAC of an unexpired lease of that hostname.
			held := slices.ContainsFunc(doms, func(d DomainMACs) bool {
				return d.Domain == o && slices.ContainsFunc(d.MACs, func(m string) bool {
					return slices.ContainsFunc(ls, func(l Lease) bool {
						return l.MAC == m && strings.EqualFold(l.Hostname, hostname) && (l.Expiry.IsZero() || !l.Expiry.Before(time.Unix(now, 0)))
					})
				})
			})
			if !held || hostname == "" {
				t.Fatalf("owner %q of %q holds no lease of that hostname", o, hostname)
			}
		}
	})
}

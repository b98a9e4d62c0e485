package lookup

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMACsFromXML(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    []string
		errText string
	}{
		{"two interfaces", `<domain><devices>
			<interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='default'/></interface>
			<interface type='bridge'><mac address='52:54:00:AA:BB:02'/></interface>
			<vsock model='virtio'><cid auto='no' address='3'/></vsock></devices></domain>`,
			[]string{"52:54:00:aa:bb:01", "52:54:00:AA:BB:02"}, ""},
		{"interface without mac", `<domain><devices><interface type='user'/></devices></domain>`, nil, ""},
		{"mac without address", `<domain><devices><interface><mac/></interface></devices></domain>`, nil, ""},
		{"mac outside devices", `<domain><interface><mac address='52:54:00:aa:bb:01'/></interface></domain>`, nil, ""},
		{"no devices", `<domain/>`, nil, ""},
		{"not XML", `<domain`, nil, "parse domain XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MACsFromXML(tt.xml)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MACsFromXML = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzMACsFromXML(f *testing.F) {
	f.Add("<domain><devices><interface><mac address='52:54:00:aa:bb:01'/></interface></devices></domain>")
	f.Add("<domain/>")
	f.Add("<")
	f.Fuzz(func(t *testing.T, xml string) {
		macs, err := MACsFromXML(xml)
		if err != nil && macs != nil {
			t.Fatalf("MACsFromXML(%q) = %q with error %v", xml, macs, err)
		}
	})
}

func TestUnusable(t *testing.T) {
	tests := []struct {
		ip        string
		fromGuest bool
		usable    bool
	}{
		{"192.168.122.5", true, true},
		{"fd00::5", true, true},
		{"127.0.0.1", true, false}, // the guest agent reports the guest's lo
		{"::1", true, false},
		{"127.0.0.2", false, true}, // a lease file that says so
		{"fe80::1", true, false},
		{"fe80::1", false, false},
		{"fe80::1%virbr0", false, true},
		{"169.254.3.4", true, false},
		{"0.0.0.0", false, false},
		{"::", true, false},
		{"224.0.0.1", false, false},
		{"ff02::1", true, false},
	}
	for _, tt := range tests {
		why := unusable(netip.MustParseAddr(tt.ip), tt.fromGuest)
		if (why == "") != tt.usable {
			t.Errorf("unusable(%s, fromGuest %v) = %q, want usable %v", tt.ip, tt.fromGuest, why, tt.usable)
		}
	}
}

// TestAddressesLeaseFiles: with a daemon that cannot be reached, the
// libvirt sources are skipped (and said so) and the lease files still give
// the addresses: MACs from the XML, loopback allowed from a lease file,
// one of each address.
func TestAddressesLeaseFiles(t *testing.T) {
	dir := t.TempDir()
	writeLeases := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeLeases("virbr7.status", `[{"ip-address":"127.0.0.2","mac-address":"52:54:00:aa:bb:01"},
		{"ip-address":"fe80::1","mac-address":"52:54:00:aa:bb:01","expiry-time":4000000000},
		{"ip-address":"224.0.0.1","mac-address":"52:54:00:aa:bb:01","expiry-time":4000000000}]`)
	writeLeases("virbr8.status", `[{"ip-address":"127.0.0.2","mac-address":"52:54:00:aa:bb:01"}]`)
	writeLeases("virbr9.status", `garbage`)
	var log []string
	r := &Resolver{
		Env:      Env{Getenv: func(string) string { return "" }},
		LeaseDir: dir,
		Logf:     func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) },
	}
	d := &Domain{
		URI:  "test+unix:///nonexistent/host.xml?socket=" + filepath.Join(dir, "no-sock"),
		Name: "web",
		xml:  `<domain><devices><interface type='network'><mac address='52:54:00:AA:BB:01'/></interface></devices></domain>`,
	}
	got := r.Addresses(context.Background(), Target{Port: 2222, Domain: d})
	if got.Network != TCP || got.Port != 2222 || got.Domain != d {
		t.Errorf("target = %+v, want TCP port 2222 for the domain", got)
	}
	want := []string{
		"127.0.0.2 (lease file " + filepath.Join(dir, "virbr7.status") + ")",
		"fe80::1%virbr7 (lease file " + filepath.Join(dir, "virbr7.status") + ")",
	}
	if fmt.Sprint(got.Addrs) != fmt.Sprint(want) {
		t.Errorf("addresses = %v, want %v", got.Addrs, want)
	}
	all := strings.Join(log, "\n")
	for _, w := range []string{"libvirt addresses: no daemon socket", "skipping " + filepath.Join(dir, "virbr9.status"), "skipping 224.0.0.1"} {
		if !strings.Contains(all, w) {
			t.Errorf("log lacks %q:\n%s", w, all)
		}
	}
}

func TestAddressesNoDomain(t *testing.T) {
	got := (&Resolver{}).Addresses(context.Background(), Target{Network: VSock, CID: 3, Port: 22})
	if got.Network != TCP || len(got.Addrs) != 0 {
		t.Errorf("Addresses without a domain = %+v, want an empty TCP target", got)
	}
}

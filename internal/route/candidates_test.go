package route

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

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
	r := &Road{
		Resolver: lookup.Resolver{Search: libvirturi.Search{
			Env:  libvirturi.Env{Getenv: func(string) string { return "" }},
			Logf: func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) },
		}},
		LeaseDir: dir,
	}
	d := &target.Domain{
		URI:  "test+unix:///nonexistent/host.xml?socket=" + filepath.Join(dir, "no-sock"),
		Name: "web",
		XML:  `<domain><devices><interface type='network'><mac address='52:54:00:AA:BB:01'/></interface></devices></domain>`,
	}
	got := r.Candidates(context.Background(), target.Target{Port: 2222, Domain: d})
	if got.Network != target.TCP || got.Port != 2222 || got.Domain != d {
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
	got := (&Road{}).Candidates(context.Background(), target.Target{Network: target.VSock, CID: 3, Port: 22})
	if got.Network != target.TCP || len(got.Addrs) != 0 {
		t.Errorf("Candidates without a domain = %+v, want an empty TCP target", got)
	}
}

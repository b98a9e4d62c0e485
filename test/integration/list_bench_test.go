//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkList measures `libvirt-ssh-proxy list`, wall time from exec to
// exit, against a private libvirtd with 1,000 running domains (in the
// shared test:///default driver, see DefaultWith), table and JSON:
//
//	go test -tags integration -run '^$' -bench List -benchtime 20x ./test/integration/
//
// The listing costs one ConnectGetAllDomainStats call (every domain with its
// state) plus one DomainGetXMLDesc per domain (the CID), five in flight.
func BenchmarkList(b *testing.B) {
	needHelper(b)
	requireBins(b, "libvirtd")
	const n = 1000
	_, uri := manyDomains(b, n)
	// What is timed must be a full listing: every domain and its CID
	// (test:///default holds its own domain "test" too).
	r := runHelper(b, "list", "--json", "-c", uri)
	if got := strings.Count(r.Stdout, `"cid": `); r.Code != 0 || got != n+1 || strings.Count(r.Stdout, `"cid": null`) != 1 {
		b.Fatalf("list --json: want %d domains, %d with a CID: exit %d, %d domains\n%s", n+1, n, r.Code, got, r.Stderr)
	}
	for _, format := range []string{"table", "json"} {
		b.Run(fmt.Sprintf("domains=%d/%s", n, format), func(b *testing.B) {
			args := []string{"list", "-c", uri}
			if format == "json" {
				args = append(args, "--json")
			}
			benchExec(b, 0, func() Result { return runHelper(b, args...) })
		})
	}
}

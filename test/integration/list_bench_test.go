//go:build integration

package integration

import (
	"fmt"
	"testing"
	"time"
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
	doms := make([]Domain, n)
	for i := range doms {
		doms[i] = Domain{Name: fmt.Sprintf("vm-%04d", i), CID: 1000 + i}
	}
	start := time.Now()
	d := StartLibvirtd(b, HostXML())
	uri := DefaultWith(b, d, doms)
	b.Logf("%d domains created in %v", n, time.Since(start).Round(time.Millisecond))
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

package route

import (
	"context"
	"net/netip"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/leases"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Candidates returns a TCP target for the IP fallback: the IP addresses of
// t's domain, on t's port, in the order to try them. Each source is
// optional and a source that fails is skipped and told to Logf:
//
//  1. libvirt's interface addresses, from its lease and arp sources
//     (lookup.Resolver.InterfaceAddresses);
//  2. the dnsmasq lease files in LeaseDir (leases.Find), matched by the MACs
//     of the domain XML and the .macs files.
//
// Each address comes once, from its first source. Addresses a guest reports
// that mean nothing on the host (loopback, link-local without a zone) are
// skipped. It is called only after vsock failed: none of this is on the
// vsock path. ctx bounds the libvirt calls; the lease files are read even
// after it expired, so that the caller sees ctx's end when it dials.
// The returned Addrs is never nil, so that "looked and found nothing" shows.
func (r *Road) Candidates(ctx context.Context, t target.Target) target.Target {
	out := target.Target{Network: target.TCP, Port: t.Port, Domain: t.Domain, Addrs: []target.Address{}}
	d := t.Domain
	if d == nil {
		return out
	}
	seen := map[netip.Addr]bool{}
	add := func(a target.Address, fromGuest bool) {
		if why := unusable(a.IP, fromGuest); why != "" {
			r.Logf.Printf("skipping %s: %s", a, why)
			return
		}
		if !seen[a.IP] {
			seen[a.IP] = true
			out.Addrs = append(out.Addrs, a)
		}
	}
	api, ok := bounded(ctx, func() []target.Address { return r.InterfaceAddresses(ctx, d) })
	if !ok {
		r.Logf.Printf("libvirt did not list the addresses of %q in time", d.Name)
	}
	for _, a := range api {
		add(a, true)
	}
	dir := r.LeaseDir
	if dir == "" {
		dir = leases.DefaultDir
	}
	var macs []string
	if d.XML != "" {
		var err error
		if macs, err = domainxml.MACsFromXML(d.XML); err != nil {
			r.Logf.Printf("reading the MACs of %q: %v", d.Name, err)
		}
	}
	r.Logf.Printf("reading the lease files in %s for %q (MACs %v)", dir, d.Name, macs)
	found, problems := leases.Find(dir, d.Name, macs, time.Now())
	for _, p := range problems {
		r.Logf.Printf("lease files: %v", p)
	}
	for _, l := range found {
		add(target.Address{IP: l.IP, Source: "lease file " + l.File}, false)
	}
	return out
}

// unusable says why the host cannot dial ip, or "" if it can. fromGuest
// marks what the guest reported about itself (libvirt's sources): its
// loopback is its own, not the host's. dnsmasq never leases a loopback
// address, so one in a lease file was written there on purpose (a --lease-dir
// of hand-made files) and is dialed like any other. A link-local address
// needs the host-side interface as its zone, which only the lease files
// (named after the bridge) tell.
func unusable(ip netip.Addr, fromGuest bool) string {
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsMulticast():
		return "not a unicast address"
	case fromGuest && ip.IsLoopback():
		return "the guest's own loopback"
	case ip.IsLinkLocalUnicast() && ip.Zone() == "":
		return "link-local, and no interface known to reach it through"
	}
	return ""
}

// bounded runs f and returns its result, or gives up when ctx ends first.
func bounded[T any](ctx context.Context, f func() T) (T, bool) {
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}

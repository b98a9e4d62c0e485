package lookup

import (
	"context"
	"net/netip"
	"sync/atomic"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// The sources of DOMAIN_INTERFACE_ADDRESSES, in the order they are used:
// the network's DHCP leases, the host's ARP table. Not the guest agent:
// libvirt refuses it on a read-only connection, the only kind the helper
// opens, and logs the refusal as an error every time.
var apiSources = []struct {
	id   uint32
	name string
}{
	{libvirtrpc.AddrSrcLease, "libvirt lease"},
	{libvirtrpc.AddrSrcARP, "libvirt arp"},
}

// InterfaceAddresses asks libvirt for d's addresses from each source
// (lease, then arp), both in one round trip over a new connection to the
// domain's URI: Resolve's is closed by then, as keeping it would hold an
// open daemon connection through every vsock connect for a fallback that
// rarely comes (reconnecting costs a few tenths of a millisecond,
// BenchmarkIPFallback). It finds the domain again by name: a test driver's
// made-up UUIDs change from one connection to the next. A source that fails
// (a daemon without the network driver) is skipped and told to Logf.
func (r *Resolver) InterfaceAddresses(ctx context.Context, d *target.Domain) []target.Address {
	e, err := libvirturi.EndpointFor(d.URI, r.Env)
	if err != nil {
		r.Logf.Printf("libvirt addresses: %v", err)
		return nil
	}
	var step atomic.Value
	l, closeConn, err := r.open(ctx, e, &step)
	if err != nil {
		r.Logf.Printf("libvirt addresses: %v", err)
		return nil
	}
	defer closeConn()
	dom, err := l.LookupByName(d.Name).Wait()
	if err != nil {
		r.Logf.Printf("libvirt addresses: look up %q again on %s: %v", d.Name, d.URI, err)
		return nil
	}
	replies := make([]*libvirtrpc.Reply[[]libvirtrpc.Interface], len(apiSources))
	for i, src := range apiSources {
		replies[i] = l.InterfaceAddresses(dom, src.id)
	}
	var out []target.Address
	for i, src := range apiSources {
		ifaces, err := replies[i].Wait()
		if err != nil {
			r.Logf.Printf("%s: %v", src.name, err)
			continue
		}
		n := len(out)
		for _, iface := range ifaces {
			for _, a := range iface.Addrs {
				ip, err := netip.ParseAddr(a.Addr)
				if err != nil {
					r.Logf.Printf("%s: interface %s: %q is not an IP address", src.name, iface.Name, a.Addr)
					continue
				}
				out = append(out, target.Address{IP: ip.Unmap(), Source: src.name})
			}
		}
		r.Logf.Printf("%s: %d addresses", src.name, len(out)-n)
	}
	return out
}

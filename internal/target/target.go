// Package target holds what the road from HOST to the socket hands from one
// step to the next: a Target (where to connect), the libvirt Domain it came
// from, and the IP fallback's Addresses. It is a leaf: it imports nothing
// but the standard library's netip, so that the packages that only dial or
// print a target (dial, the command's output) link no libvirt client.
package target

import "net/netip"

// Network names the socket family a Target is reached over.
type Network string

// The networks a Target can name.
const (
	VSock Network = "vsock"
	Unix  Network = "unix"
	TCP   Network = "tcp" // the IP fallback
	// Mux is a hybrid vsock multiplexer (Firecracker, Cloud Hypervisor,
	// vhost-device-vsock): an AF_UNIX socket plus a CONNECT handshake.
	Mux Network = "vsock-mux"
)

// Target is where to connect: a vsock CID and port, a unix socket path, a
// multiplexer's socket path and the guest's vsock port behind it, or TCP
// addresses and a port (the IP fallback).
type Target struct {
	Network Network
	CID     uint32  // VSock
	Port    uint32  // VSock, Mux, TCP
	Path    string  // Unix, Mux
	Domain  *Domain // set when libvirt named the target

	// Addrs are a TCP target's candidates, in the order to try them.
	Addrs []Address
}

// Domain describes the libvirt domain a Target came from.
type Domain struct {
	URI   string // the connection URI it was found on
	Name  string
	UUID  string
	ID    int32
	State string // virsh's word for it: running, paused, shut off, ...

	// XML is the live XML the CID was read from, kept so that the IP
	// fallback reads the MACs without asking libvirt again. No output
	// prints it.
	XML string
}

// Address is one IP address the IP fallback may try, and where it was found.
type Address struct {
	IP     netip.Addr // link-local IPv6 only with a zone
	Source string     // e.g. "libvirt lease", "lease file /var/lib/libvirt/dnsmasq/virbr0.status"
}

// String is the address and where it was found, as -v and doctor print it.
func (a Address) String() string { return a.IP.String() + " (" + a.Source + ")" }

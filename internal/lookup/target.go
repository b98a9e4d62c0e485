// Package lookup turns a parsed host name into a Target: where to connect.
// It is the only package that talks to libvirt.
package lookup

// Network names the socket family a Target is reached over.
type Network string

// The networks a Target can name.
const (
	VSock Network = "vsock"
	Unix  Network = "unix"
	// Mux is a hybrid vsock multiplexer (Firecracker, Cloud Hypervisor,
	// vhost-device-vsock): an AF_UNIX socket plus a CONNECT handshake.
	Mux Network = "vsock-mux"
)

// Target is where to connect: a vsock CID and port, a unix socket path, or a
// multiplexer's socket path and the guest's vsock port behind it.
type Target struct {
	Network Network
	CID     uint32  // VSock
	Port    uint32  // VSock, Mux
	Path    string  // Unix, Mux
	Domain  *Domain // set when libvirt named the target
}

// Domain describes the libvirt domain a Target came from.
type Domain struct {
	URI   string // the connection URI it was found on
	Name  string
	UUID  string
	ID    int32
	State string // only when asked for (Resolver.State)
}

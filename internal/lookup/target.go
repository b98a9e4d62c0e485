// Package lookup turns a parsed host name into a Target: where to connect.
// It is the only package that talks to libvirt.
package lookup

// Network names the socket family a Target is reached over.
type Network string

// The networks a Target can name.
const (
	VSock Network = "vsock"
	Unix  Network = "unix"
)

// Target is where to connect: a vsock CID and port, or a unix socket path.
type Target struct {
	Network Network
	CID     uint32  // VSock
	Port    uint32  // VSock
	Path    string  // Unix
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

package libvirtrpc

import (
	"fmt"
	"strconv"
)

// The procedures the helper calls (remote_protocol.x, REMOTE_PROC_*).
const (
	procConnectOpen              = 1
	procConnectClose             = 2
	procDomainGetXMLDesc         = 14
	procDomainLookupByID         = 22
	procDomainLookupByName       = 23
	procDomainLookupByUUID       = 24
	procAuthList                 = 66
	procAuthPolkit               = 70
	procDomainGetState           = 212
	procConnectListAllDomains    = 273
	procConnectGetAllDomainStats = 344
	procDomainInterfaceAddresses = 353
)

// procName names a procedure as libvirt's REMOTE_PROC_* does, for traces
// and errors. A switch, not a map: nothing to build at start-up.
func procName(p uint32) string {
	switch p {
	case procConnectOpen:
		return "CONNECT_OPEN"
	case procConnectClose:
		return "CONNECT_CLOSE"
	case procDomainGetXMLDesc:
		return "DOMAIN_GET_XML_DESC"
	case procDomainLookupByID:
		return "DOMAIN_LOOKUP_BY_ID"
	case procDomainLookupByName:
		return "DOMAIN_LOOKUP_BY_NAME"
	case procDomainLookupByUUID:
		return "DOMAIN_LOOKUP_BY_UUID"
	case procAuthList:
		return "AUTH_LIST"
	case procAuthPolkit:
		return "AUTH_POLKIT"
	case procDomainGetState:
		return "DOMAIN_GET_STATE"
	case procConnectListAllDomains:
		return "CONNECT_LIST_ALL_DOMAINS"
	case procConnectGetAllDomainStats:
		return "CONNECT_GET_ALL_DOMAIN_STATS"
	case procDomainInterfaceAddresses:
		return "DOMAIN_INTERFACE_ADDRESSES"
	}
	return "procedure " + strconv.FormatUint(uint64(p), 10)
}

// UUID is a domain's UUID, as libvirt sends it: 16 raw bytes.
type UUID [16]byte

// String formats u canonically: lower-case 8-4-4-4-12 hex digits.
func (u UUID) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Domain names a domain as libvirt does on the wire (remote_nonnull_domain).
// ID is -1 for an inactive domain. Calls about a domain find it by UUID.
type Domain struct {
	Name string
	UUID UUID
	ID   int32
}

// AuthType is a way of authenticating that the daemon asks for
// (remote_auth_type).
type AuthType int32

// The auth types.
const (
	AuthNone   AuthType = 0
	AuthSASL   AuthType = 1
	AuthPolkit AuthType = 2
)

// String names the auth type as libvirtd.conf's auth_unix_ro does (a
// number when it has no name), for the error of a daemon that asks for
// one the helper does not speak.
func (a AuthType) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthSASL:
		return "sasl"
	case AuthPolkit:
		return "polkit"
	}
	return strconv.Itoa(int(a))
}

// AuthList asks which authentication the daemon wants before CONNECT_OPEN.
// For a root client on a polkit socket the daemon takes this call itself as
// the authentication and answers AuthNone.
func (c *Conn) AuthList() *Reply[[]AuthType] {
	return send(c, procAuthList, nil, decodeAuthList)
}

func decodeAuthList(d *Decoder) []AuthType {
	types := make([]AuthType, d.Count(4))
	for i := range types {
		types[i] = AuthType(d.Int32())
	}
	return types
}

// AuthPolkit asks the daemon to check the caller with polkit.
func (c *Conn) AuthPolkit() *Reply[struct{}] {
	return send(c, procAuthPolkit, nil, func(d *Decoder) struct{} {
		d.Int32() // complete: always 1 from a daemon that answered
		return struct{}{}
	})
}

// OpenFlags are CONNECT_OPEN's flags (virConnectFlags).
type OpenFlags uint32

// ReadOnly opens a read-only connection (VIR_CONNECT_RO), as libvirt's own
// ssh helper does.
const ReadOnly OpenFlags = 1

// ConnectOpen opens uri on the daemon (the URI's driver part, such as
// qemu:///system; the transport and host are the client's business).
func (c *Conn) ConnectOpen(uri string, flags OpenFlags) *Reply[struct{}] {
	var e Encoder
	e.OptString(uri)
	e.Uint32(uint32(flags))
	return send[struct{}](c, procConnectOpen, e.Bytes(), nil)
}

// ConnectClose closes what ConnectOpen opened. The daemon keeps the socket.
func (c *Conn) ConnectClose() *Reply[struct{}] {
	return send[struct{}](c, procConnectClose, nil, nil)
}

func decodeDomain(d *Decoder) Domain { return d.Domain() }

// LookupByName finds a domain by name.
func (c *Conn) LookupByName(name string) *Reply[Domain] {
	var e Encoder
	e.Str(name)
	return send(c, procDomainLookupByName, e.Bytes(), decodeDomain)
}

// LookupByUUID finds a domain by UUID.
func (c *Conn) LookupByUUID(u UUID) *Reply[Domain] {
	return send(c, procDomainLookupByUUID, u[:], decodeDomain)
}

// LookupByID finds a running domain by ID.
func (c *Conn) LookupByID(id int32) *Reply[Domain] {
	var e Encoder
	e.Int32(id)
	return send(c, procDomainLookupByID, e.Bytes(), decodeDomain)
}

// State is a domain's state and the reason for it (virDomainState and the
// state's own reason enum).
type State struct {
	State, Reason int32
}

// GetState asks for a domain's state.
func (c *Conn) GetState(dom Domain) *Reply[State] {
	var e Encoder
	e.Domain(dom)
	e.Uint32(0)
	return send(c, procDomainGetState, e.Bytes(), decodeState)
}

func decodeState(d *Decoder) State { return State{d.Int32(), d.Int32()} }

// GetXMLDesc returns a domain's XML: the live XML of an active domain, its
// configuration otherwise.
func (c *Conn) GetXMLDesc(dom Domain, flags uint32) *Reply[string] {
	var e Encoder
	e.Domain(dom)
	e.Uint32(flags)
	return send(c, procDomainGetXMLDesc, e.Bytes(), (*Decoder).Str)
}

// ListFlags select domains for ListAllDomains (virConnectListAllDomainsFlags).
type ListFlags uint32

// The domain selections the helper uses.
const (
	ListActive   ListFlags = 1
	ListInactive ListFlags = 2
)

// ListAllDomains lists the domains that flags select.
func (c *Conn) ListAllDomains(flags ListFlags) *Reply[[]Domain] {
	var e Encoder
	e.Int32(1) // need_results
	e.Uint32(uint32(flags))
	return send(c, procConnectListAllDomains, e.Bytes(), decodeDomains)
}

func decodeDomains(d *Decoder) []Domain {
	doms := make([]Domain, d.Count(domainMinSize))
	for i := range doms {
		doms[i] = d.Domain()
	}
	d.Uint32() // ret: the count again
	return doms
}

// StatsState asks GetAllDomainStats for the state group
// (VIR_DOMAIN_STATS_STATE): "state.state" and "state.reason".
const StatsState = 1

// DomainStats is one domain's record from GetAllDomainStats.
type DomainStats struct {
	Domain Domain
	Params []TypedParam
}

// TypedParam is a named value of one of libvirt's typed-parameter types.
// Value is an int32, uint32, int64, uint64, float64, bool or string.
type TypedParam struct {
	Field string
	Value any
}

// GetAllDomainStats returns the stats groups in stats for every domain.
func (c *Conn) GetAllDomainStats(stats, flags uint32) *Reply[[]DomainStats] {
	var e Encoder
	e.Uint32(0) // doms: none named, so all
	e.Uint32(stats)
	e.Uint32(flags)
	return send(c, procConnectGetAllDomainStats, e.Bytes(), decodeStats)
}

func decodeStats(d *Decoder) []DomainStats {
	recs := make([]DomainStats, d.Count(domainMinSize+4))
	for i := range recs {
		recs[i].Domain = d.Domain()
		recs[i].Params = make([]TypedParam, d.Count(4+4+4))
		for j := range recs[i].Params {
			recs[i].Params[j] = typedParam(d)
		}
	}
	return recs
}

// typedParam reads a remote_typed_param: a name and a typed union.
func typedParam(d *Decoder) TypedParam {
	p := TypedParam{Field: d.Str()}
	switch t := d.Int32(); t {
	case 1:
		p.Value = d.Int32()
	case 2:
		p.Value = d.Uint32()
	case 3:
		p.Value = int64(d.Uint64())
	case 4:
		p.Value = d.Uint64()
	case 5:
		p.Value = d.float64()
	case 6:
		p.Value = d.Int32() != 0
	case 7:
		p.Value = d.Str()
	default:
		d.fail(fmt.Errorf("typed parameter %q has unknown type %d", p.Field, t))
	}
	return p
}

// Interface is one network interface from InterfaceAddresses.
type Interface struct {
	Name   string
	HWAddr string // empty when libvirt does not know it
	Addrs  []IPAddr
}

// IPAddr is one address of an Interface. Type is 0 for IPv4, 1 for IPv6.
type IPAddr struct {
	Type   int32
	Addr   string
	Prefix uint32
}

// The sources InterfaceAddresses asks (virDomainInterfaceAddressesSource).
// Not 1, the guest agent: libvirt refuses it on the read-only connections
// the helper opens.
const (
	AddrSrcLease = 0 // the DHCP leases of libvirt's networks
	AddrSrcARP   = 2 // the host's ARP table
)

// InterfaceAddresses asks for a domain's interface addresses from source,
// one of the AddrSrc values.
func (c *Conn) InterfaceAddresses(dom Domain, source uint32) *Reply[[]Interface] {
	var e Encoder
	e.Domain(dom)
	e.Uint32(source)
	e.Uint32(0)
	return send(c, procDomainInterfaceAddresses, e.Bytes(), decodeInterfaces)
}

func decodeInterfaces(d *Decoder) []Interface {
	ifaces := make([]Interface, d.Count(4+4+4))
	for i := range ifaces {
		ifaces[i].Name = d.Str()
		ifaces[i].HWAddr, _ = d.OptString()
		ifaces[i].Addrs = make([]IPAddr, d.Count(4+4+4))
		for j := range ifaces[i].Addrs {
			ifaces[i].Addrs[j] = IPAddr{d.Int32(), d.Str(), d.Uint32()}
		}
	}
	return ifaces
}

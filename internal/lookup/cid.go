package lookup

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/beevik/etree"
)

// Errors CIDFromXML returns for well-formed XML that names no usable CID.
var (
	ErrNoVsock = errors.New("no vsock device")
	ErrNoCID   = errors.New("vsock device has no CID address")
)

// CIDFromXML returns the vsock CID in a domain's XML: the address of the
// first /domain/devices/vsock/cid, as libvirt's own helper reads it. With
// auto='yes' the address exists only in the live XML of a running domain.
func CIDFromXML(xml string) (uint32, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		return 0, fmt.Errorf("parse domain XML: %w", err)
	}
	if doc.FindElement("/domain") == nil {
		return 0, errors.New("parse domain XML: no <domain> root element")
	}
	vsock := doc.FindElement("/domain/devices/vsock")
	if vsock == nil {
		return 0, ErrNoVsock
	}
	cid := vsock.FindElement("cid")
	if cid == nil {
		return 0, ErrNoCID
	}
	addr := cid.SelectAttr("address")
	if addr == nil {
		return 0, ErrNoCID
	}
	n, err := strconv.ParseUint(addr.Value, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("parse domain XML: vsock cid address %q is not a CID", addr.Value)
	}
	return uint32(n), nil
}

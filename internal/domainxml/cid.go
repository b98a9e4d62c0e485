package domainxml

import (
	"errors"
	"fmt"
	"strconv"
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
	var (
		domain, haveCID bool
		vsock           = -1 // id of the first /domain/devices/vsock
		addr            string
		haveAddr        bool
	)
	err := scanXML(xml, func(path []string, ids []int, attrs []xmlAttr) {
		switch {
		case pathIs(path, "domain"):
			domain = true
		case vsock < 0 && pathIs(path, "domain", "devices", "vsock"):
			vsock = ids[2]
		case !haveCID && vsock >= 0 && len(path) == 4 && ids[2] == vsock && path[3] == "cid":
			haveCID = true
			addr, haveAddr = attr(attrs, "address")
		}
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("parse domain XML: %w", err)
	case !domain:
		return 0, errors.New("parse domain XML: no <domain> root element")
	case vsock < 0:
		return 0, ErrNoVsock
	case !haveAddr:
		return 0, ErrNoCID
	}
	n, err := strconv.ParseUint(addr, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("parse domain XML: vsock cid address %q is not a CID", addr)
	}
	return uint32(n), nil
}

package domainxml

import "fmt"

// MACsFromXML returns the MAC addresses of a domain's network interfaces,
// /domain/devices/interface/mac/@address, as libvirt writes them.
func MACsFromXML(xml string) ([]string, error) {
	var macs []string
	err := scanXML(xml, func(path []string, _ []int, attrs []xmlAttr) {
		if pathIs(path, "domain", "devices", "interface", "mac") {
			if a, ok := attr(attrs, "address"); ok {
				macs = append(macs, a)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("parse domain XML: %w", err)
	}
	return macs, nil
}

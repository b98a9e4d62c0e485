package domainxml

import (
	"errors"
	"strings"
	"testing"
)

func TestCIDFromXML(t *testing.T) {
	dom := func(devices string) string {
		return "<domain type='kvm'><name>vm</name><devices>" + devices + "</devices></domain>"
	}
	tests := []struct {
		name    string
		xml     string
		want    uint32
		wantErr error  // sentinel, if any
		errText string // substring, for other errors
	}{
		{"static", dom(`<vsock model='virtio'><cid auto='no' address='42'/></vsock>`), 42, nil, ""},
		{"auto assigned", dom(`<vsock model='virtio'><cid auto='yes' address='3'/><address type='pci'/></vsock>`), 3, nil, ""},
		{"first of two", dom(`<vsock><cid address='5'/></vsock><vsock><cid address='6'/></vsock>`), 5, nil, ""},
		{"max", dom(`<vsock><cid address='4294967294'/></vsock>`), 4294967294, nil, ""},
		{"no devices", "<domain><name>vm</name></domain>", 0, ErrNoVsock, ""},
		{"no vsock", dom(`<disk/><interface type='network'/>`), 0, ErrNoVsock, ""},
		{"vsock elsewhere", "<domain><vsock><cid address='9'/></vsock><devices/></domain>", 0, ErrNoVsock, ""},
		{"auto, not running", dom(`<vsock model='virtio'><cid auto='yes'/></vsock>`), 0, ErrNoCID, ""},
		{"no cid element", dom(`<vsock model='virtio'/>`), 0, ErrNoCID, ""},
		{"empty address", dom(`<vsock><cid address=''/></vsock>`), 0, nil, "not a CID"},
		{"hex address", dom(`<vsock><cid address='0x2a'/></vsock>`), 0, nil, "not a CID"},
		{"negative", dom(`<vsock><cid address='-3'/></vsock>`), 0, nil, "not a CID"},
		{"CID_ANY", dom(`<vsock><cid address='4294967295'/></vsock>`), 0, nil, "not a CID"},
		{"too big", dom(`<vsock><cid address='4294967296'/></vsock>`), 0, nil, "not a CID"},
		{"not XML", "this is not xml <", 0, nil, "parse domain XML"},
		{"empty", "", 0, nil, "parse domain XML"},
		{"wrong root", "<network><devices><vsock><cid address='3'/></vsock></devices></network>", 0, nil, "no <domain>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CIDFromXML(tt.xml)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.errText)
				}
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			case got != tt.want:
				t.Fatalf("CID = %d, want %d", got, tt.want)
			}
		})
	}
}

func FuzzCIDFromXML(f *testing.F) {
	f.Add("<domain><devices><vsock><cid auto='no' address='42'/></vsock></devices></domain>")
	f.Add("<domain><devices><vsock><cid auto='yes'/></vsock></devices></domain>")
	f.Add("<domain/>")
	f.Add("<")
	f.Fuzz(func(t *testing.T, xml string) {
		cid, err := CIDFromXML(xml)
		if err == nil && cid == 1<<32-1 {
			t.Fatalf("CIDFromXML(%q) = VMADDR_CID_ANY", xml)
		}
	})
}

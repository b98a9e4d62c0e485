package domainxml

import (
	"reflect"
	"strings"
	"testing"
)

func TestMACsFromXML(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    []string
		errText string
	}{
		{"two interfaces", `<domain><devices>
			<interface type='network'><mac address='52:54:00:aa:bb:01'/><source network='default'/></interface>
			<interface type='bridge'><mac address='52:54:00:AA:BB:02'/></interface>
			<vsock model='virtio'><cid auto='no' address='3'/></vsock></devices></domain>`,
			[]string{"52:54:00:aa:bb:01", "52:54:00:AA:BB:02"}, ""},
		{"interface without mac", `<domain><devices><interface type='user'/></devices></domain>`, nil, ""},
		{"mac without address", `<domain><devices><interface><mac/></interface></devices></domain>`, nil, ""},
		{"mac outside devices", `<domain><interface><mac address='52:54:00:aa:bb:01'/></interface></domain>`, nil, ""},
		{"no devices", `<domain/>`, nil, ""},
		{"not XML", `<domain`, nil, "parse domain XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MACsFromXML(tt.xml)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MACsFromXML = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzMACsFromXML(f *testing.F) {
	f.Add("<domain><devices><interface><mac address='52:54:00:aa:bb:01'/></interface></devices></domain>")
	f.Add("<domain/>")
	f.Add("<")
	f.Fuzz(func(t *testing.T, xml string) {
		macs, err := MACsFromXML(xml)
		if err != nil && macs != nil {
			t.Fatalf("MACsFromXML(%q) = %q with error %v", xml, macs, err)
		}
	})
}

package listing

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

func TestListOutput(t *testing.T) {
	ls := &lookup.Listing{Entries: []lookup.Entry{
		{Domain: target.Domain{URI: libvirturi.SystemURI, Name: "web01", UUID: "00000000-0000-4000-8000-000000000001", ID: 3, State: "running"}, CID: 42},
		{Domain: target.Domain{URI: libvirturi.SystemURI, Name: "my vm", UUID: "00000000-0000-4000-8000-000000000002", ID: -1, State: "shut off"}, VSockErr: domainxml.ErrNoVsock},
		{Domain: target.Domain{URI: libvirturi.SessionURI, Name: "auto", UUID: "00000000-0000-4000-8000-000000000003", ID: 1, State: "paused"}, VSockErr: domainxml.ErrNoCID},
	}}
	r := &lookup.Resolver{Search: libvirturi.Search{Euid: 1000}} // the default URIs
	rows := Rows(ls, r, nil)
	var table strings.Builder
	if err := Write(&table, rows, false); err != nil {
		t.Fatal(err)
	}
	want := `NAME     STATE     CID         SSH                                        PLAIN  URI
web01    running   42          qemu/web01                                 web01  qemu:///system
"my vm"  shut off  none        qemu/00000000-0000-4000-8000-000000000002  -      qemu:///system
auto     paused    no address  qemu/auto                                  -      qemu:///session
`
	if table.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", table.String(), want)
	}
	var js strings.Builder
	if err := Write(&js, rows, true); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(js.String()), &got); err != nil {
		t.Fatalf("list --json is not JSON: %v\n%s", err, js.String())
	}
	if len(got) != 3 || got[0]["cid"] != 42.0 || got[0]["id"] != 3.0 || got[0]["ssh"] != "qemu/web01" || got[0]["scp"] != "qemu%web01" || got[0]["plain"] != "web01" || got[1]["plain"] != nil ||
		got[1]["cid"] != nil || got[1]["id"] != nil || got[1]["vsock"] != "no vsock device" || got[2]["vsock"] != "no CID address" {
		t.Errorf("list --json:\n%s", js.String())
	}
}

// TestCell: list's table quotes what printable quotes, and an empty name
// or one with a blank, which would split or hide a column.
func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web01", "web01"},
		{"café", "café"},
		{"db:1", "db:1"},
		{"", `""`},
		{"my vm", `"my vm"`},
		{"a\tb", `"a\tb"`},
		{"a\u00a0b", `"a\u00a0b"`},
		{"a\u202eb", `"a\u202eb"`},
		{"a\xffb", `"a\xffb"`},
	}
	for _, tt := range tests {
		if got := cell(tt.in); got != tt.want {
			t.Errorf("cell(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

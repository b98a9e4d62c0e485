package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

func TestParseArgsCommands(t *testing.T) {
	tests := []struct {
		argv []string
		want options
	}{
		{[]string{"list"}, options{command: "list", args: []string{}, timeout: defaultTimeout}},
		{[]string{"list", "--json", "-c", "a:///x", "-c", "b:///y"}, options{command: "list", args: []string{}, timeout: defaultTimeout, json: true, connect: []string{"a:///x", "b:///y"}}},
		{[]string{"doctor", "qemu/vm"}, options{command: "doctor", args: []string{"qemu/vm"}, timeout: defaultTimeout}},
		{[]string{"doctor", "-F", "cfg", "--system-config=sys", "web01", "2222"}, options{command: "doctor", args: []string{"web01", "2222"}, timeout: defaultTimeout, sshConfig: "cfg", systemConfig: "sys"}},
		{[]string{"--ssh-config", "cfg", "doctor", "web01"}, options{command: "doctor", args: []string{"web01"}, timeout: defaultTimeout, sshConfig: "cfg"}},
		{[]string{"ssh-config"}, options{command: "ssh-config", args: []string{}, timeout: defaultTimeout}},
		{[]string{"ssh-config", "qemu/a", "qemu%b", "qemu:session/c"}, options{command: "ssh-config", args: []string{"qemu/a", "qemu%b", "qemu:session/c"}, timeout: defaultTimeout}},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.argv)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.argv, err)
			continue
		}
		if got.args == nil {
			got.args = []string{}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tt.argv, got, tt.want)
		}
	}
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"list", "qemu/vm"}, "list takes no arguments"},
		{[]string{"doctor"}, "doctor takes HOST"},
		{[]string{"doctor", "a", "22", "x"}, "doctor takes HOST"},
		{[]string{"doctor", "-F"}, "needs a value"},
		{[]string{"-F", "cfg", "resolve", "qemu/vm"}, "go with doctor"},
		{[]string{"--system-config", "s", "qemu/vm", "22"}, "go with doctor"},
	} {
		if _, err := parseArgs(tt.argv); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q) error = %v, want %q", tt.argv, err, tt.want)
		}
	}
}

// parseHelper reads back exactly the ProxyCommands ssh-config and the
// drop-in write.
func TestParseHelper(t *testing.T) {
	h, err := parseHelper([]string{"--connect", "test:///x", "qemu/u", "22"})
	if err != nil || h.Host != "qemu/u" || h.Port != "22" || !reflect.DeepEqual(h.URIs, []string{"test:///x"}) {
		t.Errorf("parseHelper = %+v, %v", h, err)
	}
	for _, bad := range [][]string{{"resolve", "qemu/u"}, {"qemu/u"}, {"--help"}, {"--bogus", "a", "1"}} {
		if _, err := parseHelper(bad); err == nil {
			t.Errorf("parseHelper(%q) succeeded", bad)
		}
	}
}

func TestListOutput(t *testing.T) {
	ls := &lookup.Listing{Entries: []lookup.Entry{
		{Domain: target.Domain{URI: libvirturi.SystemURI, Name: "web01", UUID: "00000000-0000-4000-8000-000000000001", ID: 3, State: "running"}, CID: 42},
		{Domain: target.Domain{URI: libvirturi.SystemURI, Name: "my vm", UUID: "00000000-0000-4000-8000-000000000002", ID: -1, State: "shut off"}, VSockErr: domainxml.ErrNoVsock},
		{Domain: target.Domain{URI: libvirturi.SessionURI, Name: "auto", UUID: "00000000-0000-4000-8000-000000000003", ID: 1, State: "paused"}, VSockErr: domainxml.ErrNoCID},
	}}
	uris := func(s host.Scope) []string { return libvirturi.DefaultURIs(s, 1000) }
	var rows []listed
	for i := range ls.Entries {
		rows = append(rows, listEntry(ls, &ls.Entries[i], uris, nil))
	}
	var table strings.Builder
	if err := printListTable(&table, rows); err != nil {
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
	if err := printListJSON(&js, rows); err != nil {
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

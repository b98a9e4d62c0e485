package resolution

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// TestWrite: resolve's lines name each field once, in a column, and its
// JSON leaves out what does not apply to the target (no CID for a TCP
// target, no domain for a vsock/ one), and lists the fallback's
// candidates only when the fallback looked.
func TestWrite(t *testing.T) {
	dom := &target.Domain{URI: "qemu:///system", Name: "web01", UUID: "00000000-0000-4000-8000-000000000001", ID: 3, State: "running"}
	ip := target.Address{IP: netip.MustParseAddr("192.0.2.7"), Source: "libvirt lease"}
	tests := []struct {
		name    string
		t       target.Target
		lines   string
		jsonHas []string
		jsonNot []string
	}{
		{"vsock domain", target.Target{Network: target.VSock, CID: 42, Port: 22, Domain: dom, Addrs: []target.Address{ip}},
			"host:     h\nuri:      qemu:///system\nname:     web01\nuuid:     00000000-0000-4000-8000-000000000001\nid:       3\nstate:    running\nvsock:    cid 42 port 22\naddress:  192.0.2.7 (libvirt lease)\n",
			[]string{`"cid": 42`, `"name": "web01"`, `"address": "192.0.2.7"`, `"source": "libvirt lease"`}, []string{`"path"`}},
		{"vsock form", target.Target{Network: target.VSock, CID: 3, Port: 2222},
			"host:   h\nvsock:  cid 3 port 2222\n",
			[]string{`"network": "vsock"`, `"port": 2222`}, []string{`"name"`, `"addresses"`, `"id"`}},
		{"unix", target.Target{Network: target.Unix, Path: "/run/s"},
			"host:  h\nunix:  /run/s\n",
			[]string{`"path": "/run/s"`}, []string{`"port"`, `"cid"`}},
		{"tcp fallback", target.Target{Network: target.TCP, Port: 22, Domain: dom, Addrs: []target.Address{}},
			"host:   h\nuri:    qemu:///system\nname:   web01\nuuid:   00000000-0000-4000-8000-000000000001\nid:     3\nstate:  running\ntcp:    port 22 (no usable vsock: the IP fallback)\n",
			[]string{`"network": "tcp"`, `"addresses": []`}, []string{`"cid"`}},
	}
	for _, tt := range tests {
		var lines, js strings.Builder
		if err := Write(&lines, "h", tt.t, false); err != nil || lines.String() != tt.lines {
			t.Errorf("%s: lines %q, %v; want %q", tt.name, lines.String(), err, tt.lines)
		}
		if err := Write(&js, "h", tt.t, true); err != nil || !json.Valid([]byte(js.String())) {
			t.Fatalf("%s: JSON %q, %v", tt.name, js.String(), err)
		}
		for _, want := range tt.jsonHas {
			if !strings.Contains(js.String(), want) {
				t.Errorf("%s: JSON lacks %s:\n%s", tt.name, want, js.String())
			}
		}
		for _, bad := range tt.jsonNot {
			if strings.Contains(js.String(), bad) {
				t.Errorf("%s: JSON has %s:\n%s", tt.name, bad, js.String())
			}
		}
	}
}

// TestWriteFailure: a failure is an object with the message, the class's
// name and its exit code; an error with no class is internal, 1.
func TestWriteFailure(t *testing.T) {
	tests := []struct {
		err   error
		class string
		exit  int
	}{
		{failure.New(failure.NotRunning, "domain %q is not running", "web01"), "not-running", 5},
		{errors.New("boom"), "internal", 1},
	}
	for _, tt := range tests {
		var b strings.Builder
		WriteFailure(&b, "qemu/web01", tt.err)
		var f Failed
		if err := json.Unmarshal([]byte(b.String()), &f); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", tt.err, err, b.String())
		}
		if f != (Failed{Host: "qemu/web01", Error: tt.err.Error(), Class: tt.class, Exit: tt.exit}) {
			t.Errorf("%v: %+v", tt.err, f)
		}
	}
}

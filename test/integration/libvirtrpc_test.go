//go:build integration

package integration

import (
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
)

// rpcDomains is the host file TestLibvirtRPC's daemon serves.
var rpcDomains = []Domain{
	{Name: "vm", UUID: vmUUID, CID: 42},
	{Name: "web-01", UUID: webUUID, CID: 1234},
	{Name: "stopped", UUID: stopUUID, CID: 77, Stopped: true},
}

// TestLibvirtRPC: every call the helper makes, against a real libvirtd
// (test driver), with the answers checked against the host file.
func TestLibvirtRPC(t *testing.T) {
	requireBins(t, "libvirtd")
	d := StartLibvirtd(t, HostXML(rpcDomains...))
	l := OpenURI(t, d.Sock, "test://"+d.HostXML, libvirtrpc.ReadOnly)
	vm, err := l.LookupByName("vm").Wait()
	if err != nil || vm.Name != "vm" || vm.UUID.String() != vmUUID || vm.ID < 1 {
		t.Fatalf("LookupByName(vm) = %+v, %v", vm, err)
	}
	u, _ := lookup.ParseUUID(webUUID)
	tests := []struct {
		name string
		call func() (any, error)
		want func(v any) bool
	}{
		{"lookup by UUID", func() (any, error) { return l.LookupByUUID(u).Wait() },
			func(v any) bool { return v.(libvirtrpc.Domain).Name == "web-01" }},
		{"lookup by ID", func() (any, error) { return l.LookupByID(vm.ID).Wait() },
			func(v any) bool { return v.(libvirtrpc.Domain) == vm }},
		{"state", func() (any, error) { return l.GetState(vm).Wait() },
			func(v any) bool { return v.(libvirtrpc.State).State == 1 }},
		{"XML", func() (any, error) { return l.GetXMLDesc(vm, 0).Wait() },
			func(v any) bool { return strings.Contains(v.(string), "address='42'") }},
		{"list all", func() (any, error) { return l.ListAllDomains(libvirtrpc.ListActive | libvirtrpc.ListInactive).Wait() },
			func(v any) bool {
				var names []string
				for _, d := range v.([]libvirtrpc.Domain) {
					names = append(names, d.Name)
				}
				slices.Sort(names)
				return slices.Equal(names, []string{"stopped", "vm", "web-01"})
			}},
		{"stats", func() (any, error) { return l.GetAllDomainStats(libvirtrpc.StatsState, 0).Wait() },
			func(v any) bool {
				states := map[string]any{}
				for _, s := range v.([]libvirtrpc.DomainStats) {
					for _, p := range s.Params {
						if p.Field == "state.state" {
							states[s.Domain.Name] = p.Value
						}
					}
				}
				return states["vm"] == int32(1) && states["stopped"] == int32(5) && len(states) == 3
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.call()
			if err != nil || !tt.want(v) {
				t.Fatalf("%+v, %v", v, err)
			}
		})
	}
	t.Run("no such domain", func(t *testing.T) {
		_, err := l.LookupByName("nosuch").Wait()
		if !libvirtrpc.HasCode(err, libvirtrpc.CodeNoDomain) || !strings.Contains(err.Error(), "Domain not found") {
			t.Fatalf("%#v", err)
		}
	})
	t.Run("interface addresses (the test driver makes them up)", func(t *testing.T) {
		// test:///default has the network "default" the NIC is on.
		DefaultWith(t, d, []Domain{{Name: "rpc-nic", CID: 4500, NICs: []NIC{{"52:54:00:1f:20:01", "default"}}}})
		l := OpenDefault(t, d.Sock)
		dom, err := l.LookupByName("rpc-nic").Wait()
		if err != nil {
			t.Fatal(err)
		}
		ifaces, err := l.InterfaceAddresses(dom, libvirtrpc.AddrSrcLease).Wait()
		if err != nil || len(ifaces) != 1 || ifaces[0].HWAddr != "52:54:00:1f:20:01" || len(ifaces[0].Addrs) == 0 || ifaces[0].Addrs[0].Addr == "" {
			t.Fatalf("%+v, %v", ifaces, err)
		}
	})
	t.Run("calls in flight", func(t *testing.T) {
		var replies []*libvirtrpc.Reply[libvirtrpc.Domain]
		for range 3 {
			for _, n := range []string{"vm", "web-01", "stopped"} {
				replies = append(replies, l.LookupByName(n))
			}
		}
		for i, r := range replies {
			if got, err := r.Wait(); err != nil || got.Name != []string{"vm", "web-01", "stopped"}[i%3] {
				t.Errorf("reply %d: %+v, %v", i, got, err)
			}
		}
	})
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := l.LookupByName("vm").Wait(); err == nil {
		t.Fatal("a call after Close succeeded")
	}
}

// TestLibvirtRPCReadOnly: a connection opened with ReadOnly is read-only
// even on the read-write socket, and the helper opens every connection so
// (libvirt's helper sends VIR_CONNECT_RO too). The daemon's log shows no
// error from the helper's calls: none runs out of order, none is cut short.
func TestLibvirtRPCReadOnly(t *testing.T) {
	requireBins(t, "libvirtd")
	d := StartLibvirtd(t, HostXML(rpcDomains...))
	l := OpenURI(t, d.RWSock, "test://"+d.HostXML, libvirtrpc.ReadOnly)
	if err := CreateDomain(l, DomainXML(Domain{Name: "new", CID: 9})); err == nil || !strings.Contains(err.Error(), "read only") {
		t.Fatalf("creating a domain on a read-only connection: %v", err)
	}

	var mu sync.Mutex
	var (
		flags []uint32
		procs []uint32 // of the last connection
	)
	sock := Relay(t, shortTempDir(t), "record-sock", d.RWSock, func(msg []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		proc := binary.BigEndian.Uint32(msg[8:12])
		if proc == procConnectOpen { // the flags are the last word
			flags = append(flags, binary.BigEndian.Uint32(msg[len(msg)-4:]))
		}
		if proc == procAuthList {
			procs = nil
		}
		procs = append(procs, proc)
		return msg
	})
	before, err := os.ReadFile(d.Dir + "/libvirtd.log")
	if err != nil {
		t.Fatal(err)
	}
	uri := URIFor(d.HostXML, sock)
	expectExit(t, runHelper(t, "-c", uri, "resolve", "qemu/vm"), 0)
	expectExit(t, runHelper(t, "-c", uri, "list"), 0)
	expectExit(t, runHelper(t, "-c", uri, "qemu/web-01", "22"), 11, "no VM holds vsock CID 1234")
	mu.Lock()
	defer mu.Unlock()
	if len(flags) < 3 || slices.ContainsFunc(flags, func(f uint32) bool { return f != 1 }) {
		t.Errorf("CONNECT_OPEN flags %v, want 1 (read-only) in each", flags)
	}
	// The ProxyCommand's calls: five round trips, state and XML together
	// (the order of those two on the wire is the client's).
	want := []uint32{procAuthList, procConnectOpen, procDomainLookupByName, procDomainGetState, procDomainGetXMLDesc, procConnectClose}
	if !slices.Equal(procs, want) {
		t.Errorf("the ProxyCommand's libvirt calls: %v, want %v", procs, want)
	}
	log, err := os.ReadFile(d.Dir + "/libvirtd.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(log[len(before):]), "\n") {
		if strings.Contains(line, "error :") {
			t.Errorf("the daemon logged an error while the helper ran: %s", line)
		}
	}
}

// BenchmarkLibvirtCalls: the helper's libvirt calls against a private
// libvirtd (test:///default with 10 domains, read-only socket): what a
// connection costs (connect, AUTH_LIST, CONNECT_OPEN, CONNECT_CLOSE: three
// round trips), what one call costs, and what sending the state and XML
// calls together saves over one after the other.
//
//	go test -tags integration -run '^$' -bench LibvirtCalls ./test/integration/
func BenchmarkLibvirtCalls(b *testing.B) {
	requireBins(b, "libvirtd")
	d := StartLibvirtd(b, HostXML())
	doms := make([]Domain, 10)
	for i := range doms {
		doms[i] = Domain{Name: "bench-" + strconv.Itoa(i), CID: 2000 + i}
	}
	DefaultWith(b, d, doms)
	b.Run("open+close", func(b *testing.B) {
		for b.Loop() {
			l, err := DialLibvirt(d.Sock, "test:///default", libvirtrpc.ReadOnly)
			if err == nil {
				err = l.Close()
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	l := OpenURI(b, d.Sock, "test:///default", libvirtrpc.ReadOnly)
	dom, err := l.LookupByName("bench-5").Wait()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("lookup", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.LookupByName("bench-5").Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("state,xml/one-after-the-other", func(b *testing.B) {
		for b.Loop() {
			_, err1 := l.GetState(dom).Wait()
			_, err2 := l.GetXMLDesc(dom, 0).Wait()
			if err1 != nil || err2 != nil {
				b.Fatal(err1, err2)
			}
		}
	})
	b.Run("state,xml/together", func(b *testing.B) {
		for b.Loop() {
			st, xml := l.GetState(dom), l.GetXMLDesc(dom, 0)
			_, err1 := st.Wait()
			_, err2 := xml.Wait()
			if err1 != nil || err2 != nil {
				b.Fatal(err1, err2)
			}
		}
	})
}

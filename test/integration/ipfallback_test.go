//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
)

// The MACs of the IP fallback's domains; each has its own lease (or none).
const (
	macLegacy   = "52:54:00:1f:00:01" // leased 127.0.0.2 (the sshd)
	macOld      = "52:54:00:1f:00:02" // leased 127.0.0.2 (the sshd)
	macVsock    = "52:54:00:1f:00:03" // leased 127.0.0.3 (a counting listener)
	macExpired  = "52:54:00:1f:00:04" // its only lease expired (127.0.0.5)
	macDead     = "52:54:00:1f:00:05" // leased 127.0.0.4, nothing listens there
	macXMLOnly  = "52:54:00:1f:00:06" // in the XML of macsonly, leased to nobody
	macListed   = "52:54:00:1f:00:07" // only in virbr8.macs for macsonly: 127.0.0.2
	macAPI      = "52:54:00:1f:00:08" // on the defined network: the test driver invents addresses
	macSlow     = "52:54:00:1f:00:09" // leased 127.0.0.6 (silent) first, then 127.0.0.2
	macSilent   = "52:54:00:1f:00:0a" // leased 127.0.0.6 (silent) only
	missingNet  = "nosuch"            // not in the host file: DomainInterfaceAddresses fails
	definedNet  = "default"           // in the host file (fallbackNetwork)
	definedBrIP = "192.168.122."      // the test driver's addresses on it: never dialed
)

// fallbackDomains: which way each reaches its guest, or fails to.
var fallbackDomains = []Domain{
	// No vsock; the network is unknown to libvirt, so the lease files
	// give the address: the old guest the fallback is for.
	{Name: "legacy", UUID: "1e9ac100-0000-4000-8000-000000000001", NICs: []NIC{{macLegacy, missingNet}}},
	// vsock, but (under nofsock -e ECONNRESET) nothing listens on its port.
	{Name: "oldguest", UUID: "1e9ac100-0000-4000-8000-000000000002", CID: 4343, NICs: []NIC{{macOld, missingNet}}},
	// vsock; under the plain guard ENODEV: no fallback, its lease unused.
	{Name: "vsockdom", UUID: "1e9ac100-0000-4000-8000-000000000003", CID: 4344, NICs: []NIC{{macVsock, missingNet}}},
	{Name: "expired", UUID: "1e9ac100-0000-4000-8000-000000000004", NICs: []NIC{{macExpired, missingNet}}},
	{Name: "dead", UUID: "1e9ac100-0000-4000-8000-000000000005", NICs: []NIC{{macDead, missingNet}}},
	{Name: "macsonly", UUID: "1e9ac100-0000-4000-8000-000000000006", NICs: []NIC{{macXMLOnly, missingNet}}},
	// On a network the host file defines: libvirt's own sources answer
	// with invented 192.168.122.x addresses. resolve only: never dialed.
	{Name: "apinet", UUID: "1e9ac100-0000-4000-8000-000000000007", NICs: []NIC{{macAPI, definedNet}}},
	{Name: "nonic", UUID: "1e9ac100-0000-4000-8000-000000000008"},
	{Name: "slow", UUID: "1e9ac100-0000-4000-8000-000000000009", NICs: []NIC{{macSlow, missingNet}}},
	{Name: "silent", UUID: "1e9ac100-0000-4000-8000-00000000000a", NICs: []NIC{{macSilent, missingNet}}},
}

// fallbackNetwork is the network definedNet, for the host file.
const fallbackNetwork = `  <network>
    <name>default</name>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
    </ip>
  </network>
`

// fallbackEnv is a libvirtd with fallbackDomains, an sshd on 127.0.0.2:port
// (and its unix socket), a listener on 127.0.0.3:port that counts what it
// accepts, and a lease directory pointing the domains there.
type fallbackEnv struct {
	d        *Libvirtd
	s        *SSHD
	port     string // the sshd's TCP port, which is also the vsock port asked for
	leaseDir string
	counted  *atomic.Int32 // connections to 127.0.0.3:port
}

func newFallbackEnv(t *testing.T) *fallbackEnv {
	t.Helper()
	needHelper(t)
	requireBins(t, "libvirtd", "virsh", "sshd", "ssh", "ssh-keygen")
	e := &fallbackEnv{
		d: StartLibvirtd(t, strings.Replace(HostXML(fallbackDomains...), "</node>", fallbackNetwork+"</node>", 1)),
		s: StartSSHD(t),
	}
	port := e.s.ListenTCP(t, "127.0.0.2")
	e.port = fmt.Sprint(port)
	e.counted = &atomic.Int32{}
	// The same port on 127.0.0.3: the vsock domain's lease. Accepts, counts,
	// closes; a test that expects no fallback wants the count to stay 0.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.3", e.port))
	if err != nil {
		t.Fatalf("listening on 127.0.0.3:%s: %v", e.port, err)
	}
	serveListener(t, ln, func(c net.Conn) {
		e.counted.Add(1)
		c.Close()
	})
	silentListener(t, "127.0.0.6", port)
	e.leaseDir = shortTempDir(t)
	now := time.Now().Unix()
	lease := func(ip, mac string, expiry int64) string {
		if expiry == 0 {
			return fmt.Sprintf(`{"ip-address":%q,"mac-address":%q,"hostname":"guest"}`, ip, mac)
		}
		return fmt.Sprintf(`{"ip-address":%q,"mac-address":%q,"hostname":"guest","expiry-time":%d}`, ip, mac, expiry)
	}
	writeFile(t, filepath.Join(e.leaseDir, "virbr7.status"), "[\n"+strings.Join([]string{
		lease("127.0.0.2", macLegacy, 0),
		lease("127.0.0.2", macOld, now+3600),
		lease("127.0.0.3", macVsock, now+3600),
		lease("127.0.0.5", macExpired, now-10),
		lease("127.0.0.4", macDead, now+3600),
		lease("127.0.0.2", macSlow, now+60),
		lease("127.0.0.6", macSlow, now+3600), // newer: tried first
		lease("127.0.0.6", macSilent, now+3600),
	}, ",\n")+"\n]\n", 0o644)
	writeFile(t, filepath.Join(e.leaseDir, "virbr8.status"), "["+lease("127.0.0.2", macListed, now+60)+"]", 0o644)
	writeFile(t, filepath.Join(e.leaseDir, "virbr8.macs"), `[{"domain":"macsonly","macs":["`+macListed+`"]}]`, 0o644)
	// One corrupt file: skipped (and said so under -v); the others count.
	writeFile(t, filepath.Join(e.leaseDir, "virbr9.status"), `[{"ip-address": "127.0.0.9", "mac-add`, 0o644)
	writeFile(t, filepath.Join(e.leaseDir, "virbr9.macs"), "\x00garbage", 0o644)
	return e
}

// silentListener makes ip:port an address that never answers a connect, as
// a firewalled guest does, on loopback: a listener with a backlog of 0
// whose one queued connection is never accepted, so the kernel drops every
// later SYN and the connect waits out its timeout.
func silentListener(t testing.TB, ip string, port int) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	a := netip.MustParseAddr(ip).As4()
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: a}); err != nil {
		t.Fatalf("bind %s:%d: %v", ip, port, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), 5*time.Second)
	if err != nil {
		t.Fatalf("filling the backlog of %s:%d: %v", ip, port, err)
	}
	t.Cleanup(func() { c.Close() })
	if c2, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), 100*time.Millisecond); err == nil {
		c2.Close()
		t.Fatalf("%s:%d still accepts connections with a full backlog", ip, port)
	}
}

// args are the options that point the helper at the test's daemon and
// lease files.
func (e *fallbackEnv) args(more ...string) []string {
	return append([]string{"-c", e.d.URI(), "--lease-dir", e.leaseDir}, more...)
}

// runHelperErrno runs the helper under nofsock -e ERRNO: AF_VSOCK sockets
// fail with ERRNO (ECONNRESET: a guest with nothing on its vsock port).
func runHelperErrno(t testing.TB, errno string, args ...string) Result {
	t.Helper()
	needHelper(t)
	r := runCmd(t, helperLimit, exec.Command(nofsockBin, append([]string{"-e", errno, "--", helperBin}, args...)...))
	r.Args = append([]string{"libvirt-ssh-proxy"}, args...)
	return r
}

// resolveAddresses runs `resolve --json` and returns the addresses array.
func resolveAddresses(t *testing.T, args ...string) (string, []map[string]string) {
	t.Helper()
	r := runHelper(t, append([]string{"resolve", "--json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("want exit 0: %s", r)
	}
	var v struct {
		Network   string              `json:"network"`
		Addresses []map[string]string `json:"addresses"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("resolve --json: %v\n%s", err, r)
	}
	return v.Network, v.Addresses
}

// TestIPFallbackResolve: resolve lists the candidates in order with their
// sources, and connects to nothing (run under the guard; the test driver's
// 192.168.122.x addresses are only read).
func TestIPFallbackResolve(t *testing.T) {
	e := newFallbackEnv(t)
	v7 := "lease file " + filepath.Join(e.leaseDir, "virbr7.status")
	v8 := "lease file " + filepath.Join(e.leaseDir, "virbr8.status")
	// What the test driver's DomainInterfaceAddresses says, for apinet.
	var apiAddrs []string
	for _, line := range strings.Split(e.d.Virsh(t, "domifaddr", "apinet", "--source", "lease"), "\n") {
		if f := strings.Fields(line); len(f) == 4 && strings.EqualFold(f[1], macAPI) {
			apiAddrs = append(apiAddrs, strings.Split(f[3], "/")[0])
		}
	}
	if len(apiAddrs) == 0 || !strings.HasPrefix(apiAddrs[0], definedBrIP) {
		t.Fatalf("the test driver lists no %s* address for apinet: %v", definedBrIP, apiAddrs)
	}
	t.Logf("test driver: apinet has %v", apiAddrs)
	cases := []struct {
		host    string
		network string
		want    []string // "address source"
	}{
		{"qemu/legacy", "tcp", []string{"127.0.0.2 " + v7}},
		{"qemu/oldguest", "vsock", []string{"127.0.0.2 " + v7}},
		{"qemu/macsonly", "tcp", []string{"127.0.0.2 " + v8}}, // the MAC of virbr8.macs, not of the XML
		{"qemu/apinet", "tcp", []string{apiAddrs[0] + " libvirt lease"}},
		{"qemu/nonic", "", nil},   // no vsock, no address: exit 6, below
		{"qemu/expired", "", nil}, // its only lease expired
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			t.Parallel()
			if c.network == "" {
				r := runHelper(t, e.args("resolve", c.host)...)
				expectExit(t, r, 6, "no vsock device", "found no IP address", e.leaseDir)
				return
			}
			network, addrs := resolveAddresses(t, e.args(c.host)...)
			var got []string
			for _, a := range addrs {
				got = append(got, a["address"]+" "+a["source"])
			}
			if network != c.network || !slices.Equal(got, c.want) {
				t.Errorf("network %q, addresses %q; want %q, %q", network, got, c.network, c.want)
			}
		})
	}
	t.Run("--no-ip-fallback lists nothing", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, e.args("resolve", "--json", "--no-ip-fallback", "qemu/oldguest")...)
		if r.Code != 0 || strings.Contains(r.Stdout, "addresses") {
			t.Errorf("want exit 0 without addresses: %s", r)
		}
		expectExit(t, runHelper(t, e.args("resolve", "--no-ip-fallback", "qemu/legacy")...), 6, "no vsock device")
	})
	t.Run("text form", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, e.args("resolve", "qemu/legacy")...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "address:") || !strings.Contains(r.Stdout, "127.0.0.2 ("+v7+")") {
			t.Errorf("want an address: row for 127.0.0.2: %s", r)
		}
	})
	t.Run("-v says which files it skipped", func(t *testing.T) {
		t.Parallel()
		r := runHelper(t, e.args("resolve", "-v", "qemu/legacy")...)
		for _, want := range []string{"skipping " + filepath.Join(e.leaseDir, "virbr9.status"), "skipping " + filepath.Join(e.leaseDir, "virbr9.macs"), "libvirt lease: Network not found"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("stderr lacks %q: %s", want, r)
			}
		}
	})
}

// TestIPFallbackProxy runs the ProxyCommand form directly: which vsock
// failures fall back, what -v says, and the one line when nothing works.
func TestIPFallbackProxy(t *testing.T) {
	e := newFallbackEnv(t)
	v7 := filepath.Join(e.leaseDir, "virbr7.status")
	t.Run("no vsock: relayed over TCP, -v names address and source", func(t *testing.T) {
		r := runHelper(t, e.args("-v", "--relay", "qemu/legacy", e.port)...)
		expectExit(t, r, 0)
		if !strings.HasPrefix(r.Stdout, "SSH-2.0-OpenSSH") {
			t.Errorf("want the sshd's banner on stdout: %s", r)
		}
		for _, want := range []string{"has no vsock device; trying the IP addresses", "connected to 127.0.0.2:" + e.port + " (from lease file " + v7 + ")"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("stderr lacks %q: %s", want, r)
			}
		}
	})
	t.Run("no vsock: fd passed", func(t *testing.T) {
		fd, r := runFdpass(t, e.args("qemu/macsonly", e.port)...)
		expectExit(t, r, 0)
		if fd < 0 {
			return
		}
		f := os.NewFile(uintptr(fd), "passed")
		defer f.Close()
		f.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 16)
		if n, _ := f.Read(buf); !strings.HasPrefix(string(buf[:n]), "SSH-2.0-") {
			t.Errorf("passed fd reads %q, want the sshd's banner", buf[:n])
		}
	})
	t.Run("vsock refused: falls back", func(t *testing.T) {
		r := runHelperErrno(t, "ECONNRESET", e.args("-v", "--relay", "qemu/oldguest", e.port)...)
		expectExit(t, r, 0, "nothing listening on vsock port "+e.port+" of CID 4343; trying the IP addresses")
		if !strings.HasPrefix(r.Stdout, "SSH-2.0-OpenSSH") {
			t.Errorf("want the sshd's banner on stdout: %s", r)
		}
	})
	t.Run("vsock ENODEV: no fallback", func(t *testing.T) {
		before := e.counted.Load()
		expectExit(t, runHelper(t, e.args("qemu/vsockdom", e.port)...), 11, "4344")
		if n := e.counted.Load() - before; n != 0 {
			t.Errorf("the vsock domain's lease address was dialed %d times after ENODEV", n)
		}
	})
	t.Run("--no-ip-fallback: the old errors", func(t *testing.T) {
		r := runHelper(t, e.args("--no-ip-fallback", "qemu/legacy", e.port)...)
		expectExit(t, r, 6, "no vsock device")
		r2 := runHelperErrno(t, "ECONNRESET", e.args("--no-ip-fallback", "qemu/oldguest", e.port)...)
		expectExit(t, r2, 8, "nothing listening on vsock port")
		for _, r := range []Result{r, r2} {
			if strings.Contains(r.Stderr, "IP fallback") {
				t.Errorf("--no-ip-fallback still mentions the fallback: %s", r)
			}
		}
	})
	t.Run("nothing answers: one line with what was tried", func(t *testing.T) {
		r := runHelper(t, e.args("qemu/dead", e.port)...)
		expectExit(t, r, 6, "no vsock device", "IP fallback failed", "127.0.0.4:"+e.port+" (lease file "+v7+"): connection refused")
	})
	t.Run("silent address: its share of --timeout, then the next", func(t *testing.T) {
		r := runHelper(t, e.args("-v", "--relay", "--timeout", "3", "qemu/slow", e.port)...)
		expectExit(t, r, 0, "127.0.0.6:"+e.port+": no answer within", "connected to 127.0.0.2:"+e.port)
	})
	t.Run("silent address: --timeout runs out, exit 9", func(t *testing.T) {
		r := runHelper(t, e.args("--timeout", "1", "qemu/silent", e.port)...)
		expectExit(t, r, 9, "no vsock device, and the IP fallback failed", "timed out trying IP addresses", "127.0.0.6:"+e.port)
	})
	t.Run("no address: one line saying where it looked", func(t *testing.T) {
		r := runHelper(t, e.args("qemu/expired", e.port)...)
		expectExit(t, r, 6, "no vsock device", "found no IP address", e.leaseDir)
		r = runHelperErrno(t, "ECONNREFUSED", e.args("qemu/vsockdom", "9")...)
		expectExit(t, r, 8, "nothing listening on vsock port 9", "127.0.0.3:9")
	})
}

// TestIPFallbackSSH: ssh user@qemu/NAME through the drop-in logs in over
// TCP to a domain without vsock, and to one whose vsock port refuses, in
// both hand-off modes.
func TestIPFallbackSSH(t *testing.T) {
	e := newFallbackEnv(t)
	dir := shortTempDir(t)
	b, err := os.ReadFile(e.s.DropIn)
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(binDir, "libvirt-ssh-proxy")
	dropin := strings.ReplaceAll(string(b), prog+" ", prog+" -c '"+e.d.URI()+"' --lease-dir '"+e.leaseDir+"' ")
	if strings.Count(dropin, "--lease-dir") < 2 {
		t.Fatalf("could not insert options into the drop-in's ProxyCommands:\n%s", dropin)
	}
	writeFile(t, filepath.Join(dir, "dropin.conf"), dropin, 0o644)
	cc, err := os.ReadFile(e.s.ClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ssh_config")
	writeFile(t, cfg, strings.Replace(string(cc), "Include "+e.s.DropIn, "Include "+filepath.Join(dir, "dropin.conf"), 1), 0o644)
	for _, m := range sshModes {
		for _, c := range []struct{ name, errno, host string }{
			{"no vsock", "ENODEV", "qemu/legacy"},
			{"no vsock, % form", "ENODEV", "qemu%macsonly"},
			{"vsock refused", "ECONNRESET", "qemu/oldguest"},
		} {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				args := append([]string{"-e", c.errno, "--", "ssh", "-F", cfg, "-p", e.port}, m.opts...)
				args = append(args, e.s.User+"@"+c.host, "echo", "hello", "over", "tcp")
				r := runCmd(t, sshLimit, exec.Command(nofsockBin, args...))
				if r.Code != 0 || r.Stdout != "hello over tcp\n" {
					t.Fatalf("ssh: %s", r)
				}
			})
		}
	}
}

// BenchmarkIPFallback measures what the IP fallback costs, only ever paid
// after vsock failed, against test:///default (built once, shared by every
// connection; see DefaultWith) with a domain that has vsock and a NIC:
//
//	reconnect   in-process: what Addresses does over libvirt — connect, open,
//	            look the domain up by name, the three DomainInterfaceAddresses
//	            sources, close
//	sources     the three DomainInterfaceAddresses calls alone, on a
//	            connection kept open: what keeping Resolve's connection
//	            would have cost instead
//	refused     exec to exit: vsock refused (nofsock -e ECONNRESET), with
//	            --no-ip-fallback (exit 8), and falling back to a loopback
//	            listener from a lease file (relay, exit 0)
//
//	go test -tags integration -run '^$' -bench IPFallback -benchtime 50x ./test/integration/
func BenchmarkIPFallback(b *testing.B) {
	needHelper(b)
	requireBins(b, "libvirtd")
	d := StartLibvirtd(b, HostXML())
	dom := Domain{Name: "bench-fallback", CID: 4400, NICs: []NIC{{"52:54:00:1f:10:01", "default"}}}
	DefaultWith(b, d, []Domain{dom})

	open := func(b *testing.B) *libvirtrpc.Conn {
		l, err := DialLibvirt(d.Sock, "test:///default", libvirtrpc.ReadOnly)
		if err != nil {
			b.Fatalf("connect: %v", err)
		}
		return l
	}
	sources := func(l *libvirtrpc.Conn, dm libvirtrpc.Domain) {
		lease := l.InterfaceAddresses(dm, libvirtrpc.AddrSrcLease)
		arp := l.InterfaceAddresses(dm, libvirtrpc.AddrSrcARP)
		lease.Wait()
		arp.Wait()
	}
	b.Run("reconnect", func(b *testing.B) {
		benchFunc(b, func() {
			l := open(b)
			dm, err := l.LookupByName(dom.Name).Wait()
			if err != nil {
				b.Fatal(err)
			}
			sources(l, dm)
			l.Close()
		})
	})
	b.Run("sources", func(b *testing.B) {
		l := open(b)
		defer l.Close()
		dm, err := l.LookupByName(dom.Name).Wait()
		if err != nil {
			b.Fatal(err)
		}
		benchFunc(b, func() { sources(l, dm) })
	})

	// A listener on loopback that accepts and closes: the relay ends at once.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		b.Fatal(err)
	}
	serveListener(b, ln, func(c net.Conn) { c.Close() })
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	leaseDir := shortTempDir(b)
	writeFile(b, filepath.Join(leaseDir, "virbr0.status"), `[{"ip-address":"127.0.0.2","mac-address":"52:54:00:1f:10:01"}]`, 0o644)
	// The test driver invents addresses for a NIC on its network, which
	// the helper must never dial: these runs use a NIC on a network it
	// does not know, so only the lease file answers.
	noAPI := DefaultWith(b, d, []Domain{{Name: "bench-fallback-2", CID: 4401, NICs: []NIC{{"52:54:00:1f:10:01", "nosuch"}}}})
	b.Run("refused/no-ip-fallback", func(b *testing.B) {
		benchExec(b, 8, func() Result {
			return runHelperErrno(b, "ECONNRESET", "-c", noAPI, "--lease-dir", leaseDir, "--no-ip-fallback", "qemu/bench-fallback-2", port)
		})
	})
	b.Run("refused/fallback", func(b *testing.B) {
		benchExec(b, 0, func() Result {
			return runHelperErrno(b, "ECONNRESET", "-c", noAPI, "--lease-dir", leaseDir, "--relay", "qemu/bench-fallback-2", port)
		})
	})
}

// benchFunc runs f b.N times and reports the median and p90 in-process.
func benchFunc(b *testing.B, f func()) {
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f()
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2])/float64(time.Microsecond), "median-µs")
	b.ReportMetric(float64(samples[len(samples)*9/10])/float64(time.Microsecond), "p90-µs")
}

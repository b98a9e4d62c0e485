//go:build integration

package integration

import (
	"fmt"

	"golang.org/x/sys/unix"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
)

// Domain is one domain of a test-driver host file.
type Domain struct {
	Name    string
	UUID    string // empty: libvirt makes one up
	CID     int    // static vsock CID; 0 with AutoCID false = no vsock device
	AutoCID bool   // <cid auto='yes'/>: no address ever appears under the test driver
	Stopped bool   // <test:runstate>5</test:runstate>: shut off
	// RunState, when not 0, is the domain's <test:runstate>: a libvirt
	// domain state (3 paused, 4 in shutdown, 6 crashed, 7 pmsuspended).
	RunState int
	NICs     []NIC // <interface type='network'> devices
}

// NIC is a domain's network interface: its MAC and the libvirt network it
// is on (which the host file may or may not define).
type NIC struct {
	MAC, Network string
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;").Replace(s)
}

// HostXML renders a test-driver host file: <node> with one <domain> each.
// The test driver starts every domain running (IDs 1, 2, ... in file order)
// unless Stopped.
func HostXML(doms ...Domain) string {
	var b strings.Builder
	b.WriteString("<node>\n")
	for _, d := range doms {
		b.WriteString(DomainXML(d))
	}
	b.WriteString("</node>\n")
	return b.String()
}

// DomainXML renders one test-driver domain.
func DomainXML(d Domain) string {
	var b strings.Builder
	b.WriteString("  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n")
	fmt.Fprintf(&b, "    <name>%s</name>\n", xmlEscape(d.Name))
	if d.UUID != "" {
		fmt.Fprintf(&b, "    <uuid>%s</uuid>\n", d.UUID)
	}
	b.WriteString("    <memory unit='MiB'>128</memory>\n    <vcpu>1</vcpu>\n" +
		"    <os><type arch='x86_64'>hvm</type></os>\n    <devices>\n")
	switch {
	case d.AutoCID:
		b.WriteString("      <vsock model='virtio'><cid auto='yes'/></vsock>\n")
	case d.CID != 0:
		fmt.Fprintf(&b, "      <vsock model='virtio'><cid auto='no' address='%d'/></vsock>\n", d.CID)
	}
	for _, n := range d.NICs {
		fmt.Fprintf(&b, "      <interface type='network'><mac address='%s'/><source network='%s'/></interface>\n", n.MAC, xmlEscape(n.Network))
	}
	b.WriteString("    </devices>\n")
	switch {
	case d.Stopped:
		b.WriteString("    <test:runstate>5</test:runstate>\n")
	case d.RunState != 0:
		fmt.Fprintf(&b, "    <test:runstate>%d</test:runstate>\n", d.RunState)
	}
	b.WriteString("  </domain>\n")
	return b.String()
}

// Libvirtd is a private libvirtd serving the test driver on its own sockets.
type Libvirtd struct {
	Dir     string // its state, config, logs and sockets
	HostXML string // absolute path of the host file its URI names
	// Sock is the socket the helper is pointed at: libvirt-sock-ro when the
	// daemon made one (as root), else libvirt-sock. The helper only reads.
	Sock   string
	RWSock string
	// TCPPort is the port it listens on at 127.0.0.1 (StartLibvirtdTCP).
	TCPPort int
	proc    *proc
}

// URI is the connection URI for the helper: test driver over Sock.
func (d *Libvirtd) URI() string {
	return "test+unix://" + d.HostXML + "?socket=" + d.Sock
}

// Virsh runs virsh against the daemon (read-only) and returns its output.
func (d *Libvirtd) Virsh(t testing.TB, args ...string) string {
	t.Helper()
	requireBins(t, "virsh")
	cmd := exec.Command(mustBin(t, "virsh"), append([]string{"-r", "-c", d.URI()}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("virsh %q: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// StartLibvirtd starts a private libvirtd for the test, serving hostXML, and
// waits until it accepts connections. It is stopped when the test ends; its
// log is printed if the test fails.
//
// LIBVIRT_DRIVER_DIR points at an empty directory so no driver module loads
// (a root libvirtd's QEMU driver kills the daemon when the libvirt-qemu user
// is missing); the test driver is built in and still serves. -t 60 makes a
// leaked daemon exit by itself after 60 idle seconds.
func StartLibvirtd(t testing.TB, hostXML string) *Libvirtd {
	t.Helper()
	return startLibvirtd(t, hostXML, false)
}

// StartLibvirtdTCP is StartLibvirtd with the daemon also listening on TCP
// loopback (127.0.0.1, a free port, no authentication): URIs with a host,
// such as test+tcp://127.0.0.1:PORT/..., that never leave the machine.
func StartLibvirtdTCP(t testing.TB, hostXML string) *Libvirtd {
	t.Helper()
	return startLibvirtd(t, hostXML, true)
}

// TCPURI is the daemon's test-driver URI over TCP (StartLibvirtdTCP).
func (d *Libvirtd) TCPURI() string {
	return fmt.Sprintf("test+tcp://127.0.0.1:%d%s", d.TCPPort, d.HostXML)
}

func startLibvirtd(t testing.TB, hostXML string, tcp bool) *Libvirtd {
	t.Helper()
	requireBins(t, "libvirtd")
	dir := shortTempDir(t)
	run := filepath.Join(dir, "run")
	nodrivers := filepath.Join(dir, "nodrivers")
	for _, d := range []string{run, nodrivers} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if s := filepath.Join(run, "libvirt-admin-sock"); len(s) >= 108 {
		t.Fatalf("socket path too long for sun_path (%d bytes): %s", len(s), s)
	}
	conf := fmt.Sprintf(`listen_tls = 0
listen_tcp = 0
unix_sock_dir = "%s"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:stderr"
`, run)
	port := 0
	if tcp {
		// A port free a moment ago; libvirtd fails to start (and the
		// test with it) in the unlikely case another process took it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		conf = strings.Replace(conf, "listen_tcp = 0\n", fmt.Sprintf("listen_tcp = 1\ntcp_port = \"%d\"\nlisten_addr = \"127.0.0.1\"\nauth_tcp = \"none\"\n", port), 1)
	}
	confPath := filepath.Join(dir, "libvirtd.conf")
	hostPath := filepath.Join(dir, "host.xml")
	writeFile(t, confPath, conf, 0o644)
	writeFile(t, hostPath, hostXML, 0o644)

	args := []string{"-f", confPath, "-p", filepath.Join(dir, "libvirtd.pid"), "-t", "60"}
	if tcp {
		args = append(args, "--listen")
	}
	cmd := exec.Command(mustBin(t, "libvirtd"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"LIBVIRT_DRIVER_DIR="+nodrivers,
		"HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	p := startProc(t, cmd, filepath.Join(dir, "libvirtd.log"))
	d := &Libvirtd{Dir: dir, HostXML: hostPath, RWSock: filepath.Join(run, "libvirt-sock"), TCPPort: port, proc: p}
	waitUnix(t, p, d.RWSock, 10*time.Second)
	d.Sock = d.RWSock
	if os.Geteuid() == 0 {
		// As root the daemon also makes the read-only socket; use it, it is
		// what a read-only client gets on a real host.
		ro := filepath.Join(run, "libvirt-sock-ro")
		waitUnix(t, p, ro, 10*time.Second)
		d.Sock = ro
	}
	return d
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// FakeDaemon listens on a unix socket in dir and runs serve for each accepted
// connection; connections still open are closed when the test ends.
func FakeDaemon(t testing.TB, dir, name string, serve func(net.Conn)) string {
	t.Helper()
	sock := filepath.Join(dir, name)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, ln, serve)
	return sock
}

// serveListener runs serve on each connection ln accepts, each in its own
// goroutine, until the test ends; then it closes ln and every connection and
// waits for the serve calls to return.
func serveListener(t testing.TB, ln net.Listener, serve func(net.Conn)) {
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// HungDaemon is a unix socket that accepts and never answers (nor closes
// until the test ends): a libvirtd that is stuck.
func HungDaemon(t testing.TB, dir string) string {
	t.Helper()
	return FakeDaemon(t, dir, "hung-sock", func(c net.Conn) {
		// Read and drop whatever comes, never write; return when closed.
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
}

// ClosingDaemon accepts and closes at once: a daemon that breaks the protocol.
func ClosingDaemon(t testing.TB, dir string) string {
	t.Helper()
	return FakeDaemon(t, dir, "closing-sock", func(c net.Conn) { c.Close() })
}

// GarbageDaemon answers whatever it gets with bytes that are no libvirt RPC.
func GarbageDaemon(t testing.TB, dir string) string {
	t.Helper()
	return FakeDaemon(t, dir, "garbage-sock", func(c net.Conn) {
		buf := make([]byte, 4096)
		c.Read(buf)
		c.Write([]byte("\x00\x00\x00\x1cthis is not libvirt, sorry!\n"))
		c.Close()
	})
}

// DeadSocket is a socket file nobody listens on: connect gives ECONNREFUSED.
func DeadSocket(t testing.TB, dir string) string {
	t.Helper()
	sock := filepath.Join(dir, "dead-sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	return sock
}

// URIFor names a test-driver host file over a socket that need not exist.
func URIFor(hostXML, sock string) string {
	return "test+unix://" + hostXML + "?socket=" + sock
}

// DefaultWith starts running transient domains in the daemon's shared
// test:///default driver and returns the helper's URI for it. Unlike a host
// file (which the daemon re-parses on every connection: ~2.5 s per connection
// with 10,000 domains), test:///default is built once and shared by every
// connection while at least one stays open; this function keeps one open
// until the test ends. test:///default also holds its own domain "test".
func DefaultWith(t testing.TB, d *Libvirtd, doms []Domain) string {
	t.Helper()
	l := OpenDefault(t, d.RWSock)
	for _, dom := range doms {
		if dom.Stopped {
			t.Fatalf("DefaultWith: %s: transient domains always run", dom.Name)
		}
		if err := CreateDomain(l, DomainXML(dom)); err != nil {
			t.Fatalf("creating %s: %v", dom.Name, err)
		}
	}
	return "test+unix:///default?socket=" + d.Sock
}

// OpenDefault opens test:///default read-write on the daemon socket sock,
// until the test ends.
func OpenDefault(t testing.TB, sock string) *libvirtrpc.Conn {
	t.Helper()
	return OpenURI(t, sock, "test:///default", 0)
}

// OpenURI opens uri with flags on the daemon socket sock, until the test
// ends.
func OpenURI(t testing.TB, sock, uri string, flags libvirtrpc.OpenFlags) *libvirtrpc.Conn {
	t.Helper()
	l, err := DialLibvirt(sock, uri, flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// DialLibvirt connects to the daemon socket sock and opens uri with flags.
func DialLibvirt(sock, uri string, flags libvirtrpc.OpenFlags) (*libvirtrpc.Conn, error) {
	nc, err := net.Dial("unix", sock)
	if err != nil {
		return nil, err
	}
	l := libvirtrpc.New(nc)
	if err := l.Open(uri, flags); err != nil {
		nc.Close()
		return nil, fmt.Errorf("opening %s on %s: %w", uri, sock, err)
	}
	return l, nil
}

// CreateDomain starts a transient domain from its XML (DOMAIN_CREATE_XML).
func CreateDomain(l *libvirtrpc.Conn, xml string) error {
	var e libvirtrpc.Encoder
	e.Str(xml)
	e.Uint32(0)
	_, err := l.Call(procDomainCreateXML, e.Bytes()).Wait()
	return err
}

// DestroyDomain stops a domain; a transient one is gone then
// (DOMAIN_DESTROY).
func DestroyDomain(l *libvirtrpc.Conn, dom libvirtrpc.Domain) error {
	var e libvirtrpc.Encoder
	e.Domain(dom)
	_, err := l.Call(procDomainDestroy, e.Bytes()).Wait()
	return err
}

// BusySocket is a live listener that never accepts, with its backlog full: a
// connect to it gets EAGAIN (non-blocking) or blocks (blocking), as with a
// VMM's hybrid-vsock socket that is slow to accept under load.
func BusySocket(t testing.TB, dir string) string {
	t.Helper()
	sock := filepath.Join(dir, "busy-sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fds := []int{fd}
	t.Cleanup(func() {
		for _, f := range fds {
			unix.Close(f)
		}
	})
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, c)
		err = unix.Connect(c, &unix.SockaddrUnix{Name: sock})
		if err == unix.EAGAIN {
			return sock
		}
		if err != nil || i > 16 {
			t.Fatalf("filling the backlog of %s: %d connects, then %v", sock, i+1, err)
		}
	}
}

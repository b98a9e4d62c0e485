package doctor

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/dial"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// fixture is what every case shares: a fake helper executable, system
// configs with and without the Include, a listening and a dead unix socket,
// and a hybrid vsock multiplexer that answers every CONNECT with OK.
type fixture struct {
	helper, sysOK, sysNoDropIn, sysNoInclude, live, dead, mux string
}

func newFixture(t *testing.T) fixture {
	dir := t.TempDir()
	f := fixture{
		helper:       filepath.Join(dir, "libexec", "libvirt-ssh-proxy"),
		sysOK:        filepath.Join(dir, "ok", "ssh_config"),
		sysNoDropIn:  filepath.Join(dir, "nodropin", "ssh_config"),
		sysNoInclude: filepath.Join(dir, "stock_ssh_config"),
		live:         filepath.Join(dir, "live.sock"),
		dead:         filepath.Join(dir, "dead.sock"),
		mux:          filepath.Join(dir, "mux.sock"),
	}
	for _, d := range []string{filepath.Dir(f.helper), filepath.Join(dir, "ok", "ssh_config.d"), filepath.Join(dir, "nodropin")} {
		os.MkdirAll(d, 0o755)
	}
	write := func(p, s string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(f.helper, "#!/bin/sh\n", 0o755)
	write(f.sysOK, "Include /etc/ssh/ssh_config.d/*.conf\nInclude ssh_config.d/*.conf\nHost *\n", 0o644)
	write(filepath.Join(dir, "ok", "ssh_config.d", DropIn), "Host qemu/*\n", 0o644)
	write(f.sysNoDropIn, "Include ssh_config.d/*.conf\n", 0o644)
	write(f.sysNoInclude, "Host *\n    SendEnv LANG LC_*\n", 0o644)
	// Each listener hands every connection it accepts to its func, until
	// the test ends.
	listen := func(path string, answer func(net.Conn)) {
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				answer(c)
				c.Close()
			}
		}()
	}
	listen(f.live, func(net.Conn) {})
	listen(f.mux, func(c net.Conn) {
		buf := make([]byte, 32)
		c.Read(buf) // the CONNECT line, in one write
		c.Write([]byte("OK 1\n"))
	})
	dl, err := net.ListenUnix("unix", &net.UnixAddr{Name: f.dead, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	dl.SetUnlinkOnClose(false)
	dl.Close()
	return f
}

// helperArgs reads HOST PORT, optionally after -c URI, like the command's
// parser does for the ProxyCommand form.
func helperArgs(args []string) (Helper, error) {
	var h Helper
	if len(args) >= 2 && args[0] == "-c" {
		h.URIs, args = []string{args[1]}, args[2:]
	}
	if len(args) != 2 {
		return h, errors.New("want HOST PORT")
	}
	h.Host, h.Port = args[0], args[1]
	return h, nil
}

func TestDoctor(t *testing.T) {
	f := newFixture(t)
	ours := f.helper + " '%n' %p"
	cfg := func(kv ...string) sshconfig.Config {
		c := sshconfig.Config{"hostname": {"x"}, "port": {"22"}}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i]] = []string{kv[i+1]}
		}
		return c
	}
	vsockErr := func(err error) func(context.Context, uint32, uint32) (net.Conn, error) {
		return func(context.Context, uint32, uint32) (net.Conn, error) {
			if err == nil {
				a, b := net.Pipe()
				b.Close()
				return &fdConn{a}, nil
			}
			return nil, &net.OpError{Op: "dial", Net: "vsock", Err: os.NewSyscallError("connect", err)}
		}
	}
	tests := []struct {
		name   string
		host   string
		cfg    sshconfig.Config
		sshErr error
		sys    string
		vsock  error
		want   string        // the statuses, in order
		class  failure.Class // of the first failure; 0 = none
		text   []string      // in the report
		absent []string      // not in the report
	}{
		{name: "all good over unix", host: "unix/" + f.live, cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysOK,
			want: "OK OK SKIP SKIP SKIP SKIP OK OK", text: []string{"ssh runs the helper", "(line 2)", "names no libvirt domain", f.live}},
		{name: "all good over vsock-mux", host: "vsock-mux/" + f.mux, cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysOK,
			want: "OK OK SKIP SKIP SKIP SKIP OK OK", text: []string{"guest port accepts a connection: vsock port 22 through " + f.mux}, absent: []string{"CID 0"}},
		{name: "shadowed by Host * ProxyCommand", host: "unix/" + f.live, cfg: cfg("proxycommand", "nc %h %p", "proxyusefdpass", "yes"), sys: f.sysOK,
			want: "FAIL OK SKIP SKIP SKIP SKIP OK SKIP", class: failure.SSHConfig, text: []string{`ProxyCommand "nc %h %p"`, "/root/.ssh/config line 1 (Host *)", "Include /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf"}},
		{name: "shadowed by ProxyJump", host: "vsock/3", cfg: cfg("proxyjump", "bastion"), sys: f.sysOK, vsock: nil,
			want: "FAIL OK SKIP SKIP SKIP SKIP OK SKIP", class: failure.SSHConfig, text: []string{"ProxyJump bastion"}},
		{name: "no ProxyCommand, drop-in not installed", host: "vsock/3", cfg: cfg("proxycommand", "none"), sys: f.sysNoDropIn,
			want: "FAIL FAIL SKIP SKIP SKIP SKIP OK SKIP", class: failure.SSHConfig, text: []string{"(line 1): but " + filepath.Dir(f.sysNoDropIn) + "/ssh_config.d/30-libvirt-ssh-proxy.conf is not there", "make install"}},
		{name: "routed, drop-in not installed", host: "vsock/3", cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysNoDropIn,
			want: "OK OK SKIP SKIP SKIP SKIP OK OK"},
		{name: "no ProxyCommand, stock system config", host: "vsock/3", cfg: cfg("proxycommand", "none"), sys: f.sysNoInclude,
			want: "FAIL FAIL SKIP SKIP SKIP SKIP OK SKIP", class: failure.SSHConfig, text: []string{"no ProxyCommand applies", "add `Include " + filepath.Dir(f.sysNoInclude) + "/ssh_config.d/*.conf` as the first line"}},
		{name: "alias of none of our forms", host: "web01", cfg: cfg(), sys: f.sysOK,
			want: "FAIL OK FAIL SKIP SKIP SKIP SKIP SKIP SKIP", class: failure.SSHConfig, text: []string{"ssh-config` writes aliases"}},
		{name: "helper missing", host: "vsock/3", cfg: cfg("proxycommand", "/nonexistent/libvirt-ssh-proxy '%n' %p"), sys: f.sysOK,
			want: "FAIL OK SKIP SKIP SKIP SKIP OK SKIP", class: failure.SSHConfig, text: []string{"/nonexistent/libvirt-ssh-proxy, which is not an executable"}},
		{name: "%h with capitals", host: "unix/" + f.live + "/X", cfg: cfg("proxycommand", f.helper+" %h %p", "proxyusefdpass", "yes"), sys: f.sysOK,
			want: "FAIL OK SKIP SKIP SKIP SKIP FAIL SKIP", class: failure.SSHConfig, text: []string{"passes %h, which ssh lowercases"}},
		{name: "no fd passing", host: "vsock/3", cfg: cfg("proxycommand", ours, "proxyusefdpass", "no"), sys: f.sysOK,
			want: "OK OK SKIP SKIP SKIP SKIP OK FAIL", class: failure.HandOff, text: []string{`ProxyUseFdpass is "no"`, "add ProxyUseFdpass yes"}},
		{name: "routed without the system Include", host: "vsock/3", cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysNoInclude,
			want: "OK OK SKIP SKIP SKIP SKIP OK OK", text: []string{"it does not, but ssh runs the helper"}},
		{name: "ssh -G fails", host: "vsock/3", sshErr: errors.New("Bad owner or permissions on x"), sys: f.sysOK,
			want: "FAIL OK SKIP SKIP SKIP SKIP OK SKIP", class: failure.SSHConfig, text: []string{"Bad owner"}},
		{name: "guest sshd not on vsock", host: "vsock/3", cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysOK, vsock: syscall.ECONNRESET,
			want: "OK OK SKIP SKIP SKIP SKIP FAIL OK", class: failure.NotListening, text: []string{"nothing listening on vsock port 22 of CID 3", "ListenStream=vsock::22"}},
		{name: "guest not ready", host: "vsock/3", cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysOK, vsock: syscall.ETIMEDOUT,
			want: "OK OK SKIP SKIP SKIP SKIP FAIL OK", class: failure.NotReady},
		{name: "no such CID", host: "vsock/3", cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysOK, vsock: syscall.ENODEV,
			want: "OK OK SKIP SKIP SKIP SKIP FAIL OK", class: failure.NoTarget, text: []string{"no VM holds vsock CID 3"}},
		{name: "unix socket nobody accepts on", host: "unix/" + f.dead, cfg: cfg("proxycommand", ours, "proxyusefdpass", "yes"), sys: f.sysOK,
			want: "OK OK SKIP SKIP SKIP SKIP FAIL OK", class: failure.NotListening, text: []string{"nothing listening on " + f.dead}},
		{name: "port from the ProxyCommand", host: "vsock/3", cfg: cfg("proxycommand", f.helper+" '%n' 2222", "proxyusefdpass", "yes"), sys: f.sysOK, vsock: syscall.ECONNRESET,
			want: "OK OK SKIP SKIP SKIP SKIP FAIL OK", class: failure.NotListening, text: []string{"vsock port 2222"}},
		{name: "bad host from an alias", host: "web01", cfg: cfg("proxycommand", f.helper+" qemu/ %p", "proxyusefdpass", "yes"), sys: f.sysOK,
			want: "OK OK FAIL SKIP SKIP SKIP SKIP SKIP OK", class: failure.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Doctor{
				Host: tt.host,
				SSHG: func(context.Context, string) (sshconfig.Result, error) {
					return sshconfig.Result{Config: tt.cfg, Applied: []sshconfig.Applied{{File: "/root/.ssh/config", Line: 1, Pattern: "*"}}}, tt.sshErr
				},
				SystemConfig: tt.sys,
				ParseHelper:  helperArgs,
				Road: route.Road{
					Resolver: lookup.Resolver{Search: libvirturi.Search{Euid: 1000}},
					Dialer:   dial.Dialer{VSock: vsockErr(tt.vsock)},
				},
			}
			checks := d.Run(context.Background())
			var got []string
			var report strings.Builder
			for _, c := range checks {
				got = append(got, string(c.Status))
				report.WriteString(c.String() + "\n")
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("statuses %q, want %q\n%s", strings.Join(got, " "), tt.want, report.String())
			}
			err := Failed(checks)
			if tt.class == 0 && err != nil || tt.class != 0 && failure.ClassOf(err) != tt.class {
				t.Errorf("Failed = %v (class %d), want class %d\n%s", err, failure.ClassOf(err), tt.class, report.String())
			}
			for _, s := range tt.text {
				if !strings.Contains(report.String(), s) {
					t.Errorf("report lacks %q:\n%s", s, report.String())
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(report.String(), s) {
					t.Errorf("report has %q:\n%s", s, report.String())
				}
			}
		})
	}
}

// fdConn is a connected net.Conn with a descriptor, as dial needs one: a
// unix socketpair end.
type fdConn struct{ net.Conn }

func (c *fdConn) File() (*os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, err
	}
	syscall.Close(fds[1])
	return os.NewFile(uintptr(fds[0]), "pair"), nil
}

// The IP fallback line: listed (never dialed) only after the vsock failures
// the helper falls back after (the road's rule, with the ProxyCommand's and
// doctor's --no-ip-fallback), and only when the fallback is on. The road
// tells doctor the candidates (route.Observer) exactly when FallsBack.
func TestCheckFallback(t *testing.T) {
	dom := target.Target{Network: target.VSock, CID: 42, Port: 22, Domain: &target.Domain{Name: "web01"}}
	some := func(_ context.Context, t target.Target, dir string) target.Target {
		t.Network, t.Addrs = target.TCP, []target.Address{{IP: netip.MustParseAddr("192.0.2.5"), Source: "libvirt lease " + dir}}
		return t
	}
	none := func(_ context.Context, t target.Target, _ string) target.Target {
		t.Network, t.Addrs = target.TCP, []target.Address{}
		return t
	}
	refused := failure.New(failure.NotListening, "nothing listening")
	tests := []struct {
		name  string
		t     target.Target
		err   error
		h     Helper
		addrs func(context.Context, target.Target, string) target.Target
		want  string // "" = no line
	}{
		{"refused vsock port", dom, refused, Helper{LeaseDir: "/l"}, some, "OK    IP fallback to port 22 (listed, not dialed): the helper tries 192.0.2.5 (libvirt lease /l)"},
		{"no vsock device", target.Target{Port: 22, Domain: dom.Domain}, failure.New(failure.NoVsock, "x"), Helper{}, some, "OK    IP fallback"},
		{"no CID, no address", target.Target{Port: 22, Domain: dom.Domain}, failure.New(failure.NoCID, "x"), Helper{}, none, `FAIL  IP fallback to port 22 (listed, not dialed): found no IP address for "web01"`},
		{"ProxyCommand has --no-ip-fallback", dom, refused, Helper{NoIPFallback: true}, some, ""},
		{"doctor has --no-ip-fallback", dom, refused, Helper{}, nil, ""},
		{"no CID holder: no fallback", dom, failure.New(failure.NoTarget, "x"), Helper{}, some, ""},
		{"vsock timeout: no fallback", dom, failure.New(failure.NotReady, "x"), Helper{}, some, ""},
		{"not a domain", target.Target{Network: target.Unix, Path: "/x"}, refused, Helper{}, some, ""},
		{"vsock worked", dom, nil, Helper{}, some, ""},
	}
	for _, tt := range tests {
		d := Doctor{Road: route.Road{NoIPFallback: tt.addrs == nil}}
		var got []Check
		spec := host.Spec{Kind: host.Domain, Domain: "web01"}
		if r := d.road(tt.h, spec); tt.err != nil && r.FallsBack(tt.t, tt.err) {
			got = append(got, fallbackCheck(tt.addrs(context.Background(), tt.t, r.LeaseDir), tt.err))
		}
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: got %q, want no line", tt.name, got[0])
		case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0].String(), tt.want)):
			t.Errorf("%s: got %q, want a line starting %q", tt.name, got, tt.want)
		case tt.want != "" && got[0].Status == Fail && failure.ClassOf(got[0].Err) != failure.ClassOf(tt.err):
			t.Errorf("%s: class %d, want vsock's %d", tt.name, failure.ClassOf(got[0].Err), failure.ClassOf(tt.err))
		}
	}
}

// TestPlainNamesHint: for a plain name ssh does not run the helper for,
// the hint gives the link that turns plain names on, from this helper's
// prefix; a link already there that dangles (the package's path after make
// install, the README's trap) is named with the command that repoints it;
// a link that works sends the reader to the plain-name line instead.
func TestPlainNamesHint(t *testing.T) {
	root := t.TempDir()
	self := filepath.Join(root, "usr/local/bin/libvirt-ssh-proxy")
	conf := filepath.Join(root, "usr/local/share/libvirt-ssh-proxy/plain-names.conf")
	sys := filepath.Join(root, "etc/ssh/ssh_config")
	link := filepath.Join(root, "etc/ssh/ssh_config.d", PlainDropIn)
	for _, f := range []string{self, conf, sys} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target, want string
	}{
		{"no link", "", "or turn plain names on: ln -s " + conf + " " + link + " (man libvirt-ssh-proxy, Plain names)"},
		{"dangling link", "/usr/share/libvirt-ssh-proxy/plain-names.conf", "or turn plain names on: " + link +
			" links to /usr/share/libvirt-ssh-proxy/plain-names.conf, which does not exist, so ssh skips it: ln -sfn " + conf + " " + link + " (man libvirt-ssh-proxy, Plain names)"},
		{"working link", conf, "plain names are on (" + link + "): the plain name line below says why none of their rules takes it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(link)
			if tt.target != "" {
				if err := os.Symlink(tt.target, link); err != nil {
					t.Fatal(err)
				}
			}
			d := &Doctor{Self: self, SystemConfig: sys}
			if got := d.plainNamesHint(); got != tt.want {
				t.Errorf("hint:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestFailed: the verdict is the first failure's class, counts the
// failures and names the first without its hint (the report printed it).
func TestFailed(t *testing.T) {
	notRunning := failure.Wrap(failure.NotRunning, errors.New("shut off"), "domain %q", "web01").WithHint("virsh start web01")
	notListening := failure.New(failure.NotListening, "nothing listens on port 22")
	tests := []struct {
		checks []Check
		want   string
		class  failure.Class
	}{
		{[]Check{{Status: OK}, {Status: Skip}}, "", 0},
		{[]Check{{Status: OK}, {Status: Fail, Err: notRunning}, {Status: Fail, Err: notListening}}, `2 of 3 checks failed; the first: domain "web01": shut off`, failure.NotRunning},
		{[]Check{{Status: Fail, Err: errors.New("boom")}}, "1 of 1 checks failed; the first: boom", failure.Internal},
	}
	for _, tt := range tests {
		err := Failed(tt.checks)
		if tt.want == "" {
			if err != nil {
				t.Errorf("Failed = %v, want nil", err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want || failure.ClassOf(err) != tt.class {
			t.Errorf("Failed = %v (class %v), want %q (class %v)", err, failure.ClassOf(err), tt.want, tt.class)
		}
	}
}

//go:build integration

package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
)

// remoteURIEnv is a private libvirtd that also listens on TCP loopback, so
// that URIs with a host (test+tcp://127.0.0.1:PORT/...) reach a real daemon
// without leaving the machine; a fake ssh first on PATH that records its
// arguments; and a lease file giving the vsock-less domain an address on
// loopback where a listener counts connections.
type remoteURIEnv struct {
	d        *Libvirtd
	fakeBin  string // holds the fake ssh
	argvFile string // where it writes its arguments, one a line
	leaseDir string
	port     string // the guest port asked for, and the counting listener's
	counted  *atomic.Int32
}

const remoteLeaseMAC = "52:54:00:1f:00:77"

func newRemoteURIEnv(t *testing.T) *remoteURIEnv {
	t.Helper()
	needHelper(t)
	requireBins(t, "libvirtd", "virsh")
	e := &remoteURIEnv{
		d: StartLibvirtdTCP(t, HostXML(
			Domain{Name: "vm", UUID: vmUUID, CID: 42},
			Domain{Name: "legacy", NICs: []NIC{{remoteLeaseMAC, "nosuch"}}},
		)),
		counted: &atomic.Int32{},
	}
	// The URI with a host is real: virsh reaches the domain through it.
	if out := e.d.Virsh(t, "-c", e.d.TCPURI(), "domid", "vm"); out != "1" {
		t.Fatalf("virsh over %s: domid vm = %q", e.d.TCPURI(), out)
	}
	dir := shortTempDir(t)
	e.fakeBin, e.argvFile = recordingSSH(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.77:0")
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, ln, func(c net.Conn) {
		e.counted.Add(1)
		c.Close()
	})
	e.port = fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	e.leaseDir = shortTempDir(t)
	writeFile(t, filepath.Join(e.leaseDir, "virbr7.status"),
		`[{"ip-address":"127.0.0.77","mac-address":"`+remoteLeaseMAC+`","hostname":"legacy"}]`, 0o644)
	return e
}

// run runs the helper under nofsock -k, where creating any AF_VSOCK socket
// kills it, with the fake ssh first on PATH, and returns how it ended and
// the fake ssh's arguments (nil when it did not run).
func (e *remoteURIEnv) run(t *testing.T, env []string, args ...string) (Result, []string) {
	t.Helper()
	cmd := execCmd(nofsockBin, append([]string{"-k", "--", helperBin}, args...)...)
	cmd.Env = append(append(os.Environ(), "PATH="+e.fakeBin+":"+os.Getenv("PATH")), env...)
	r, argv := runRecorded(t, cmd, e.argvFile)
	r.Args = append(append([]string{}, env...), append([]string{"libvirt-ssh-proxy"}, args...)...)
	return r, argv
}

// recordingSSH makes a directory bin in dir with a fake ssh that writes its
// arguments, one a line, to argvFile (in dir too).
func recordingSSH(t *testing.T, dir string) (bin, argvFile string) {
	t.Helper()
	bin, argvFile = filepath.Join(dir, "bin"), filepath.Join(dir, "ssh-argv")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bin, "ssh"), "#!/bin/sh\nprintf '%s\\n' \"$@\" > "+shquote.Quote(argvFile)+"\n", 0o755)
	return bin, argvFile
}

// runRecorded runs cmd, a helper under nofsock -k with recordingSSH's ssh
// first on its PATH, and returns how it ended and the fake ssh's arguments
// (nil when it did not run). argvFile is emptied first, not removed: a
// helper running as another user may write it but not create it.
func runRecorded(t *testing.T, cmd *exec.Cmd, argvFile string) (Result, []string) {
	t.Helper()
	writeFile(t, argvFile, "", 0o666)
	if err := os.Chmod(argvFile, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	r := runCmd(t, helperLimit, cmd)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the helper was killed by %v: it created an AF_VSOCK socket: %s", ws.Signal(), r)
	}
	b, _ := os.ReadFile(argvFile)
	if len(b) == 0 {
		return r, nil
	}
	return r, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestRemoteURI: a --connect URI with a host (or LIBVIRT_SSH_PROXY_CONNECT's)
// is never resolved here and dialed here: the ProxyCommand form runs ssh to
// that host, with the URI's user and port, and the helper there on the same
// daemon as seen from there. No AF_VSOCK socket is created (nofsock -k would
// kill the helper) and no lease address is dialed for a domain found there.
func TestRemoteURI(t *testing.T) {
	e := newRemoteURIEnv(t)
	tcp := e.d.TCPURI()
	there := "test:///" + strings.TrimPrefix(e.d.HostXML, "/")
	cases := []struct {
		name string
		env  []string
		args []string
		want []string // the fake ssh's arguments after "ssh"
	}{
		{"test+tcp", nil, []string{"--relay", "-c", tcp, "qemu/vm", "22"},
			[]string{"-oRequestTTY=no", "--", "127.0.0.1", helperBin, "--relay", "--connect", there, "qemu/vm", "22"}},
		{"LIBVIRT_SSH_PROXY_CONNECT", []string{"LIBVIRT_SSH_PROXY_CONNECT=" + tcp}, []string{"--relay", "qemu/vm", "2222"},
			[]string{"-oRequestTTY=no", "--", "127.0.0.1", helperBin, "--relay", "--connect", there, "qemu/vm", "2222"}},
		{"qemu+tcp", nil, []string{"--relay", "-c", fmt.Sprintf("qemu+tcp://127.0.0.1:%d/system", e.d.TCPPort), "qemu:session/web 01", "22"},
			[]string{"-oRequestTTY=no", "--", "127.0.0.1", helperBin, "--relay", "--connect", "qemu:///system", "'qemu/web 01'", "22"}},
		{"qemu+ssh with user and port", nil, []string{"--relay", "-c", "qemu+ssh://alice@localhost:2222/session", "qemu/vm", "22"},
			[]string{"-oUser=alice", "-oPort=2222", "-oRequestTTY=no", "--", "localhost", helperBin, "--relay", "--connect", "qemu:///session", "qemu/vm", "22"}},
		{"qemu:// with a host", nil, []string{"--relay", "-c", "qemu://localhost/system", "qemu/vm", "22"},
			[]string{"-oRequestTTY=no", "--", "localhost", helperBin, "--relay", "--connect", "qemu:///system", "qemu/vm", "22"}},
		{"no vsock: no lease read here", nil, []string{"--relay", "--lease-dir", e.leaseDir, "-c", tcp, "qemu/legacy", e.port},
			[]string{"-oRequestTTY=no", "--", "127.0.0.1", helperBin, "--relay", "--connect", there, "qemu/legacy", e.port}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, argv := e.run(t, c.env, c.args...)
			if r.Code != 0 || strings.Join(argv, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("want ssh run with %q and exit 0, got ssh %q: %s", c.want, argv, r)
			}
		})
	}
	if n := e.counted.Load(); n != 0 {
		t.Errorf("the lease address of a domain found on another host was dialed %d times", n)
	}

	refused := []struct {
		name string
		args []string
		msg  []string
	}{
		{"mixed with a local URI", []string{"-c", e.d.URI(), "-c", tcp, "qemu/vm", "22"}, []string{"mixes a daemon on host 127.0.0.1", "--connect " + tcp + " alone"}},
		{"mixed, remote first", []string{"-c", tcp, "-c", e.d.URI(), "qemu/vm", "22"}, []string{"a name must mean one VM"}},
		{"mixed, system URI", []string{"-c", "qemu+ssh://hv1/system", "-c", e.d.URI(), "qemu/vm", "22"}, []string{"HV/FORM: ssh hv1/qemu:system/vm"}},
		{"+ext", []string{"-c", "qemu+ext://hv1/system", "qemu/vm", "22"}, []string{`transport "ext"`}},
		{"resolve", []string{"resolve", "-c", tcp, "qemu/vm"}, []string{"URI on host 127.0.0.1, which only the ProxyCommand form reaches", "run this on 127.0.0.1 with --connect " + there}},
		{"list", []string{"list", "-c", tcp}, []string{"only the ProxyCommand form reaches"}},
		{"ssh-config", []string{"ssh-config", "-c", tcp}, []string{"only the ProxyCommand form reaches"}},
		{"ssh-config HOST", []string{"ssh-config", "-c", tcp, "qemu/vm"}, []string{"only the ProxyCommand form reaches"}},
		{"complete-hosts", []string{"complete-hosts", "-c", tcp, "qemu/"}, []string{"only the ProxyCommand form reaches"}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			r, argv := e.run(t, nil, c.args...)
			expectExit(t, r, 2, c.msg...)
			if argv != nil {
				t.Errorf("ssh ran: %q", argv)
			}
		})
	}
	t.Run("doctor", func(t *testing.T) {
		r, _ := e.run(t, nil, "doctor", "-F", "/dev/null", "--system-config", "/dev/null", "-c", tcp, "qemu/vm")
		if !strings.Contains(r.Stdout, "FAIL  libvirt daemon answers: ") || !strings.Contains(r.Stdout, "only the ProxyCommand form reaches") {
			t.Errorf("want doctor to say it does not reach through: %s", r)
		}
	})
}

// TestRemoteURIRealSSH: the whole road with real ssh: a test+ssh:// URI
// naming hv1's sshd on loopback (port and all) and the daemon's socket
// there; the helper there (under the guard) finds the domain and fails at
// its vsock step, and that failure comes back through ssh.
func TestRemoteURIRealSSH(t *testing.T) {
	r := startRemoteRig(t)
	d := StartLibvirtd(t, HostXML(Domain{Name: "vm", CID: 42}))
	uri := fmt.Sprintf("test+ssh://%s@127.0.0.42:%d%s?socket=%s", r.guest.User, r.hvPort, d.HostXML, d.Sock)
	res := runHelper(t, "-F", r.cfg, "--remote-command", r.wrapper, "--relay", "-c", uri, "qemu/vm", "22")
	if res.Code != 13 || !strings.Contains(res.Stderr, "no VM holds vsock CID 42") || !strings.Contains(res.Stderr, "hypervisor 127.0.0.42") {
		t.Errorf("want the helper on 127.0.0.42 to find vm and fail at vsock (exit 13 here): %s", res)
	}
}

// TestRemoteURIAlias: a libvirt.conf alias for a URI with a host gets the
// same rule as the URI itself, from --connect or LIBVIRT_SSH_PROXY_CONNECT:
// the ProxyCommand form runs ssh to that host (under nofsock -k: no AF_VSOCK
// socket), and resolve is refused with exit 2. The helper runs as nobody,
// whose aliases come from $XDG_CONFIG_HOME/libvirt/libvirt.conf (root's
// from /etc, which the test leaves alone).
func TestRemoteURIAlias(t *testing.T) {
	guard, helper := asNobody(t)
	dir := filepath.Dir(guard)
	bin, argvFile := recordingSSH(t, dir)
	conf := filepath.Join(dir, "libvirt", "libvirt.conf")
	if err := os.Mkdir(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, conf, `uri_aliases = [ "hv=qemu+ssh://alice@hv1:2222/system" ]`+"\n", 0o644)
	run := func(env []string, args ...string) (Result, []string) {
		t.Helper()
		cmd := execCmd(guard, append([]string{"-k", "--", helper}, args...)...)
		cmd.Env = append(append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+dir, "HOME="+dir, "LIBVIRT_SSH_PROXY_CONNECT="), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return runRecorded(t, cmd, argvFile)
	}
	want := []string{"-oUser=alice", "-oPort=2222", "-oRequestTTY=no", "--", "hv1", helper, "--relay", "--connect", "qemu:///system", "qemu/vm", "22"}
	for _, c := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--connect alias", nil, []string{"--relay", "-c", "hv", "qemu/vm", "22"}},
		{"LIBVIRT_SSH_PROXY_CONNECT alias", []string{"LIBVIRT_SSH_PROXY_CONNECT=hv"}, []string{"--relay", "qemu/vm", "22"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, argv := run(c.env, c.args...)
			if r.Code != 0 || strings.Join(argv, "\n") != strings.Join(want, "\n") {
				t.Errorf("want ssh run with %q and exit 0, got ssh %q: %s", want, argv, r)
			}
		})
	}
	t.Run("-v shows the ssh command line to copy", func(t *testing.T) {
		cfg := filepath.Join(dir, "my ssh config")
		r, _ := run(nil, "-v", "-F", cfg, "--relay", "-c", "hv", "qemu/vm", "22")
		line := "libvirt-ssh-proxy: qemu/vm: running " + shquote.Join(append([]string{"ssh", "-F", cfg}, want...)...) + "\n"
		if r.Code != 0 || !strings.Contains(r.Stderr, line) {
			t.Errorf("want exit 0 and %q on stderr, got %s", line, r)
		}
	})
	t.Run("resolve", func(t *testing.T) {
		r, argv := run(nil, "resolve", "-c", "hv", "qemu/vm")
		expectExit(t, r, 2, "URI on host hv1, which only the ProxyCommand form reaches")
		if argv != nil {
			t.Errorf("ssh ran: %q", argv)
		}
	})
}

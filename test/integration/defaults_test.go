//go:build integration

package integration

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
)

// SessionStandIn listens on the socket name in dir as a session daemon for
// the helper's default URIs: it relays to the private libvirtd d and opens
// d's host file where the helper asks for qemu:///session, which d (no QEMU
// driver) would refuse.
func SessionStandIn(t testing.TB, dir, name string, d *Libvirtd) string {
	t.Helper()
	return Relay(t, dir, name, d.Sock, func(msg []byte) []byte {
		if binary.BigEndian.Uint32(msg[8:12]) != procConnectOpen {
			return msg
		}
		dec := libvirtrpc.NewDecoder(msg[24:]) // after the RPC header
		uri, _ := dec.OptString()
		flags := dec.Uint32()
		if dec.Finish() != nil || uri != "qemu:///session" {
			return msg // d refuses it, and the test says so
		}
		var e libvirtrpc.Encoder
		e.OptString("test://" + d.HostXML)
		e.Uint32(flags)
		return append(msg[:24:24], e.Bytes()...)
	})
}

// TestDefaultURIsHungSystem: a non-root user's qemu/NAME searches libvirt's
// default URIs, qemu:///system then qemu:///session. With the system
// daemon's socket hung (it accepts and never answers), the domain is still
// found on the session daemon within --timeout; -v names the hung socket,
// and so does the failure when no daemon has the domain. list prints the
// session's domains and names the hung socket.
//
// The helper runs as nobody, under the guard, chrooted into a directory
// whose /run/libvirt/virtqemud-sock-ro (the system socket libvirt's client
// tries first) is the hung one and whose /run/user/65534/libvirt holds the
// session daemon: the host's own /run/libvirt is never touched.
func TestDefaultURIsHungSystem(t *testing.T) {
	guard, helper := asNobody(t) // root too: the chroot needs it
	root := filepath.Dir(guard)
	d := StartLibvirtd(t, HostXML(sessionDomains...))
	sysDir := filepath.Join(root, "run", "libvirt")
	sessDir := filepath.Join(root, "run", "user", "65534", "libvirt")
	for _, dir := range []string{sysDir, sessDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The listener stays on the socket renamed to the system daemon's name.
	hung := filepath.Join(sysDir, "virtqemud-sock-ro")
	if err := os.Rename(HungDaemon(t, sysDir), hung); err != nil {
		t.Fatal(err)
	}
	sess := SessionStandIn(t, sessDir, "virtqemud-sock", d)
	for _, s := range []string{hung, sess} {
		if err := os.Chmod(s, 0o777); err != nil { // nobody must connect
			t.Fatal(err)
		}
	}
	const hungName = "/run/libvirt/virtqemud-sock-ro" // as the chrooted helper sees it
	run := func(args ...string) Result {
		t.Helper()
		cmd := exec.Command("/"+filepath.Base(guard), append([]string{"--", "/" + filepath.Base(helper)}, args...)...)
		cmd.Dir = "/"
		cmd.Env = []string{"XDG_RUNTIME_DIR=/run/user/65534", "HOME=/nonexistent", "PATH=/"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		return runCmd(t, helperLimit, cmd)
	}
	const timeout = 2 * time.Second
	t.Run("resolve finds the session domain", func(t *testing.T) {
		r := run("-v", "--timeout", "2", "resolve", "--json", "qemu/vm")
		var v struct {
			URI string `json:"uri"`
			CID int    `json:"cid"`
		}
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.URI != "qemu:///session" || v.CID != 501 {
			t.Errorf("want vm found on qemu:///session with CID 501: %s", r)
		}
		if want := `found "vm" on qemu:///session after qemu:///system did not answer on ` + hungName + "\n"; !strings.Contains(r.Stderr, want) {
			t.Errorf("-v does not say %q: %s", want, r)
		}
		if r.Elapsed > timeout+timeoutSlack {
			t.Errorf("took %v, want within --timeout %v + %v", r.Elapsed, timeout, timeoutSlack)
		}
	})
	t.Run("the ProxyCommand form reaches the session domain", func(t *testing.T) {
		r := run("-v", "--timeout", "2", "qemu/sessvm", "22")
		// The guard stops the vsock connect: exit 11 with the session's CID.
		if r.Code != 11 || !strings.Contains(r.Stderr, "CID 500") || !strings.Contains(r.Stderr, "did not answer on "+hungName+"\n") {
			t.Errorf("want exit 11 for CID 500 and the hung socket named in -v: %s", r)
		}
		if r.Elapsed > timeout+timeoutSlack {
			t.Errorf("took %v, want within --timeout %v + %v", r.Elapsed, timeout, timeoutSlack)
		}
	})
	t.Run("not found: the hung daemon is blamed", func(t *testing.T) {
		r := run("--timeout", "2", "qemu/nosuch", "22")
		expectExit(t, r, 9, "timed out waiting for the libvirt daemon at "+hungName, "qemu:///session: not found")
	})
	t.Run("list prints the session's domains", func(t *testing.T) {
		r := run("--timeout", "2", "list")
		if r.Code != 9 || !strings.Contains(r.Stdout, "sessvm") || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, hungName) {
			t.Errorf("want exit 9, the session's table and one line naming the hung socket: %s", r)
		}
	})
}

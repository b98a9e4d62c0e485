//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"
)

// TestNofsockSelftest proves the guard itself: under it socket(AF_VSOCK) and
// socketpair(AF_VSOCK) fail with ENODEV on two OS threads (TSYNC),
// io_uring_setup with ENOSYS, AF_UNIX still works. Nothing is connected.
func TestNofsockSelftest(t *testing.T) {
	r := runCmd(t, helperLimit, guardedSelftest())
	if r.Code != 0 || !strings.Contains(r.Stdout, "nofsock selftest: OK") {
		t.Fatalf("nofsock --selftest: %s", r)
	}
	t.Log(strings.TrimSpace(r.Stdout))
	// Fail closed: without a program there is nothing to run, exit 126.
	if r := runCmd(t, helperLimit, execCmd(nofsockBin)); r.Code != 126 {
		t.Errorf("nofsock without PROG: want exit 126, got %s", r)
	}
	// The filter is inherited across exec: a shell under the guard sees it.
	r = runCmd(t, helperLimit, guarded(context.Background(), "sh", "-c", "grep -E '^Seccomp(_filters)?:' /proc/self/status"))
	if r.Code != 0 || !strings.Contains(r.Stdout, "Seccomp:\t2") {
		t.Errorf("child of nofsock not in seccomp filter mode: %s", r)
	}
}

// TestFixtureLibvirtd checks the private libvirtd fixture with virsh alone.
func TestFixtureLibvirtd(t *testing.T) {
	requireBins(t, "libvirtd", "virsh")
	d := StartLibvirtd(t, HostXML(
		Domain{Name: "a", CID: 42},
		Domain{Name: "b", Stopped: true, CID: 43},
	))
	out := d.Virsh(t, "list", "--all", "--name")
	if got := strings.Fields(out); strings.Join(got, ",") != "a,b" {
		t.Errorf("virsh list --all --name: got %q", out)
	}
	if id := d.Virsh(t, "domid", "a"); id != "1" {
		t.Errorf("virsh domid a: got %q", id)
	}
	if st := d.Virsh(t, "domstate", "b"); st != "shut off" {
		t.Errorf("virsh domstate b: got %q", st)
	}
}

// TestFixtureSSHD checks the sshd fixture without the product: ssh with a
// socat ProxyCommand to the socket.
func TestFixtureSSHD(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen", "socat")
	s := StartSSHD(t)
	r := runCmd(t, sshLimit, s.Cmd(context.Background(), "ssh",
		"-o", "ProxyCommand=socat - UNIX-CONNECT:"+s.Sock, "fixture-host", "echo", "hello"))
	if r.Code != 0 || r.Stdout != "hello\n" {
		t.Fatalf("ssh through socat to the fixture sshd: %s", r)
	}
}

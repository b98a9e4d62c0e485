//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
)

// remoteRig is a guest on "another hypervisor": hv1 is an sshd on loopback
// TCP whose logins run the helper (under the nofsock guard, through a
// wrapper script given as --remote-command); the guest is an sshd on a unix
// socket that hv1's helper reaches as unix/PATH. ssh -> helper -> ssh ->
// helper -> guest sshd.
type remoteRig struct {
	guest, hv *SSHD
	cfg       string
	hvPort    int    // hv1's sshd on 127.0.0.42
	wrapper   string // the --remote-command: the helper under the guard
}

func startRemoteRig(t *testing.T) *remoteRig {
	t.Helper()
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	r := &remoteRig{guest: StartSSHD(t), hv: StartSSHD(t)}
	const ip = "127.0.0.42"
	port := r.hv.ListenTCP(t, ip)
	dir := shortTempDir(t)
	wrapper := filepath.Join(dir, "remote-helper")
	r.hvPort, r.wrapper = port, wrapper
	writeFile(t, wrapper, fmt.Sprintf("#!/bin/sh\nexec %s -- %s \"$@\"\n", shquote.Quote(nofsockBin), shquote.Quote(helperBin)), 0o755)
	r.cfg = filepath.Join(dir, "ssh_config")
	writeFile(t, r.cfg, fmt.Sprintf(`# Written by TestRemote: hv1 is a hypervisor on loopback TCP.
Host hv1
	HostName %[1]s
	Port %[2]d
Host hv1/* hv1%%*
	ProxyCommand %[3]s -F %[4]s --remote-command %[5]s '%%n' %%p
	ProxyUseFdpass yes
	CheckHostIP no
Match all
	IdentityFile %[6]s/id_ed25519
	Include %[7]s
`, ip, port, helperBin, r.cfg, wrapper, r.hv.Dir, r.guest.ClientConfig), 0o644)
	return r
}

// expectGone fails t unless every process whose command line holds marker
// has ended within 10 s (they end on EOF, not at once) after what happened.
func expectGone(t *testing.T, marker, after string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if left = marked(marker); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("processes left after %s:\n%s", after, strings.Join(left, "\n"))
	}
}

// marked lists the live processes whose command line holds marker.
func marked(marker string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(marker)) {
			out = append(out, fmt.Sprintf("%d: %q", p, bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// TestRemote: ssh user@hv1/unix/PATH and user@hv1%unix%PATH reach the guest
// through hv1, with fd passing and relaying; once ssh exits, no inner ssh,
// remote shell or helper is left (polled for up to 10 s: they end on EOF).
func TestRemote(t *testing.T) {
	r := startRemoteRig(t)
	hosts := []string{"hv1/" + r.guest.HostSlash(), "hv1%" + r.guest.HostPercent(), "hv1%" + r.guest.HostDeep()}
	for _, m := range sshModes {
		for _, h := range hosts {
			// Not parallel: the subtests share known_hosts.
			t.Run(m.name+"/"+h, func(t *testing.T) {
				args := append([]string{"-F", r.cfg}, m.opts...)
				args = append(args, r.guest.User+"@"+h, "echo", "hello", "via", "hv1")
				res := runCmd(t, sshLimit, guarded(context.Background(), "ssh", args...))
				// A clean session ends quietly: no line from any helper.
				if res.Code != 0 || res.Stdout != "hello via hv1\n" || res.Stderr != "" {
					t.Fatalf("ssh: %s", res)
				}
				// Every process of the chain names the guest's socket.
				expectGone(t, r.guest.Sock, "ssh exited")
			})
		}
	}
}

// TestRemoteKilled: while a session runs, the chain's processes exist (the
// scan sees them); when the outer ssh is killed outright, they all end.
func TestRemoteKilled(t *testing.T) {
	r := startRemoteRig(t)
	for _, m := range sshModes {
		t.Run(m.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), sshLimit)
			defer cancel()
			args := append([]string{"-F", r.cfg}, m.opts...)
			args = append(args, r.guest.User+"@hv1/"+r.guest.HostSlash(), "echo ready; exec sleep 60")
			cmd := guarded(ctx, "ssh", args...)
			startReady(t, cmd)
			if len(marked(r.guest.Sock)) == 0 {
				t.Fatal("no process of the chain found during the session: the scan cannot see them")
			}
			cmd.Process.Kill()
			cmd.Wait()
			expectGone(t, r.guest.Sock, "ssh was killed")
		})
	}
}

// TestRemoteUnreachable: a hypervisor that cannot be reached fails in both modes
// with the helper's exit code for a lost relay (13) or ssh's own message.
func TestRemoteUnreachable(t *testing.T) {
	r := startRemoteRig(t)
	// No such guest socket on hv1: the remote helper fails, the inner ssh
	// exits non-zero, and the outer ssh reports the remote helper's line.
	res := runCmd(t, sshLimit, guarded(context.Background(), "ssh", "-F", r.cfg, "-o", "ProxyUseFdpass=no",
		r.guest.User+"@hv1/unix/"+r.guest.Dir+"/nothing.sock", "true"))
	if res.Code == 0 || !strings.Contains(res.Stderr, "nothing.sock") {
		t.Errorf("want a failure naming the missing socket: %s", res)
	}
	// Directly: the helper in relay mode maps the inner ssh's failure to 13.
	h := runHelper(t, "-F", r.cfg, "--relay", "--remote-command", "/nonexistent/helper", "hv1/unix/x", "22")
	if h.Code != 13 || !strings.Contains(h.Stderr, "hypervisor hv1") {
		t.Errorf("want exit 13 naming hv1: %s", h)
	}
}

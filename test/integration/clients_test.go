//go:build integration

package integration

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func init() {
	packages["gcc"] = "gcc"
	packages["pkg-config"] = "pkg-config"
}

// libsshClient is a libssh client: it runs its first argument as the
// ProxyCommand (libssh hands it one AF_UNIX socketpair end as stdin and
// stdout, ssh's ProxyUseFdpass shape), does the key exchange, and prints
// the server's banner.
const libsshClient = `#include <libssh/libssh.h>
#include <stdio.h>
int main(int argc, char **argv) {
	ssh_session s = ssh_new();
	int no = 0;
	if (argc != 2 || s == NULL) return 2;
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s, SSH_OPTIONS_HOST, "guest");
	ssh_options_set(s, SSH_OPTIONS_PROXYCOMMAND, argv[1]);
	if (ssh_connect(s) != SSH_OK) {
		fprintf(stderr, "ssh_connect: %s\n", ssh_get_error(s));
		return 1;
	}
	printf("%s\n", ssh_get_serverbanner(s));
	ssh_disconnect(s);
	ssh_free(s);
	return 0;
}
`

// buildLibsshClient compiles libsshClient with gcc against libssh-dev.
func buildLibsshClient(t *testing.T) string {
	t.Helper()
	requireBins(t, "gcc", "pkg-config")
	dir := shortTempDir(t)
	src, bin := filepath.Join(dir, "client.c"), filepath.Join(dir, "libssh-client")
	writeFile(t, src, libsshClient, 0o644)
	flags, err := exec.Command(mustBin(t, "pkg-config"), "--cflags", "--libs", "libssh").Output()
	if err != nil {
		t.Fatalf("pkg-config libssh (apt-get install libssh-dev): %v", err)
	}
	args := append([]string{"-o", bin, src}, strings.Fields(string(flags))...)
	if out, err := exec.Command(mustBin(t, "gcc"), args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %q: %v\n%s", args, err, out)
	}
	return bin
}

// TestOtherClients: clients other than OpenSSH that give their
// ProxyCommand ssh's fd-passing shape (one AF_UNIX socket on stdin and
// stdout) get a relay, not an fd they would read as a NUL byte.
func TestOtherClients(t *testing.T) {
	needHelper(t)
	requireBins(t, "socat")
	s := StartSSHD(t)
	proxy := helperBin + " unix/" + s.Sock + " 22"

	t.Run("socat EXEC", func(t *testing.T) {
		// socat sends its stdin's EOF on as a half-close and prints what
		// it read: the guest's banner, then sshd gives up on the missing
		// client banner.
		cmd := guarded(context.Background(), mustBin(t, "socat"), "-", "EXEC:"+proxy)
		cmd.Stdin = strings.NewReader("")
		r := runCmd(t, sshLimit, cmd)
		if !strings.HasPrefix(r.Stdout, "SSH-2.0-OpenSSH") {
			t.Errorf("want the guest sshd's banner through the helper: %s", r)
		}
	})

	t.Run("libssh", func(t *testing.T) {
		r := runCmd(t, sshLimit, guarded(context.Background(), buildLibsshClient(t), proxy))
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "SSH-2.0-OpenSSH") {
			t.Errorf("libssh client through the helper: %s", r)
		}
	})
}

// TestRelaySIGTERMUnderSSH: ssh never sends its ProxyCommand SIGTERM, so
// under ssh a SIGTERM is someone else ending the session (kill, a
// shutdown): the relay says so on ssh's stderr and exits 13.
func TestRelaySIGTERMUnderSSH(t *testing.T) {
	s := StartSSHD(t)
	ctx, cancel := context.WithTimeout(context.Background(), sshLimit)
	defer cancel()
	cmd := s.Cmd(ctx, "ssh", "-o", "ProxyUseFdpass=no", s.User+"@"+s.HostSlash(), "echo ready; exec sleep 60")
	out, stderr := startOutput(t, cmd)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("session did not start: %q %v; stderr: %s", line, err, stderr.String())
	}
	helpers := helpersUnder(cmd.Process.Pid)
	if len(helpers) != 1 {
		t.Fatalf("want one helper under ssh, got %v", helpers)
	}
	syscall.Kill(helpers[0], syscall.SIGTERM)
	cmd.Wait()
	if want := "libvirt-ssh-proxy: " + s.HostSlash() + ": relay stopped by SIGTERM\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("ssh's stderr lacks %q: %q", want, stderr.String())
	}
}

// paramikoSession is a paramiko client: it runs a session through the
// ProxyCommand argv[1] ("echo hi"), closes it as paramiko does (SIGTERM to
// the ProxyCommand), lets go of the pipes and prints how the ProxyCommand
// ended and what it wrote to stderr.
const paramikoSession = `import os, sys, paramiko
proxy, user, key = sys.argv[1:4]
sock = paramiko.ProxyCommand(proxy)
proc = sock.process
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("guest", username=user, key_filename=key, sock=sock, look_for_keys=False, allow_agent=False)
_, out, _ = c.exec_command("echo hi")
sys.stdout.write(out.read().decode())
c.close()
proc.stdin.close()
proc.stdout.close()
print("exit", proc.wait(timeout=10))
sys.stdout.write(proc.stderr.read().decode())
`

// python3Paramiko finds a python3 that can import paramiko (PATH first,
// then the system one, as python3-paramiko installs there).
func python3Paramiko(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if bin, err := exec.LookPath(p); err == nil && exec.Command(bin, "-c", "import paramiko").Run() == nil {
			return bin
		}
	}
	t.Fatal("no python3 can import paramiko (apt-get install python3-paramiko)")
	return ""
}

// TestParamiko: paramiko relays (it gives its ProxyCommand pipes) and ends
// every session with SIGTERM; that is the client's normal close, so the
// helper ends with exit 0 and says nothing.
func TestParamiko(t *testing.T) {
	needHelper(t)
	s := StartSSHD(t)
	dir := shortTempDir(t)
	script := filepath.Join(dir, "session.py")
	writeFile(t, script, paramikoSession, 0o644)
	proxy := nofsockBin + " -- " + helperBin + " unix/" + s.Sock + " 22"
	r := runCmd(t, sshLimit, exec.Command(python3Paramiko(t), script, proxy, s.User, filepath.Join(s.Dir, "id_ed25519")))
	if r.Code != 0 || r.Stdout != "hi\nexit 0\n" {
		t.Errorf("want the session's output and a quiet exit 0 of the helper: %s", r)
	}
}

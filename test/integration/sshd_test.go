//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SSHD is a private sshd reached through a unix socket the test owns: each
// accepted connection gets its own `sshd -i` with the connection as stdin and
// stdout, as a guest's vsock-activated sshd would.
type SSHD struct {
	Dir  string // keys, configs, logs, the socket
	Sock string // absolute path of the listening unix socket
	// ClientConfig is an ssh_config for `ssh -F`: our key, a private
	// known_hosts, BatchMode, and an Include of the product drop-in with
	// @BINDIR@ pointing at the built helper.
	ClientConfig string
	User         string
	// DropIn is the instantiated copy of config/30-libvirt-ssh-proxy.conf.
	DropIn string

	sshdBin, sshdConfig string // what serve runs per connection
	n                   int    // connections served, for the log names (mu)
	mu                  sync.Mutex
}

// DropIn writes the product's ssh_config drop-in with @BINDIR@ replaced
// by the directory of the built helper, into dir, and returns its path.
func DropIn(t testing.TB, dir string) string {
	t.Helper()
	src := filepath.Join(repoRoot, "config", "30-libvirt-ssh-proxy.conf")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("reading the product drop-in: %v", err)
	}
	if !strings.Contains(string(b), "@BINDIR@") {
		t.Fatalf("%s has no @BINDIR@ to replace:\n%s", src, b)
	}
	out := filepath.Join(dir, "30-libvirt-ssh-proxy.conf")
	writeFile(t, out, strings.ReplaceAll(string(b), "@BINDIR@", binDir), 0o644)
	return out
}

// StartSSHD generates keys and configs in a new short temp dir and listens on
// DIR/sshd.sock until the test ends; every sshd it started is killed then.
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	// sshd -i wants its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("mkdir /run/sshd (sshd needs it): %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := shortTempDir(t)
	s := &SSHD{Dir: dir, Sock: filepath.Join(dir, "sshd.sock"), User: u.Username}
	keygen := mustBin(t, "ssh-keygen")
	for _, k := range []string{"hostkey", "id_ed25519"} {
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", k, "-f", filepath.Join(dir, k)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "id_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "authorized_keys"), string(pub), 0o600)

	sshdConfig := filepath.Join(dir, "sshd_config")
	writeFile(t, sshdConfig, fmt.Sprintf(`HostKey %[1]s/hostkey
AuthorizedKeysFile %[1]s/authorized_keys
StrictModes no
UsePAM no
PidFile none
Subsystem sftp internal-sftp
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PrintMotd no
LogLevel VERBOSE
`, dir), 0o644)
	// Check the config before any connection depends on it.
	sshdBin := mustBin(t, "sshd")
	if out, err := exec.Command(sshdBin, "-t", "-f", sshdConfig).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, out)
	}

	s.DropIn = DropIn(t, dir)
	s.ClientConfig = filepath.Join(dir, "ssh_config")
	writeFile(t, s.ClientConfig, fmt.Sprintf(`# Written by the integration test: everything for any host first, then the drop-in.
User %[2]s
IdentityFile %[1]s/id_ed25519
IdentitiesOnly yes
UserKnownHostsFile %[1]s/known_hosts
GlobalKnownHostsFile /dev/null
StrictHostKeyChecking accept-new
UpdateHostKeys no
BatchMode yes
ControlMaster no
ControlPath none
ConnectTimeout 20
LogLevel ERROR
Include %[3]s
`, dir, u.Username, s.DropIn), 0o644)

	s.sshdBin, s.sshdConfig = sshdBin, sshdConfig
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.Sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	s.serve(t, ln)
	return s
}

// ListenTCP makes the sshd also accept on ip (a loopback address: the
// tests dial nothing else) at a free port, until the test ends, and
// returns the port: a guest's sshd on its network, for the IP fallback.
func (s *SSHD) ListenTCP(t testing.TB, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s.serve(t, ln)
	return ln.Addr().(*net.TCPAddr).Port
}

// serve runs `sshd -i` for each connection ln accepts, with the connection
// as its stdin and stdout, until the test ends; every sshd it started is
// killed then.
func (s *SSHD) serve(t testing.TB, ln net.Listener) {
	var (
		procs []*exec.Cmd
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// A dup: blocking, for sshd's stdin/stdout.
			f, err := c.(interface{ File() (*os.File, error) }).File()
			c.Close()
			if err != nil {
				continue
			}
			s.mu.Lock()
			s.n++
			cmd := exec.Command(s.sshdBin, "-i", "-f", s.sshdConfig, "-e")
			cmd.Stdin, cmd.Stdout = f, f
			logf, lerr := os.Create(filepath.Join(s.Dir, fmt.Sprintf("sshd-%03d.log", s.n)))
			if lerr == nil {
				cmd.Stderr = logf
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			err = cmd.Start()
			f.Close()
			if logf != nil {
				logf.Close()
			}
			if err != nil {
				s.mu.Unlock()
				continue
			}
			procs = append(procs, cmd)
			s.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd.Wait()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range procs {
			c.Process.Kill() // no-op error if it already exited
		}
		s.mu.Unlock()
		wg.Wait()
	})
}

// Host forms of the sshd's socket for ssh: unix/PATH is relative to /, so an
// absolute socket path is written with its leading slash (or without it).
func (s *SSHD) HostSlash() string   { return "unix/" + s.Sock }                          // unix//tmp/lspN/sshd.sock
func (s *SSHD) HostRel() string     { return "unix/" + strings.TrimPrefix(s.Sock, "/") } // unix/tmp/lspN/sshd.sock
func (s *SSHD) HostPercent() string { return "unix%" + s.Sock }                          // unix%/tmp/lspN/sshd.sock

// HostDeep returns unix%%P%A%T%H, the spelling of the socket's absolute
// path with '%' for every '/': scp, sftp and rsync decide "host:path" vs
// local path by looking for a '/' before the first ':' —
// `root@unix%/tmp/x/sock:/f` is a LOCAL file to them, and brackets do not
// help — so their host part must hold no '/' at all.
func (s *SSHD) HostDeep() string {
	return "unix%%" + strings.ReplaceAll(strings.TrimPrefix(s.Sock, "/"), "/", "%")
}

// sshLimit bounds one ssh/scp/sftp/rsync run.
const sshLimit = 60 * time.Second

// Cmd returns a command for an OpenSSH client tool (ssh, scp, sftp) with
// -F ClientConfig, under the nofsock guard (inherited by the ProxyCommand).
func (s *SSHD) Cmd(ctx context.Context, tool string, args ...string) *exec.Cmd {
	return guarded(ctx, tool, append([]string{"-F", s.ClientConfig}, args...)...)
}

// Rsync returns an rsync command whose ssh uses ClientConfig, under the guard.
func (s *SSHD) Rsync(ctx context.Context, args ...string) *exec.Cmd {
	return guarded(ctx, "rsync", append([]string{"-e", "ssh -F " + s.ClientConfig}, args...)...)
}

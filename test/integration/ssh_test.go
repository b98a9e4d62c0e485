//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sshModes are the two ways ssh runs the helper: the drop-in's
// ProxyUseFdpass yes (the helper hands ssh the connected socket and exits),
// and ProxyUseFdpass=no (ssh gives it two pipes and it relays).
var sshModes = []struct {
	name string
	opts []string
	// helpers is how many helper processes run under ssh during a session.
	helpers int
}{
	{"fdpass", nil, 0},
	{"relay", []string{"-o", "ProxyUseFdpass=no"}, 1},
}

// TestSSHConfigG: the drop-in applies to our host forms and to nothing else
// (ssh -G prints the effective configuration, tokens unexpanded).
func TestSSHConfigG(t *testing.T) {
	requireBins(t, "ssh")
	dir := shortTempDir(t)
	cfg := filepath.Join(dir, "ssh_config")
	writeFile(t, cfg, "Include "+DropIn(t, dir)+"\n", 0o644)
	wantPC := "proxycommand " + filepath.Join(binDir, "libvirt-ssh-proxy") + " '%n' %p"
	ours := []string{
		"qemu/x", "qemu/MyVM", "qemu:system/x", "qemu:session/x",
		"qemu%x", "qemu%system%x", "qemu%session%x",
		"vsock/3", "vsock%3", "unix/x", "unix//tmp/x.sock", "unix%x", "unix%/tmp/x.sock", "unix%%tmp%x.sock",
		"vsock-mux/x", "vsock-mux//run/fc/v.sock", "vsock-mux%/run/fc/v.sock",
		"hv1/qemu/x", "hv1/qemu:system/x", "hv1/qemu:session/x", "hv1%qemu%x", "hv1%qemu%system%x",
		"hv1.example.com/qemu/x", "hv1/unix//tmp/x.sock", "hv1%unix%/tmp/x.sock", "hv1/vsock/3", "hv1%vsock-mux%x",
	}
	others := []string{"example.com", "qemu", "myqemu/x", "vsock3", "10.0.0.1", "unixhost", "vsock-mux", "hv1"}
	for _, h := range append(ours, others...) {
		mine := false
		for _, o := range ours {
			mine = mine || o == h
		}
		t.Run(h, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, sshLimit, exec.Command(mustBin(t, "ssh"), "-F", cfg, "-G", h))
			if r.Code != 0 {
				t.Fatalf("ssh -G: %s", r)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(r.Stdout, "\n") {
				lines[l] = true
			}
			if mine {
				for _, want := range []string{wantPC, "proxyusefdpass yes", "checkhostip no"} {
					if !lines[want] {
						t.Errorf("ssh -G %s lacks line %q:\n%s", h, want, grepProxy(r.Stdout))
					}
				}
			} else if strings.Contains(r.Stdout, "libvirt-ssh-proxy") || lines["proxyusefdpass yes"] {
				t.Errorf("ssh -G %s picked up the drop-in:\n%s", h, grepProxy(r.Stdout))
			}
		})
	}
}

func grepProxy(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "proxy") || strings.HasPrefix(l, "checkhostip") || strings.HasPrefix(l, "hostname") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSSHUnix: ssh user@unix/PATH through the drop-in, both modes, every
// spelling of an absolute socket path; during a session, count the helper
// processes under ssh: none with fd passing (it handed over and exited), one
// relaying.
func TestSSHUnix(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen")
	needHelper(t)
	s := StartSSHD(t)
	hosts := []string{s.HostSlash(), s.HostRel(), s.HostPercent(), s.HostDeep()}
	for _, m := range sshModes {
		for _, h := range hosts {
			t.Run(m.name+"/"+h, func(t *testing.T) {
				t.Parallel()
				args := append(append([]string{}, m.opts...), s.User+"@"+h, "echo", "hello", "from", "sshd")
				r := runCmd(t, sshLimit, s.Cmd(context.Background(), "ssh", args...))
				if r.Code != 0 || r.Stdout != "hello from sshd\n" {
					t.Fatalf("ssh: %s", r)
				}
			})
		}
		t.Run(m.name+"/sftp "+s.HostPercent(), func(t *testing.T) {
			// sftp takes a whole argument with a '/' before any ':' as a
			// plain host name, so the absolute unix% form works here (it
			// does not for scp and rsync, see HostDeep).
			t.Parallel()
			cmd := s.Cmd(context.Background(), "sftp", append(append([]string{}, m.opts...), "-b", "-", s.User+"@"+s.HostPercent())...)
			cmd.Stdin = strings.NewReader("ls " + s.Sock + "\n")
			r := runCmd(t, sshLimit, cmd)
			if r.Code != 0 || !strings.Contains(r.Stdout, s.Sock) {
				t.Fatalf("sftp: %s", r)
			}
		})
		t.Run(m.name+"/helper-processes", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), sshLimit)
			defer cancel()
			args := append(append([]string{}, m.opts...), s.User+"@"+s.HostSlash(), "echo ready; exec sleep 60")
			cmd := s.Cmd(ctx, "ssh", args...)
			startReady(t, cmd)
			// nofsock exec'd ssh: cmd's pid is ssh's.
			if n := countHelpersUnder(cmd.Process.Pid); n != m.helpers {
				t.Errorf("%d helper processes under ssh during the session, want %d", n, m.helpers)
			}
		})
	}
}

// countHelpersUnder counts live processes running the built helper that
// descend from pid.
func countHelpersUnder(pid int) int { return len(helpersUnder(pid)) }

// helpersUnder lists the live processes running the built helper that
// descend from pid; pid 0 lists them all.
func helpersUnder(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); exe != helperBin {
			continue
		}
		if pid == 0 || descends(p, pid) {
			pids = append(pids, p)
		}
	}
	return pids
}

// descends reports whether process p is pid or one of its descendants.
func descends(p, pid int) bool {
	for q := p; q > 1; q = ppid(q) {
		if q == pid {
			return true
		}
	}
	return false
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

const bigSize = 100 << 20 // 100 MiB

// bigFile writes size pseudo-random bytes to path and returns their SHA-256.
func bigFile(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{'l', 's', 'p'})
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(rng, size)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileSum returns the SHA-256 and size of a file.
func fileSum(t testing.TB, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// checkSum compares a received copy with the source, then removes the copy
// (eleven 100 MiB files would otherwise sit in /tmp until the test ends).
func checkSum(t testing.TB, path, want string) {
	t.Helper()
	got, n := fileSum(t, path)
	os.Remove(path)
	if n != bigSize || got != want {
		t.Errorf("%s: %d bytes sha256 %s; want %d bytes sha256 %s", filepath.Base(path), n, got, bigSize, want)
	}
}

// TestSSHTransfers: 100 MiB each way with matching SHA-256 through ssh (both
// modes), and through scp, sftp and rsync (the drop-in's fd passing).
func TestSSHTransfers(t *testing.T) {
	requireBins(t, "sshd", "ssh", "ssh-keygen", "scp", "sftp", "rsync")
	needHelper(t)
	s := StartSSHD(t)
	src := filepath.Join(s.Dir, "big.src")
	sum := bigFile(t, src, bigSize)
	host := s.User + "@" + s.HostSlash()

	for _, m := range sshModes {
		t.Run("ssh-"+m.name, func(t *testing.T) {
			t.Parallel()
			ssh := func(stdin io.Reader, stdout io.Writer, command string) Result {
				t.Helper()
				cmd := s.Cmd(context.Background(), "ssh", append(append([]string{}, m.opts...), host, command)...)
				cmd.Stdin, cmd.Stdout = stdin, stdout
				r := runCmd(t, sshLimit, cmd)
				if r.Code != 0 {
					t.Fatalf("ssh %q: %s", command, r)
				}
				t.Logf("ssh %q: %v", command, r.Elapsed.Round(time.Millisecond))
				return r
			}
			// ssh host 'cat > f' < file
			in, err := os.Open(src)
			if err != nil {
				t.Fatal(err)
			}
			up := filepath.Join(s.Dir, "up-"+m.name)
			ssh(in, nil, "cat > "+up)
			in.Close()
			checkSum(t, up, sum)

			// ssh host 'cat f' > file
			down := filepath.Join(s.Dir, "down-"+m.name)
			out, err := os.Create(down)
			if err != nil {
				t.Fatal(err)
			}
			ssh(nil, out, "cat "+src)
			out.Close()
			checkSum(t, down, sum)

			// cat big | ssh host wc -c  (stdin a pipe, not a file)
			pr, pw := io.Pipe()
			go func() {
				f, err := os.Open(src)
				if err != nil {
					pw.CloseWithError(err)
					return
				}
				_, err = io.Copy(pw, f)
				f.Close()
				pw.CloseWithError(err)
			}()
			r := ssh(pr, nil, "wc -c")
			if got := strings.TrimSpace(r.Stdout); got != strconv.Itoa(bigSize) {
				t.Errorf("cat big | ssh host wc -c: got %q, want %d", got, bigSize)
			}
		})
	}

	// scp, sftp and rsync take "host:path" only when no '/' comes before the
	// first ':', so the socket path is spelled with '%' (see HostDeep).
	nohost := s.User + "@" + s.HostDeep()
	tools := []struct {
		name string
		up   func(dst string) *exec.Cmd
		down func(dst string) *exec.Cmd
	}{
		{"scp",
			func(dst string) *exec.Cmd {
				return s.Cmd(context.Background(), "scp", "-q", src, nohost+":"+dst)
			},
			func(dst string) *exec.Cmd {
				return s.Cmd(context.Background(), "scp", "-q", nohost+":"+src, dst)
			}},
		{"sftp",
			func(dst string) *exec.Cmd {
				cmd := s.Cmd(context.Background(), "sftp", "-q", "-b", "-", nohost)
				cmd.Stdin = strings.NewReader("put " + src + " " + dst + "\n")
				return cmd
			},
			func(dst string) *exec.Cmd {
				cmd := s.Cmd(context.Background(), "sftp", "-q", "-b", "-", nohost)
				cmd.Stdin = strings.NewReader("get " + src + " " + dst + "\n")
				return cmd
			}},
		{"rsync",
			func(dst string) *exec.Cmd {
				return s.Rsync(context.Background(), "--whole-file", src, nohost+":"+dst)
			},
			func(dst string) *exec.Cmd {
				return s.Rsync(context.Background(), "--whole-file", nohost+":"+src, dst)
			}},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			t.Parallel()
			for _, dir := range []string{"up", "down"} {
				dst := filepath.Join(s.Dir, tool.name+"-"+dir)
				cmd := tool.up(dst)
				if dir == "down" {
					cmd = tool.down(dst)
				}
				r := runCmd(t, sshLimit, cmd)
				if r.Code != 0 {
					t.Fatalf("%s %s: %s", tool.name, dir, r)
				}
				t.Logf("%s %s: %v", tool.name, dir, r.Elapsed.Round(time.Millisecond))
				checkSum(t, dst, sum)
			}
		})
	}
}

// dropInConnect writes an ssh_config that includes the product drop-in with
// `-c URI` inserted into its ProxyCommands, so qemu forms search the private
// daemon at URI, and returns its path.
func dropInConnect(t *testing.T, uri string) string {
	t.Helper()
	dir := shortTempDir(t)
	cfg := filepath.Join(dir, "ssh_config")
	writeFile(t, cfg, "BatchMode yes\nUserKnownHostsFile /dev/null\nGlobalKnownHostsFile /dev/null\n"+
		"Include "+dropInWith(t, dir, uri)+"\n", 0o644)
	return cfg
}

// TestSSHQemuGuarded: ssh, scp and sftp with qemu host forms reach the helper
// through the drop-in with the name as typed (capitals kept: '%n'), the
// lookup succeeds, and under the guard the vsock step fails: the helper's
// one line (exit 11, the CID) comes out on ssh's stderr. The drop-in's
// ProxyCommand gets `-c URI` inserted so it searches the private daemon.
func TestSSHQemuGuarded(t *testing.T) {
	requireBins(t, "ssh", "scp", "sftp", "libvirtd", "virsh")
	needHelper(t)
	e := newLookupEnv(t)
	cfg := dropInConnect(t, e.sys.URI())
	cases := []struct {
		tool string
		args []string
		cid  string
	}{
		{"ssh", []string{"root@qemu/Dev-Box", "true"}, "55"},
		{"ssh", []string{"qemu:system/vm", "true"}, "42"},
		{"ssh", []string{"-p", "2222", "qemu%web-01", "true"}, "1234"},
		{"ssh", []string{"qemu%system%Dev-Box", "true"}, "55"},
		{"scp", []string{"-q", cfg, "root@qemu%Dev-Box:/tmp/x"}, "55"},
		{"sftp", []string{"-q", "-b", "/dev/null", "qemu%vm"}, "42"},
	}
	for _, c := range cases {
		t.Run(c.tool+" "+strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, sshLimit, guarded(context.Background(), c.tool, append([]string{"-F", cfg}, c.args...)...))
			if r.Code == 0 {
				t.Fatalf("want failure (no vsock under the guard): %s", r)
			}
			var line string
			for _, l := range strings.Split(r.Stderr, "\n") {
				if strings.HasPrefix(l, "libvirt-ssh-proxy: ") {
					line = l
				}
			}
			if line == "" || !strings.Contains(line, c.cid) {
				t.Errorf("want the helper's line naming CID %s on stderr: %s", c.cid, r)
			}
			t.Logf("%s", line)
		})
	}
}

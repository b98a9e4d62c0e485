//go:build integration

package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// libvirt RPC procedure numbers (remote_protocol.x) the interposer acts on,
// and those only tests call.
const (
	procConnectOpen        = 1
	procConnectClose       = 2
	procDomainCreateXML    = 10
	procDomainDestroy      = 12
	procDomainGetXMLDesc   = 14
	procDomainLookupByName = 23
	procAuthList           = 66
	procDomainGetState     = 212
)

// Interposer listens on a unix socket in dir and forwards each connection
// to the real daemon socket upstream, packet by packet. Before it forwards a
// client call whose procedure is proc, it runs hook once: a real daemon can
// then be killed or changed exactly between two calls of the helper.
func Interposer(t testing.TB, dir, upstream string, proc uint32, hook func()) string {
	t.Helper()
	var once sync.Once
	return Relay(t, dir, "interposer-sock", upstream, func(msg []byte) []byte {
		if binary.BigEndian.Uint32(msg[8:12]) == proc {
			once.Do(hook)
		}
		return msg
	})
}

// Relay listens on the unix socket name in dir and forwards each connection
// to the daemon socket upstream, packet by packet, showing each client
// packet to each (without its length word: program, version, procedure,
// ..., then the arguments) and forwarding what each returns in its place.
func Relay(t testing.TB, dir, name, upstream string, each func(msg []byte) []byte) string {
	t.Helper()
	return FakeDaemon(t, dir, name, func(c net.Conn) {
		u, err := net.Dial("unix", upstream)
		if err != nil {
			c.Close()
			return
		}
		defer u.Close()
		go func() {
			io.Copy(c, u)
			c.Close()
		}()
		// Each packet: a 4-byte big-endian length (itself included), then
		// libvirt's 24-byte RPC header and the payload.
		for {
			var w [4]byte
			if _, err := io.ReadFull(c, w[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(w[:])
			if n < 28 || n > 32<<20 {
				return
			}
			msg := make([]byte, n-4)
			if _, err := io.ReadFull(c, msg); err != nil {
				return
			}
			msg = each(msg)
			binary.BigEndian.PutUint32(w[:], uint32(len(msg)+4))
			if _, err := u.Write(append(w[:], msg...)); err != nil {
				return
			}
		}
	})
}

// asNobody copies the guard and the helper where uid 65534 may run them
// (the build dir is private) and returns their paths.
func asNobody(t *testing.T) (guard, helper string) {
	t.Helper()
	needHelper(t)
	requireRoot(t, "to run the helper as another user (nobody)")
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{nofsockBin, helperBin} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, filepath.Base(src)), string(b), 0o755)
	}
	return filepath.Join(dir, filepath.Base(nofsockBin)), filepath.Join(dir, filepath.Base(helperBin))
}

// TestFaultsLibvirt: every way the libvirt side can fail a lookup, each with
// its exit class and message. Real daemons are killed or stopped between two
// calls of the helper by an interposer that forwards the RPC packets.
func TestFaultsLibvirt(t *testing.T) {
	needHelper(t)
	requireBins(t, "libvirtd")
	hostXML := HostXML(Domain{Name: "vm", CID: 42})
	cases := []struct {
		name string
		// setup returns the --connect URI; it may start daemons.
		setup   func(t *testing.T, dir string) string
		nobody  bool
		timeout string
		code    int
		msg     []string
	}{
		{name: "socket absent",
			setup: func(t *testing.T, dir string) string { return URIFor("/h.xml", dir+"/no-sock") },
			code:  3, msg: []string{"cannot reach libvirt (", ": no daemon socket (", "/no-sock)", "(no libvirt daemon socket exists: start virtqemud or libvirtd"}},
		{name: "permission denied (mode 000, run as nobody)", nobody: true,
			setup: func(t *testing.T, dir string) string {
				// A live listener: only the mode stops the connect.
				sock := HungDaemon(t, dir)
				if err := os.Chmod(sock, 0); err != nil {
					t.Fatal(err)
				}
				return URIFor("/h.xml", sock)
			},
			code: 3, msg: []string{"cannot reach libvirt (", "/hung-sock: connect: permission denied)", "(join the libvirt group, or name a socket you may use"}},
		{name: "accepts and never answers", timeout: "1",
			setup: func(t *testing.T, dir string) string { return URIFor("/h.xml", HungDaemon(t, dir)) },
			code:  9, msg: []string{"timed out waiting for the libvirt daemon at ", "/hung-sock: --timeout 1s expired (the daemon did not answer in time"}},
		{name: "reads the first call, then closes",
			setup: func(t *testing.T, dir string) string {
				return URIFor("/h.xml", FakeDaemon(t, dir, "eof-sock", func(c net.Conn) {
					c.Read(make([]byte, 4096))
					c.Close()
				}))
			},
			code: 3, msg: []string{"cannot reach libvirt (", ": open test:///h.xml at ", "/eof-sock: the daemon closed the connection without answering"}},
		{name: "answers garbage",
			setup: func(t *testing.T, dir string) string { return URIFor("/h.xml", GarbageDaemon(t, dir)) },
			code:  3, msg: []string{"cannot reach libvirt (", ": open test:///h.xml at ", "/garbage-sock: the daemon closed the connection without answering"}},
		{name: "real libvirtd killed (SIGKILL) before the lookup call",
			setup: func(t *testing.T, dir string) string {
				d := StartLibvirtd(t, hostXML)
				sock := Interposer(t, dir, d.Sock, procDomainLookupByName, func() {
					d.proc.cmd.Process.Kill()
					<-d.proc.done
				})
				return URIFor(d.HostXML, sock)
			},
			code: 3, msg: []string{"cannot reach libvirt (", "/interposer-sock: lookup: the daemon closed the connection without answering"}},
		{name: "real libvirtd stopped (SIGSTOP) before the lookup call", timeout: "1",
			setup: func(t *testing.T, dir string) string {
				d := StartLibvirtd(t, hostXML)
				p := d.proc.cmd.Process
				t.Cleanup(func() { p.Signal(syscall.SIGCONT) }) // before its stop
				sock := Interposer(t, dir, d.Sock, procDomainLookupByName, func() { p.Signal(syscall.SIGSTOP) })
				return URIFor(d.HostXML, sock)
			},
			code: 9, msg: []string{`timed out looking up "vm" on test+unix://`, "--timeout 1s expired"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := shortTempDir(t)
			if err := os.Chmod(dir, 0o755); err != nil { // nobody must reach the socket
				t.Fatal(err)
			}
			uri := c.setup(t, dir)
			args := []string{"-c", uri, "qemu/vm", "22"}
			if c.timeout != "" {
				args = append(args, "--timeout", c.timeout)
			}
			var r Result
			if c.nobody {
				guard, helper := asNobody(t)
				cmd := exec.Command(guard, append([]string{"--", helper}, args...)...)
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				r = runCmd(t, helperLimit, cmd)
			} else {
				r = runHelper(t, args...)
			}
			expectExit(t, r, c.code, c.msg...)
			t.Logf("%s", strings.TrimSpace(r.Stderr))
		})
	}
}

// TestFaultsDomainDestroyed: the domain is destroyed after the helper read
// its CID and before it connects. The interposer destroys it (on the shared
// test:///default driver) when the helper closes its libvirt connection,
// before the close reaches the daemon, so the connect surely comes after.
//
// What is real here: the lookup, the destroy, the order. What is not: the
// connect's ENODEV comes from the nofsock guard, not from a kernel that lost
// the VM — it is the errno the kernel gives for a CID no VM holds (measured
// on a vhost-vsock host, see internal/dial), so the helper's answer is the
// one a user would get.
func TestFaultsDomainDestroyed(t *testing.T) {
	needHelper(t)
	requireBins(t, "libvirtd")
	d := StartLibvirtd(t, HostXML())
	DefaultWith(t, d, []Domain{{Name: "doomed", CID: 4711}})
	l := OpenDefault(t, d.RWSock)
	destroyed := make(chan error, 1)
	sock := Interposer(t, shortTempDir(t), d.Sock, procConnectClose, func() {
		dom, err := l.LookupByName("doomed").Wait()
		if err == nil {
			err = DestroyDomain(l, dom)
		}
		destroyed <- err
	})
	uri := "test+unix:///default?socket=" + sock
	r := runHelper(t, "-c", uri, "qemu/doomed", "22")
	select {
	case err := <-destroyed:
		if err != nil {
			t.Fatalf("destroying the domain between lookup and connect: %v", err)
		}
	default:
		t.Fatalf("the helper never closed its libvirt connection: %s", r)
	}
	expectExit(t, r, 11, "libvirt-ssh-proxy: qemu/doomed: no VM holds vsock CID 4711: no such device (the VM is gone or has no vsock device")
	// The next attempt no longer finds it.
	expectExit(t, runHelper(t, "-c", uri, "qemu/doomed", "22"), 4, `no domain named "doomed"`, uri+": not found")
}

// proxyStatus returns an ssh -o ProxyCommand that runs the helper with
// extra flags and writes its exit status to statusFile, and on the next
// lines the CPU time of the helper (the shell's `times`: its own, then its
// children's, the helper's). The wrapper shell runs the helper in the
// background and closes its own copies of stdin and stdout, so that only the
// helper holds ssh's end (a helper closing stdout must reach ssh as EOF); it
// traps the SIGHUP ssh sends its ProxyCommand on exit, so the helper ends by
// itself and its own exit status is recorded. The file appears whole (a
// rename), so a reader never sees half of it.
func proxyStatus(statusFile string, flags ...string) string {
	script := `trap : HUP; exec 3<&0 4>&1 </dev/null >/dev/null; "$0" "$@" <&3 >&4 3<&- 4>&- & p=$!; exec 3<&- 4>&-; ` +
		`while wait $p; s=$?; [ $s -gt 128 ] && kill -0 $p 2>/dev/null; do :; done; ` +
		`{ echo $s; times; } >"` + statusFile + `.new"; mv "` + statusFile + `.new" "` + statusFile + `"`
	return fmt.Sprintf(`ProxyCommand=sh -c '%s' %s %s '%%n' %%p`, script, helperBin, strings.Join(flags, " "))
}

// readStatus waits (bounded) for the wrapper of proxyStatus to write the
// helper's exit status.
func readStatus(t testing.TB, statusFile string) int {
	t.Helper()
	code, _ := readStatusCPU(t, statusFile)
	return code
}

// readStatusCPU is readStatus with the helper's CPU time, user and system.
func readStatusCPU(t testing.TB, statusFile string) (int, time.Duration) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(statusFile)
		if err == nil {
			return parseStatus(t, string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the helper's exit status never appeared in %s", statusFile)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parseStatus reads what proxyStatus's wrapper wrote: the exit status, then
// `times`: the shell's own user and system time, then its children's.
func parseStatus(t testing.TB, s string) (int, time.Duration) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	code, err := strconv.Atoi(lines[0])
	if err != nil || len(lines) != 3 {
		t.Fatalf("status file: %q", s)
	}
	var cpu time.Duration
	for _, f := range strings.Fields(lines[2]) {
		d, err := time.ParseDuration(f) // dash and bash print 0m0.120000s
		if err != nil {
			t.Fatalf("status file: times: %q", s)
		}
		cpu += d
	}
	return code, cpu
}

// relayRun is the helper relaying between two pipes the test holds (as ssh
// without ProxyUseFdpass) and a unix socket target.
type relayRun struct {
	*proc
	Stdin  *os.File // write end of the helper's stdin
	Stdout *os.File // read end of the helper's stdout
	log    string   // the helper's stderr
}

// startRelay starts the guarded helper with --relay to the unix socket sock.
func startRelay(t *testing.T, sock string) *relayRun {
	t.Helper()
	needHelper(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &relayRun{Stdin: inW, Stdout: outR, log: filepath.Join(shortTempDir(t), "helper.log")}
	t.Cleanup(func() { inW.Close(); outR.Close() })
	cmd := guarded(context.Background(), helperBin, "--relay", "unix/"+sock, "22")
	cmd.Stdin, cmd.Stdout = inR, outW
	r.proc = startProc(t, cmd, r.log)
	inR.Close()
	outW.Close()
	return r
}

// Stderr is what the helper wrote to stderr so far.
func (r *relayRun) Stderr() string {
	b, _ := os.ReadFile(r.log)
	return string(b)
}

// endLimit bounds how long a relay may take to end after what ends it. It
// is no timing assertion (the time is logged): "at once" is seconds at most
// on a loaded 2-core machine.
const endLimit = 10 * time.Second

// wait waits at most limit for the helper to end and returns how it ended:
// its exit code, or -N for death by signal N.
func (r *relayRun) wait(t *testing.T, limit time.Duration) (code int, elapsed time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-r.done:
	case <-time.After(limit):
		t.Fatalf("helper still relaying %v later; stderr: %q", limit, r.Stderr())
	}
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -int(ws.Signal()), time.Since(start)
	}
	return ws.ExitStatus(), time.Since(start)
}

// echoTarget copies everything back until EOF, then closes.
func echoTarget(c net.Conn) {
	defer c.Close()
	io.Copy(c, c)
}

// roundTrip writes n bytes into the relay and reads n bytes back (through
// an echo target), proving the relay is moving data.
func (r *relayRun) roundTrip(t *testing.T, n int) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Stdin.Write(make([]byte, n))
		errc <- err
	}()
	r.Stdout.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(r.Stdout, make([]byte, n)); err != nil {
		t.Fatalf("reading %d bytes back through the relay: %v; stderr %q", n, err, r.Stderr())
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestFaultsRelaySignals: signals to the helper in the middle of a relay.
//
//	SIGTERM  ends it at once; not under ssh (here: under the test) quietly,
//	         exit 0 (see TestRelaySIGTERMUnderSSH for under ssh).
//	SIGHUP   ends it at once and quietly (the default action): ssh sends it
//	         to its ProxyCommand every time ssh exits.
//	SIGPIPE  is ignored: the relay goes on and ends normally.
//
// And a stdout whose reader went away (EPIPE) ends it with exit 13 and a
// line, not a silent death by SIGPIPE; unless stdin's writer went away too,
// which is how ssh ends a session: exit 0, nothing said.
func TestFaultsRelaySignals(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	echo := FakeDaemon(t, dir, "echo.sock", echoTarget)
	// Streams data until the peer goes away.
	stream := FakeDaemon(t, dir, "stream.sock", func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	const mib = 1 << 20
	cases := []struct {
		name string
		act  func(t *testing.T, r *relayRun)
		code int // -N: killed by signal N
		msg  string
	}{
		// Not under ssh: the client (this test, paramiko) ends its
		// ProxyCommand with SIGTERM; TestRelaySIGTERMUnderSSH is the other side.
		{"SIGTERM", func(t *testing.T, r *relayRun) { r.cmd.Process.Signal(syscall.SIGTERM) },
			0, ""},
		{"SIGHUP", func(t *testing.T, r *relayRun) { r.cmd.Process.Signal(syscall.SIGHUP) },
			-int(syscall.SIGHUP), ""},
		{"SIGPIPE", func(t *testing.T, r *relayRun) {
			r.cmd.Process.Signal(syscall.SIGPIPE)
			r.roundTrip(t, mib) // still relaying after it
			r.Stdin.Close()     // the echo ends, then the relay
			if rest, err := io.ReadAll(r.Stdout); len(rest) != 0 || err != nil {
				t.Errorf("after the echo: %d more bytes, %v", len(rest), err)
			}
		}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := startRelay(t, echo)
			r.roundTrip(t, mib)
			c.act(t, r)
			code, took := r.wait(t, endLimit)
			if code != c.code || r.Stderr() != c.msg {
				t.Errorf("got exit %d, stderr %q; want %d, %q", code, r.Stderr(), c.code, c.msg)
			}
			t.Logf("ended %v after the signal", took.Round(time.Millisecond))
		})
	}
	// ssh exits by closing both pipes (stdout's reader first): the end of
	// the session, not a lost connection, whatever the target still sends.
	t.Run("stdout reader and stdin writer gone (ssh exits)", func(t *testing.T) {
		t.Parallel()
		r := startRelay(t, stream)
		if _, err := io.ReadFull(r.Stdout, make([]byte, mib)); err != nil {
			t.Fatal(err)
		}
		r.Stdout.Close()
		r.Stdin.Close()
		if code, _ := r.wait(t, endLimit); code != 0 || r.Stderr() != "" {
			t.Errorf("got exit %d, stderr %q; want 0 and nothing", code, r.Stderr())
		}
	})
	t.Run("stdout reader gone", func(t *testing.T) {
		t.Parallel()
		r := startRelay(t, stream)
		if _, err := io.ReadFull(r.Stdout, make([]byte, mib)); err != nil {
			t.Fatal(err)
		}
		r.Stdout.Close()
		code, _ := r.wait(t, endLimit)
		want := "libvirt-ssh-proxy: unix/" + stream + ": connection lost: pipe: relay conn->out: "
		if code != 13 || !strings.HasPrefix(r.Stderr(), want) || !strings.HasSuffix(r.Stderr(), ": broken pipe\n") {
			t.Errorf("got exit %d, stderr %q; want 13, %q...broken pipe", code, r.Stderr(), want)
		}
	})
}

// sshStatus runs ssh (config and keys of s) to unix/sock in one of sshModes,
// with the helper under a wrapper that records its exit status, and returns
// how ssh ended and how the helper did.
func sshStatus(t *testing.T, s *SSHD, mode []string, sock string, command ...string) (Result, int) {
	t.Helper()
	status := filepath.Join(shortTempDir(t), "status")
	// LogLevel INFO (ssh's default; the fixture's config says ERROR) shows
	// what a user sees, e.g. ssh's "Connection closed by ..." lines.
	args := append([]string{"-o", "LogLevel=INFO", "-o", proxyStatus(status)}, mode...)
	args = append(append(args, s.User+"@unix/"+sock), command...)
	r := runCmd(t, sshLimit, s.Cmd(context.Background(), "ssh", args...))
	return r, readStatus(t, status)
}

// TestFaultsGuestSSHD: the guest's sshd is missing, or its socket accepts
// and hangs up: the helper's line or ssh's own message, and the helper's exit
// class, in both modes.
func TestFaultsGuestSSHD(t *testing.T) {
	needHelper(t)
	s := StartSSHD(t)
	dir := shortTempDir(t)
	absent := filepath.Join(dir, "absent.sock")
	dead := DeadSocket(t, dir)
	closing := FakeDaemon(t, dir, "closing.sock", func(c net.Conn) { c.Close() })
	banner := FakeDaemon(t, dir, "banner.sock", func(c net.Conn) {
		c.Read(make([]byte, 4096))
		c.Close()
	})
	// Waits for ssh's first bytes, then closes with them unread: on a unix
	// socket the peer's next read or write gets ECONNRESET.
	reset := FakeDaemon(t, dir, "reset.sock", func(c net.Conn) {
		defer c.Close()
		rc, err := c.(*net.UnixConn).SyscallConn()
		if err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		waited := false
		rc.Read(func(uintptr) bool { // false: wait until readable, then call again
			w := waited
			waited = true
			return w
		})
	})
	cases := []struct {
		name   string
		sock   string
		helper [2]int    // exit code: fdpass, relay
		msg    [2]string // on ssh's stderr: fdpass, relay
	}{
		{"no socket", absent, [2]int{11, 11},
			[2]string{"libvirt-ssh-proxy: unix/" + absent + ": no socket at " + absent + ": no such file or directory\n", "libvirt-ssh-proxy: unix/" + absent + ": no socket at " + absent + ": no such file or directory\n"}},
		{"nothing listening", dead, [2]int{8, 8},
			[2]string{"libvirt-ssh-proxy: unix/" + dead + ": nothing listening on " + dead, "libvirt-ssh-proxy: unix/" + dead + ": nothing listening on " + dead}},
		// ssh's banner is written before anything can fail, so the relay
		// always has it for the peer that closed: EPIPE or ECONNRESET, 13.
		// With the fd, ssh itself meets the close: writing its banner
		// (Broken pipe) or reading the peer's (reset), whichever the race
		// gives; both messages name the socket and "port 0".
		{"accepts and closes at once", closing, [2]int{0, 13},
			[2]string{closing + " port 0", ": connection lost: pipe: relay "}},
		{"reads the client banner, then closes", banner, [2]int{0, 0},
			[2]string{"kex_exchange_identification: Connection closed by remote host", "kex_exchange_identification: Connection closed by remote host"}},
		{"accepts and resets", reset, [2]int{0, 13},
			[2]string{reset + " port 0", ": connection lost: pipe: relay "}},
	}
	for _, c := range cases {
		for i, m := range sshModes {
			t.Run(c.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				r, code := sshStatus(t, s, m.opts, c.sock, "true")
				t.Logf("ssh: %s\nhelper: exit %d", r, code)
				if r.Code != 255 || !strings.Contains(r.Stderr, c.msg[i]) {
					t.Errorf("want ssh exit 255 and %q on its stderr: %s", c.msg[i], r)
				}
				if code != c.helper[i] {
					t.Errorf("helper exit %d, want %d", code, c.helper[i])
				}
			})
		}
	}
}

// sshdSessions lists the `sshd -i` processes of s (children of this test
// binary logging into s.Dir) and everything under them.
func sshdSessions(t *testing.T, s *SSHD) []int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	var roots, all []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// sshd rewrites its command line; its stderr is its log in s.Dir.
		log, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/2", p))
		if ppid(p) == os.Getpid() && strings.HasPrefix(log, s.Dir+"/sshd-") {
			roots = append(roots, p)
		}
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		for _, r := range roots {
			if descends(p, r) {
				all = append(all, p)
			}
		}
	}
	return all
}

// TestFaultsGuestVanishes: in the middle of a transfer (ssh host cat, data
// flowing both ways) the guest's sshd is killed (SIGKILL, with its session
// child). ssh reports the disconnect; in relay mode the helper ends within
// 1 s, with exit 13 and a line when the connection was reset (a clean EOF,
// which a killed AF_UNIX peer may send instead, is passed on as such).
func TestFaultsGuestVanishes(t *testing.T) {
	needHelper(t)
	s := StartSSHD(t)
	// ssh notices on a write ("... Broken pipe", in one of several
	// messages) or on a read (closed, reset), whichever comes first.
	sshSays := `(: Broken pipe|Connection to unix/` + regexp.QuoteMeta(s.Sock) + ` closed by remote host\.|Connection reset by ` + regexp.QuoteMeta(s.Sock) + ` port 0)\r\n`
	cases := []struct {
		mode   int // index in sshModes
		helper int // exit code; -1: the helper is long gone (fdpass)
		msg    []string
	}{
		{0, -1, []string{sshSays}},
		{1, 13, []string{sshSays, "(^|\n)libvirt-ssh-proxy: unix/" + regexp.QuoteMeta(s.Sock) + ": connection lost: pipe: relay (in->conn|conn->out): splice: (broken pipe|connection reset by peer)\n"}},
	}
	for _, c := range cases {
		m := sshModes[c.mode]
		t.Run(m.name, func(t *testing.T) {
			status := filepath.Join(shortTempDir(t), "status")
			args := append([]string{"-o", "LogLevel=INFO", "-o", proxyStatus(status)}, m.opts...)
			cmd := s.Cmd(context.Background(), "ssh", append(args, s.User+"@unix/"+s.Sock, "cat")...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			stdin, stdout, stderr := startPiped(t, cmd)
			defer cmd.Process.Kill()
			go func() { // stream until ssh is gone
				buf := make([]byte, 64<<10)
				for {
					if _, err := stdin.Write(buf); err != nil {
						return
					}
				}
			}()
			var back atomic.Int64
			got := make(chan int64, 1)
			go func() {
				n, _ := io.Copy(io.Discard, io.TeeReader(stdout, counter{&back}))
				got <- n
			}()
			// Mid-transfer: 4 MiB have come back through sshd's cat.
			deadline := time.Now().Add(20 * time.Second)
			for back.Load() < 4<<20 {
				if time.Now().After(deadline) {
					t.Fatalf("no data flowing: stderr %q", stderr.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			helpers := helpersUnder(cmd.Process.Pid)
			if len(helpers) != m.helpers {
				t.Fatalf("%d helpers under ssh, want %d", len(helpers), m.helpers)
			}
			victims := sshdSessions(t, s)
			for _, p := range victims {
				syscall.Kill(p, syscall.SIGKILL)
			}
			killed := time.Now()
			for _, h := range helpers {
				for {
					if _, err := os.Stat(fmt.Sprintf("/proc/%d", h)); err != nil {
						break
					}
					if time.Since(killed) > endLimit {
						t.Fatalf("helper %d still running %v after the guest's sshd was killed", h, endLimit)
					}
					time.Sleep(5 * time.Millisecond)
				}
				t.Logf("helper gone %v after the kill", time.Since(killed).Round(time.Millisecond))
			}
			werr := cmd.Wait()
			n := <-got
			t.Logf("killed %d sshd processes; %d bytes had come back; ssh: %v; stderr %q", len(victims), n, werr, stderr.String())
			if ee, ok := werr.(*exec.ExitError); !ok || ee.ExitCode() != 255 {
				t.Errorf("ssh: %v, want exit 255", werr)
			}
			msg, want := c.msg, c.helper
			if c.helper >= 0 {
				// A killed process whose socket held no unread bytes sends
				// FIN, not RST: the relay then sees the guest's clean end,
				// passes it on, and ssh reports "closed by remote host".
				// That race is the kernel's; on a reset the helper must say
				// so and exit 13.
				code := readStatus(t, status)
				if code == 0 && strings.Contains(stderr.String(), "closed by remote host") {
					msg, want = c.msg[:1], 0
					t.Log("the guest's end arrived as EOF, not as a reset")
				}
				if code != want {
					t.Errorf("helper exit %d, want %d", code, want)
				}
			}
			for _, re := range msg {
				if !regexp.MustCompile(re).MatchString(stderr.String()) {
					t.Errorf("ssh's stderr does not match %q: %q", re, stderr.String())
				}
			}
		})
	}
}

// counter is an io.Writer that only counts.
type counter struct{ n *atomic.Int64 }

func (c counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestFaultsRelaySIGTERMSharedSocket: inetd style, stdin and stdout one
// blocking socket whose open file description the caller shares. The relay
// makes it non-blocking while it runs; SIGTERM must still end with the
// original flags back (an exit straight from the signal handler left it
// non-blocking for the caller).
func TestFaultsRelaySIGTERMSharedSocket(t *testing.T) {
	needHelper(t)
	dir := shortTempDir(t)
	echo := FakeDaemon(t, dir, "echo.sock", echoTarget)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
	defer ours.Close()
	// The child's fds 0 and 1 share theirs' open file description; shared
	// is the caller's own copy of it, whose flags the test watches.
	shared, err := syscall.Dup(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(shared)
	flags := func() int {
		fl, err := unix.FcntlInt(uintptr(shared), unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fl
	}
	before := flags()
	if before&unix.O_NONBLOCK != 0 {
		t.Fatalf("socketpair flags %#x: want a blocking socket", before)
	}
	log := filepath.Join(dir, "helper.log")
	cmd := guarded(context.Background(), helperBin, "--relay", "unix/"+echo, "22")
	cmd.Stdin, cmd.Stdout = theirs, theirs
	p := startProc(t, cmd, log)
	theirs.Close()

	// A round trip through the echo: the relay is running, so the socket
	// is non-blocking now.
	msg := []byte("ping")
	if _, err := ours.Write(msg); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(ours, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
	if flags()&unix.O_NONBLOCK == 0 {
		t.Fatalf("flags %#x while relaying: the relay did not make the socket non-blocking, the test proves nothing", flags())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	b, _ := os.ReadFile(log)
	// Not under ssh: the client's own end of a session, quiet (see
	// TestFaultsRelaySignals); both ends go through the same restore.
	if code := p.cmd.ProcessState.ExitCode(); code != 0 || len(b) != 0 {
		t.Errorf("got exit %d, stderr %q; want 0 and nothing", code, b)
	}
	if got := flags(); got != before {
		t.Errorf("shared socket flags %#x after SIGTERM, want %#x as before the relay", got, before)
	}
}

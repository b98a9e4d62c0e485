//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shortTempDir makes a temp dir with a short absolute path (unix socket paths
// are limited to 108 bytes, and t.TempDir's are long) and removes it when the
// test ends. When the test failed, the *.log files in it are printed first.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lsp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, dir)
		}
		os.RemoveAll(dir)
	})
	return dir
}

// dumpLogs prints every *.log file under dir.
func dumpLogs(t testing.TB, dir string) {
	t.Helper()
	var logs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
			logs = append(logs, p)
		}
		return nil
	})
	sort.Strings(logs)
	for _, p := range logs {
		b, _ := os.ReadFile(p)
		const max = 8 << 10
		if len(b) > max {
			b = append([]byte("...\n"), b[len(b)-max:]...)
		}
		t.Logf("=== %s ===\n%s", p, b)
	}
}

// proc is a child process owned by a test.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid after done is closed
}

// startProc starts cmd with stdout and stderr appended to logPath (unless the
// caller set them) and registers a cleanup that stops it: SIGTERM, then
// SIGKILL after 3 s. The child also gets SIGKILL if the test binary dies.
func startProc(t testing.TB, cmd *exec.Cmd, logPath string) *proc {
	t.Helper()
	if cmd.Stdout == nil || cmd.Stderr == nil {
		lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer lf.Close() // the child has its own copy
		if cmd.Stdout == nil {
			cmd.Stdout = lf
		}
		if cmd.Stderr == nil {
			cmd.Stderr = lf
		}
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitUnix polls until a unix connect to sock succeeds (no fixed sleeps), the
// process exits (failure) or the deadline passes (failure).
func waitUnix(t testing.TB, p *proc, sock string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("%s exited before %s accepted connections: %v", p.cmd.Path, sock, p.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections within %v: %v", sock, within, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Result is one finished run of a command.
type Result struct {
	Args    []string
	Code    int
	Stdout  string
	Stderr  string
	Elapsed time.Duration
	// CPU is the user and system time of the process and the children it
	// waited for (wait4's rusage).
	CPU time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%q: exit %d after %v\nstdout: %q\nstderr: %q", r.Args, r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// runCmd runs cmd to completion (killing it after limit) and reports how it ended.
func runCmd(t testing.TB, limit time.Duration, cmd *exec.Cmd) Result {
	t.Helper()
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &errb
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %q: %v", cmd.Args, err)
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	elapsed := time.Since(start)
	killed := !timer.Stop()
	r := Result{Args: cmd.Args, Stdout: out.String(), Stderr: errb.String(), Elapsed: elapsed}
	if cmd.ProcessState != nil {
		r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var ee *exec.ExitError
	switch {
	case killed:
		t.Fatalf("%q still running after %v: killed\nstdout: %q\nstderr: %q", cmd.Args, limit, r.Stdout, r.Stderr)
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("%q: %v\nstderr: %q", cmd.Args, err, r.Stderr)
	}
	return r
}

// guarded returns a command that runs name with args under the nofsock guard.
func guarded(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, nofsockBin, append([]string{"--", name}, args...)...)
}

// helperLimit bounds any single run of the helper in the tests: none should
// come close (the slowest expected is --timeout 1 against a hung daemon).
const helperLimit = 20 * time.Second

// runHelper runs the built helper under the nofsock guard with stdin from
// /dev/null and returns how it ended. Every helper run in this suite goes
// through here, so none of them can open an AF_VSOCK socket.
func runHelper(t testing.TB, args ...string) Result {
	t.Helper()
	return runHelperIn(t, "", args...)
}

// runHelperIn is runHelper in the working directory dir ("": this one).
func runHelperIn(t testing.TB, dir string, args ...string) Result {
	t.Helper()
	return runGuardedHelper(t, func(cmd *exec.Cmd) { cmd.Dir = dir }, args...)
}

// runGuardedHelper runs the helper under the guard with args, as setup
// leaves its command (a working directory, a stdin), and returns how it
// ended.
func runGuardedHelper(t testing.TB, setup func(*exec.Cmd), args ...string) Result {
	t.Helper()
	needHelper(t)
	cmd := guarded(context.Background(), helperBin, args...)
	setup(cmd)
	r := runCmd(t, helperLimit, cmd)
	r.Args = append([]string{"libvirt-ssh-proxy"}, args...)
	if r.Code == 126 && strings.HasPrefix(r.Stderr, "nofsock:") {
		t.Fatalf("the nofsock guard refused to run the helper: %s", r.Stderr)
	}
	return r
}

// expectExit checks the exit code and that every substring is in stderr. A
// failure exit must print exactly one line, starting "libvirt-ssh-proxy: ".
func expectExit(t testing.TB, r Result, code int, substrs ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("want exit %d, got %s", code, r)
		return
	}
	for _, s := range substrs {
		if !strings.Contains(r.Stderr, s) {
			t.Errorf("stderr lacks %q: %s", s, r)
		}
	}
	if code != 0 {
		line := strings.TrimSuffix(r.Stderr, "\n")
		if !strings.HasPrefix(line, "libvirt-ssh-proxy: ") || strings.Contains(line, "\n") {
			t.Errorf("want one stderr line starting %q: %s", "libvirt-ssh-proxy: ", r)
		}
		if r.Stdout != "" {
			// Under ProxyUseFdpass stdout is ssh's socket: nothing may go there.
			t.Errorf("failure wrote to stdout: %s", r)
		}
	}
}

func execCmd(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func guardedSelftest() *exec.Cmd { return exec.Command(nofsockBin, "--selftest") }

// exitCase is one run of the helper and how it must end: its exit code and
// what its stderr line must contain.
type exitCase struct {
	name string
	args []string
	code int
	msg  []string
}

// runExitCases runs each case under the guard, in parallel, and checks how
// it ended.
func runExitCases(t *testing.T, cases []exitCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			expectExit(t, runHelper(t, c.args...), c.code, c.msg...)
		})
	}
}

// startPiped starts cmd with pipes on its stdin and stdout and its stderr
// collected, for tests that talk to it while it runs.
func startPiped(t testing.TB, cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser, *strings.Builder) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := startOutput(t, cmd)
	return stdin, stdout, stderr
}

// startOutput starts cmd with a pipe on its stdout and its stderr collected.
func startOutput(t testing.TB, cmd *exec.Cmd) (io.ReadCloser, *strings.Builder) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return stdout, stderr
}

// startReady starts cmd, a session whose remote command prints "ready" and
// then waits, and returns once that line arrived. The session is killed
// when the test ends.
func startReady(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	out, stderr := startOutput(t, cmd)
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("session did not start: %q %v; stderr: %s", line, err, stderr.String())
	}
}

//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func init() { packages["gdb"] = "gdb" }

// fakeSSH puts an executable "ssh" running script into a new directory and
// returns a PATH that finds it first: what the helper runs for HV/FORM.
func fakeSSH(t *testing.T, script string) (dir, path string) {
	t.Helper()
	dir = shortTempDir(t)
	writeFile(t, filepath.Join(dir, "ssh"), "#!/bin/sh\n"+script, 0o755)
	return dir, "PATH=" + dir + ":" + os.Getenv("PATH")
}

// TestRemoteSignalsInherited: the inner ssh of HV/FORM starts with SIGPIPE
// at its default, not ignored: an ignored signal stays ignored across exec,
// and an ssh that ignores SIGPIPE reports a closed stdout as exit 255.
func TestRemoteSignalsInherited(t *testing.T) {
	needHelper(t)
	_, path := fakeSSH(t, "grep '^SigIgn:' /proc/self/status >&2\n")
	cmd := guarded(context.Background(), helperBin, "--relay", "hv1/unix/x", "22")
	cmd.Env = append(os.Environ(), path)
	r := runCmd(t, helperLimit, cmd)
	var ign uint64
	if _, err := fmt.Sscanf(r.Stderr, "SigIgn: %x", &ign); err != nil || r.Code != 0 {
		t.Fatalf("fake ssh did not report its ignored signals (%v): %s", err, r)
	}
	if ign&(1<<(syscall.SIGPIPE-1)) != 0 {
		t.Errorf("the inner ssh starts with SIGPIPE ignored (SigIgn %016x)", ign)
	}
}

// TestRemoteHangupAtStart: ssh's SIGHUP can come at any moment, also just
// as the helper starts the inner ssh. gdb stops the helper where it installs
// its signal handler and delivers SIGHUP there: whatever the helper does,
// no inner ssh may be left running. (Before the handler came first, the
// inner ssh was already running at that point and outlived the helper.)
func TestRemoteHangupAtStart(t *testing.T) {
	needHelper(t)
	requireBins(t, "gdb")
	marker := "lsp-hup-" + strconv.Itoa(os.Getpid()) + "-" + filepath.Base(shortTempDir(t))
	// The fake ssh keeps its own command line (no exec), which names the
	// marker, and lives long enough to be seen; it lets go of gdb's output.
	_, path := fakeSSH(t, "exec </dev/null >/dev/null 2>&1; sleep 30\n")
	t.Cleanup(func() {
		for _, p := range markedPIDs(marker) {
			syscall.Kill(p, syscall.SIGKILL)
		}
	})
	// The helper we ship has no symbol table (-s -w): gdb gets the same
	// build with one, to find signal.Notify.
	helper := filepath.Join(shortTempDir(t), "libvirt-ssh-proxy")
	if err := makeHelper(helper, "STRIP="); err != nil {
		t.Fatal(err)
	}
	gdb := mustBin(t, "gdb")
	cmd := guarded(context.Background(), gdb, "-nx", "-batch",
		"-ex", "set startup-with-shell off",
		"-ex", "handle SIGHUP nostop noprint pass",
		"-ex", "break os/signal.Notify",
		"-ex", "run",
		"-ex", "signal SIGHUP",
		"--args", helper, "--relay", "hv1/unix/"+marker, "22")
	cmd.Env = append(os.Environ(), path)
	r := runCmd(t, helperLimit, cmd)
	if !strings.Contains(r.Stdout, "Breakpoint 1, os/signal.Notify") || !strings.Contains(r.Stdout, "signal SIGHUP") {
		t.Fatalf("gdb did not stop the helper at signal.Notify and deliver SIGHUP: %s", r)
	}
	if left := marked(marker); len(left) > 0 {
		t.Errorf("inner ssh left running after SIGHUP:\n%s\ngdb: %s", strings.Join(left, "\n"), r)
	}
}

// markedPIDs lists the PIDs of the live processes whose command line holds
// marker.
func markedPIDs(marker string) []int {
	var pids []int
	for _, l := range marked(marker) {
		if p, err := strconv.Atoi(l[:strings.IndexByte(l, ':')]); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

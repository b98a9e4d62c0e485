package dial

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestKernelVSockErrorIsNilConn checks that a failed kernel dial returns a
// nil net.Conn, not a nil *vsock.Conn inside a non-nil interface. The dial
// must fail before any packet could leave this machine, so the test re-runs
// itself under test/nofsock, where socket(AF_VSOCK) fails with ENODEV: no
// AF_VSOCK socket exists, let alone a connect.
func TestKernelVSockErrorIsNilConn(t *testing.T) {
	if os.Getenv("LSP_DIAL_UNDER_NOFSOCK") == "1" {
		c, err := KernelVSock(context.Background(), 3, 22)
		if err == nil {
			t.Fatal("KernelVSock under nofsock succeeded; the guard is not in place")
		}
		if c != nil {
			t.Fatalf("KernelVSock returned a non-nil net.Conn (%T) with error %v", c, err)
		}
		return
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	guard := filepath.Join(t.TempDir(), "nofsock")
	build := exec.Command("go", "build", "-o", guard, "./test/nofsock")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build test/nofsock: %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(guard, "--", self, "-test.run", "^TestKernelVSockErrorIsNilConn$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LSP_DIAL_UNDER_NOFSOCK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the test under nofsock failed: %v\n%s", err, out)
	}
}

//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// manyDomains starts a private libvirtd whose test:///default holds n
// running domains vm-00000... with CIDs from 1000, and returns them and its
// URI. A host file of 10,000 domains would cost the daemon ~2.5 s per
// connection (it re-parses the file each time): that would measure
// libvirtd, not the helper. test:///default is built once.
func manyDomains(b *testing.B, n int) ([]Domain, string) {
	doms := make([]Domain, n)
	for i := range doms {
		doms[i] = Domain{Name: fmt.Sprintf("vm-%05d", i), CID: 1000 + i}
	}
	start := time.Now()
	d := StartLibvirtd(b, HostXML())
	uri := DefaultWith(b, d, doms)
	b.Logf("%d domains created in %v", n, time.Since(start).Round(time.Millisecond))
	return doms, uri
}

// BenchmarkLookup measures the helper's lookup latency, wall time from exec
// to exit, against a private libvirtd with 10 and with 10,000 running
// domains (in the daemon's shared test:///default driver, see DefaultWith):
//
//	resolve  `libvirt-ssh-proxy resolve qemu/NAME -c URI` (connects to nothing)
//	proxy    `libvirt-ssh-proxy -c URI qemu/NAME 22`, which under the guard
//	         exits 11 right at the vsock step (lookup done, nothing sent)
//	guard    `nofsock /bin/true`: the guard's own exec cost, included in the
//	         two above (subtract it for the helper alone)
//
// Run with a fixed sample count; it reports the median and p90 per run:
//
//	go test -tags integration -run '^$' -bench Lookup -benchtime 50x ./test/integration/
func BenchmarkLookup(b *testing.B) {
	needHelper(b)
	requireBins(b, "libvirtd")
	b.Run("guard", func(b *testing.B) {
		benchExec(b, 0, func() Result {
			return runCmd(b, helperLimit, guarded(context.Background(), "/bin/true"))
		})
	})
	for _, n := range []int{10, 10000} {
		doms, uri := manyDomains(b, n)
		name := doms[n/2].Name
		b.Run(fmt.Sprintf("domains=%d/resolve", n), func(b *testing.B) {
			benchExec(b, 0, func() Result { return runHelper(b, "resolve", "qemu/"+name, "-c", uri) })
		})
		b.Run(fmt.Sprintf("domains=%d/proxy", n), func(b *testing.B) {
			benchExec(b, 11, func() Result { return runHelper(b, "-c", uri, "qemu/"+name, "22") })
			b.ReportMetric(peakRSS(b, 11, "-c", uri, "qemu/"+name, "22"), "peak-RSS-MiB")
		})
	}
}

// benchExec runs one command b.N times, checks its exit code, and reports
// the median and 90th percentile of the wall times.
func benchExec(b *testing.B, code int, run func() Result) {
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := run()
		if r.Code != code {
			b.Fatalf("want exit %d: %s", code, r)
		}
		samples = append(samples, r.Elapsed)
	}
	b.StopTimer()
	slices.Sort(samples)
	med := samples[len(samples)/2]
	p90 := samples[len(samples)*9/10]
	b.ReportMetric(float64(med)/float64(time.Millisecond), "median-ms")
	b.ReportMetric(float64(p90)/float64(time.Millisecond), "p90-ms")
	if b.N > 1 {
		b.Logf("%d runs: median %v, p90 %v, min %v, max %v", len(samples),
			med.Round(10*time.Microsecond), p90.Round(10*time.Microsecond),
			samples[0].Round(10*time.Microsecond), samples[len(samples)-1].Round(10*time.Microsecond))
	}
}

// peakRSS runs the guarded helper once under GNU time and returns its peak
// resident set in MiB. rusage from this process cannot say: a child of a Go
// program starts with the parent's RSS high-water mark (os/exec forks with a
// shared address space, and exec keeps the larger mark), and the guard is a
// Go program too. time forks the helper from its own small process.
func peakRSS(b *testing.B, code int, args ...string) float64 {
	b.Helper()
	requireBins(b, "time")
	out := filepath.Join(b.TempDir(), "rss")
	r := runCmd(b, helperLimit, guarded(context.Background(), mustBin(b, "time"),
		append([]string{"-f", "%M", "-o", out, helperBin}, args...)...))
	if r.Code != code {
		b.Fatalf("want exit %d under time: %s", code, r)
	}
	kib, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	// time appends "Command exited with non-zero status N" before %M.
	f := strings.Fields(string(kib))
	v, err := strconv.ParseFloat(f[len(f)-1], 64)
	if err != nil {
		b.Fatalf("time -f %%M wrote %q", kib)
	}
	return v / 1024
}

// BenchmarkHandoff measures exec to exit of the helper handing ssh the fd
// (one byte with SCM_RIGHTS over a socketpair, as under ProxyUseFdpass):
//
//	unix       `unix/PATH 22` to a listener that accepts
//	vsock-mux  `vsock-mux/PATH 22` to a fake multiplexer answering
//	           "OK 1073741824\n" at once: the handshake's cost on top
//
//	go test -tags integration -run '^$' -bench Handoff -benchtime 50x ./test/integration/
func BenchmarkHandoff(b *testing.B) {
	needHelper(b)
	dir := shortTempDir(b)
	hold := func(c net.Conn) { c.Read(make([]byte, 1)) }
	unixSock := FakeDaemon(b, dir, "unix.sock", hold)
	mux := FakeDaemon(b, dir, "mux.sock", func(c net.Conn) {
		readLine(c, 64)
		c.Write([]byte(replyFirecracker))
		hold(c)
	})
	for _, tc := range []struct{ name, host string }{{"unix", "unix/" + unixSock}, {"vsock-mux", "vsock-mux/" + mux}} {
		b.Run(tc.name, func(b *testing.B) {
			benchExec(b, 0, func() Result {
				fd, r := runFdpass(b, tc.host, "22")
				if fd >= 0 {
					unix.Close(fd)
				}
				return r
			})
		})
	}
}

// BenchmarkSSH measures what the relay costs a real ssh session: bytes
// through ssh -> helper -> unix socket -> sshd -i, with the helper relaying
// (ProxyUseFdpass=no) and with ssh holding the socket itself (fd passing).
// up streams /dev/zero into `head -c N >/dev/null`, down `head -c N
// /dev/zero` into /dev/null. A session that runs `true` is timed first and
// subtracted, so MiB/s is the transfer alone, not the handshake. The two
// modes' ratio is the relay's cost where it matters, behind ssh's crypto.
// On a machine whose cores ssh and sshd keep busy it moves with the load;
// the CPU time per MiB of the helper (helper-cpu-us/MiB, from a wrapper
// shell's `times`) and of ssh itself (ssh-cpu-us/MiB, from wait4; in
// relay mode ssh does not wait for its ProxyCommand) hold steadier.
//
//	go test -tags integration -run '^$' -bench SSH -benchtime 3x ./test/integration/
func BenchmarkSSH(b *testing.B) {
	needHelper(b)
	s := StartSSHD(b)
	const size = 512 << 20
	zero, err := os.Open("/dev/zero")
	if err != nil {
		b.Fatal(err)
	}
	defer zero.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	status := filepath.Join(shortTempDir(b), "status")
	type cost struct{ wall, ssh, helper time.Duration }
	session := func(b *testing.B, opts []string, in *os.File, command string) cost {
		os.Remove(status)
		args := append([]string{"-o", proxyStatus(status)}, opts...)
		cmd := s.Cmd(context.Background(), "ssh", append(args, s.User+"@"+s.HostSlash(), command)...)
		cmd.Stdin, cmd.Stdout = in, null
		r := runCmd(b, time.Minute, cmd)
		if r.Code != 0 {
			b.Fatalf("ssh: %s", r)
		}
		_, helper := readStatusCPU(b, status)
		return cost{r.Elapsed, r.CPU, helper}
	}
	for _, dir := range []struct{ name, command string }{
		{"up", fmt.Sprintf("head -c %d >/dev/null", size)},
		{"down", fmt.Sprintf("head -c %d /dev/zero", size)},
	} {
		for _, m := range sshModes {
			b.Run(dir.name+"/"+m.name, func(b *testing.B) {
				in := null // down: stdin is empty (an EOF at once)
				if dir.name == "up" {
					in = zero
				}
				// the cheapest of three: a slow start now and then
				// (sshd -i loads its keys per session) is not the relay's
				handshake := session(b, m.opts, null, "true")
				for range 2 {
					c := session(b, m.opts, null, "true")
					handshake = cost{min(handshake.wall, c.wall), min(handshake.ssh, c.ssh), min(handshake.helper, c.helper)}
				}
				var transfer cost
				b.ResetTimer()
				for range b.N {
					c := session(b, m.opts, in, dir.command)
					transfer.wall += max(c.wall-handshake.wall, time.Millisecond)
					transfer.ssh += max(c.ssh-handshake.ssh, 0)
					transfer.helper += max(c.helper-handshake.helper, 0)
				}
				b.StopTimer()
				mib := float64(b.N) * size / (1 << 20)
				b.ReportMetric(mib/transfer.wall.Seconds(), "MiB/s")
				b.ReportMetric(float64(transfer.ssh.Microseconds())/mib, "ssh-cpu-us/MiB")
				b.ReportMetric(float64(transfer.helper.Microseconds())/mib, "helper-cpu-us/MiB")
				b.ReportMetric(float64(handshake.wall)/float64(time.Millisecond), "handshake-ms")
			})
		}
	}
}

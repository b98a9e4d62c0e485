//go:build integration

// Command bench measures the helper against a target socket it serves and
// prints a table:
//
//   - connect: wall time from exec of the helper to the connected fd in the
//     caller's hands (recvmsg returned it), the ProxyUseFdpass path; median
//     and p90 of -runs runs, and the helper's peak RSS.
//   - relay: -size bytes up (stdin -> socket) and down (socket -> stdout)
//     through `libvirt-ssh-proxy --relay`, through `socat -`, and directly
//     (the caller holds the socket, as after fd passing): wall time,
//     throughput, the middleman's user+sys CPU per GiB (rusage) and peak RSS
//     (GNU time, see timeBin). Median of -reps runs.
//
// By default the target is a unix socket (unix/ for the helper,
// UNIX-CONNECT: for socat); no vsock, no network. With -vsock PORT it is
// AF_VSOCK loopback (vsock/1 PORT, VSOCK-CONNECT:1:PORT), which only the
// test/vm rig guest may use (`test/vm/run.sh bench`): the program refuses
// it unless the kernel command line carries the rig's marker. The lookup
// against libvirtd (10 and 10,000 domains) is BenchmarkLookup in
// test/integration; `make bench-more` runs it and both forms of this program.
//
//	go run -tags integration ./test/bench [-size 1073741824] [-runs 50] [-reps 3] [-helper PATH] [-vsock PORT]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mdlayher/vsock"
	"golang.org/x/sys/unix"
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes to move each way in each relay run")
	runs := flag.Int("runs", 50, "connect samples")
	reps := flag.Int("reps", 3, "relay runs per mode and direction (median reported)")
	helper := flag.String("helper", "", "the helper binary to measure (default: go build ./cmd/libvirt-ssh-proxy)")
	vsockPort := flag.Uint("vsock", 0, "measure over AF_VSOCK loopback (CID 1) on this port; test/vm rig guest only")
	flag.Parse()
	// First, before any socket exists: outside the rig's guest there is no
	// vsock loopback and a vsock connect() would leave the machine.
	if *vsockPort != 0 && !inRig() {
		fmt.Fprintln(os.Stderr, "bench: refusing -vsock: not inside a test/vm rig guest (no libvirt-ssh-proxy.rig= on the kernel command line)")
		os.Exit(1)
	}
	if *vsockPort > math.MaxUint32 {
		fmt.Fprintln(os.Stderr, "bench: -vsock: port out of range")
		os.Exit(2)
	}
	if err := run(*size, *runs, *reps, *helper, uint32(*vsockPort)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// inRig reports whether this is a test/vm rig guest (see test/vm/vsockrig).
func inRig() bool {
	b, err := os.ReadFile("/proc/cmdline")
	return err == nil && strings.Contains(string(b), "libvirt-ssh-proxy.rig=")
}

func run(size int64, runs, reps int, helper string, vsockPort uint32) error {
	dir, err := os.MkdirTemp("", "lspbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if helper == "" {
		if helper, err = buildHelper(dir); err != nil {
			return err
		}
	}
	socat, err := exec.LookPath("socat")
	if err != nil {
		return fmt.Errorf("socat: %v (apt-get install socat)", err)
	}
	if timeBin, err = exec.LookPath("time"); err != nil {
		return fmt.Errorf("GNU time: %v (apt-get install time)", err)
	}
	ep := unixEndpoint(filepath.Join(dir, "target.sock"))
	if vsockPort != 0 {
		ep = vsockEndpoint(vsockPort)
	}
	srv, err := newTarget(ep)
	if err != nil {
		return err
	}
	defer srv.ln.Close()

	fmt.Printf("libvirt-ssh-proxy bench: %s, %d CPUs, load %s, %s target\n", time.Now().UTC().Format(time.RFC3339), cpus(), loadavg(), ep.name)

	c, err := connectBench(helper, srv, runs, false)
	if err != nil {
		return err
	}
	// Peak RSS in separate runs under GNU time, which adds its own fork.
	m, err := connectBench(helper, srv, 5, true)
	if err != nil {
		return err
	}
	c.rss = m.rss
	fmt.Printf("\nconnect (exec -> fd received, %s target, %d runs)\n\n", ep.name, runs)
	fmt.Printf("| median | p90 | min | max | helper peak RSS |\n|---|---|---|---|---|\n")
	fmt.Printf("| %v | %v | %v | %v | %.1f MiB |\n", ms(c.med), ms(c.p90), ms(c.min), ms(c.max), mib(c.rss))

	fmt.Printf("\nrelay over %s, %d MiB each direction, median of %d\n\n", ep.name, size>>20, reps)
	fmt.Printf("| mode | direction | wall | MiB/s | vs direct | CPU user+sys | CPU s/GiB | peak RSS |\n|---|---|---|---|---|---|---|---|\n")
	modes := []struct {
		name string
		cmd  func() *exec.Cmd // nil: direct
	}{
		{"direct", nil},
		{"libvirt-ssh-proxy --relay", func() *exec.Cmd { return exec.Command(helper, "--relay", ep.host, ep.port) }},
		{"socat", func() *exec.Cmd { return exec.Command(socat, "-", ep.socat) }},
	}
	for _, dirn := range []string{"up", "down"} {
		var direct time.Duration
		for _, m := range modes {
			var samples []relayResult
			for range reps {
				r, err := relayOnce(srv, m.cmd, dirn, size)
				if err != nil {
					return fmt.Errorf("%s %s: %w", m.name, dirn, err)
				}
				samples = append(samples, r)
			}
			slices.SortFunc(samples, func(a, b relayResult) int { return int(a.wall - b.wall) })
			r := samples[len(samples)/2]
			if m.cmd == nil {
				direct = r.wall
			}
			rate := float64(size) / r.wall.Seconds() / (1 << 20)
			gib := float64(size) / (1 << 30)
			cpu, perGiB, rss := "-", "-", "-"
			if m.cmd != nil {
				cpu = ms(r.cpu).String()
				perGiB = fmt.Sprintf("%.3f", r.cpu.Seconds()/gib)
				rss = fmt.Sprintf("%.1f MiB", mib(r.rss))
			}
			fmt.Printf("| %s | %s | %v | %.0f | %.2fx | %s | %s | %s |\n", m.name, dirn, ms(r.wall), rate,
				float64(direct)/float64(r.wall), cpu, perGiB, rss)
		}
	}
	return nil
}

// endpoint is one kind of target socket and how each party reaches it,
// so that every measurement is written once for all kinds.
type endpoint struct {
	name       string                       // in the table: "unix/" or "vsock/1"
	listen     func() (net.Listener, error) // the target's side
	dial       func() (net.Conn, error)     // direct: the socket fd passing would hand over
	host, port string                       // the helper's arguments
	socat      string                       // socat's address
}

// unixEndpoint is a unix socket at path; the helper ignores the port.
func unixEndpoint(path string) endpoint {
	return endpoint{
		name:   "unix/",
		listen: func() (net.Listener, error) { return net.Listen("unix", path) },
		dial:   func() (net.Conn, error) { return net.Dial("unix", path) },
		host:   "unix/" + path,
		port:   "22",
		socat:  "UNIX-CONNECT:" + path,
	}
}

// vsockEndpoint is AF_VSOCK loopback (CID 1) on port: only inside the rig's
// guest, which main checks before anything can call these.
func vsockEndpoint(port uint32) endpoint {
	p := strconv.FormatUint(uint64(port), 10)
	return endpoint{
		name:   "vsock/1",
		listen: func() (net.Listener, error) { return vsock.Listen(port, nil) },
		dial:   func() (net.Conn, error) { return vsock.Dial(vsock.Local, port, nil) },
		host:   "vsock/1",
		port:   p,
		socat:  "VSOCK-CONNECT:1:" + p,
	}
}

// target is the server every measurement connects to. Each connection
// does what the next job on the channel says.
type target struct {
	endpoint
	ln   net.Listener
	jobs chan func(net.Conn)
}

func newTarget(ep endpoint) (*target, error) {
	ln, err := ep.listen()
	if err != nil {
		return nil, err
	}
	t := &target{endpoint: ep, ln: ln, jobs: make(chan func(net.Conn), 1)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			job := <-t.jobs
			go job(c)
		}
	}()
	return t, nil
}

type connectResult struct {
	med, p90, min, max time.Duration
	rss                int64 // bytes, max over runs
}

// connectBench runs the helper as ssh does under ProxyUseFdpass: one end of
// a socketpair as fd 0 and fd 1; the clock stops when recvmsg has the fd.
// With rss it runs the helper under GNU time for its peak RSS.
func connectBench(helper string, srv *target, runs int, rss bool) (connectResult, error) {
	var res connectResult
	var samples []time.Duration
	for range runs {
		srv.jobs <- func(c net.Conn) { c.Close() }
		sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return res, err
		}
		theirs := os.NewFile(uintptr(sv[1]), "helper-end")
		cmd := exec.Command(helper, srv.host, srv.port)
		var rssFile string
		if rss {
			cmd, rssFile = underTime(cmd)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = theirs, theirs, os.Stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return res, err
		}
		theirs.Close()
		buf := make([]byte, 1)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := unix.Recvmsg(sv[0], buf, oob, unix.MSG_CMSG_CLOEXEC)
		took := time.Since(start)
		werr := cmd.Wait()
		unix.Close(sv[0])
		if err != nil || n != 1 || oobn == 0 {
			return res, fmt.Errorf("recvmsg: %d bytes, %d oob, %v (helper: %v)", n, oobn, err, werr)
		}
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil {
				for _, fd := range fds {
					unix.Close(fd)
				}
			}
		}
		if werr != nil {
			return res, fmt.Errorf("helper: %v", werr)
		}
		if rss {
			kib, err := readRSS(rssFile)
			if err != nil {
				return res, err
			}
			res.rss = max(res.rss, kib)
		}
		samples = append(samples, took)
	}
	slices.Sort(samples)
	res.med, res.p90 = samples[len(samples)/2], samples[len(samples)*9/10]
	res.min, res.max = samples[0], samples[len(samples)-1]
	return res, nil
}

type relayResult struct {
	wall, cpu time.Duration
	rss       int64
}

// relayOnce moves size bytes in one direction: "up" from the middleman's
// stdin to the target, "down" from the target to its stdout. With mk nil
// the caller holds the socket itself (direct). The clock runs from the
// start (exec, or connect) until the receiving end has all the bytes.
func relayOnce(srv *target, mk func() *exec.Cmd, dirn string, size int64) (relayResult, error) {
	var res relayResult
	got := make(chan error, 1)
	chunk := make([]byte, 1<<20)
	if dirn == "up" {
		srv.jobs <- func(c net.Conn) {
			n, err := io.CopyBuffer(discard{}, c, make([]byte, len(chunk)))
			c.Close()
			if err == nil && n != size {
				err = fmt.Errorf("target got %d bytes, want %d", n, size)
			}
			got <- err
		}
	} else {
		srv.jobs <- func(c net.Conn) {
			send(c, chunk, size)
			c.Close()
		}
	}
	if mk == nil {
		start := time.Now()
		c, err := srv.dial()
		if err != nil {
			return res, err
		}
		defer c.Close()
		if dirn == "up" {
			if err := send(c, chunk, size); err != nil {
				return res, err
			}
			// both kinds of socket have it; EOF tells the target to count
			c.(interface{ CloseWrite() error }).CloseWrite()
			err = <-got
		} else {
			err = recvAll(c, size)
		}
		res.wall = time.Since(start)
		return res, err
	}

	inR, inW, err := blockingPipe()
	if err != nil {
		return res, err
	}
	outR, outW, err := blockingPipe()
	if err != nil {
		return res, err
	}
	cmd, rssFile := underTime(mk())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	inR.Close()
	outW.Close()
	if dirn == "up" {
		go io.Copy(io.Discard, outR)
		err = send(inW, chunk, size)
		inW.Close()
		if err == nil {
			err = <-got
		}
	} else {
		err = recvAll(outR, size)
		inW.Close()
	}
	res.wall = time.Since(start)
	werr := cmd.Wait()
	outR.Close()
	if err == nil {
		err = werr
	}
	// time's rusage includes the child it waited for (and time's own
	// fork and exec, well under a millisecond).
	if st, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.cpu = time.Duration(st.Utime.Nano() + st.Stime.Nano())
	}
	if err == nil {
		res.rss, err = readRSS(rssFile)
	}
	return res, err
}

// blockingPipe is a pipe whose ends the harness uses with plain blocking
// read(2) and write(2), as ssh does, rather than through Go's poller.
func blockingPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "pipe-r"), os.NewFile(uintptr(p[1]), "pipe-w"), nil
}

func send(w io.Writer, chunk []byte, size int64) error {
	for left := size; left > 0; {
		n, err := w.Write(chunk[:min(left, int64(len(chunk)))])
		left -= int64(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// recvAll reads exactly size bytes. It does not wait for EOF: GNU time,
// wrapped around the middleman, keeps its own copy of the middleman's stdout
// until the middleman exits.
func recvAll(r io.Reader, size int64) error {
	n, err := io.CopyBuffer(discard{}, io.LimitReader(r, size), make([]byte, 1<<20))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		err = fmt.Errorf("got %d bytes of %d: %w", n, size, err)
	}
	return err
}

// discard is io.Discard without its ReaderFrom, whose 8 KiB reads would
// make the harness, not the middleman, the bottleneck.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// timeBin is GNU time. Peak RSS cannot come from this process's rusage: a
// child of a Go program starts with the parent's RSS high-water mark (os/exec
// forks with a shared address space and exec keeps the larger mark), so
// every child would show at least this program's RSS. time forks the
// measured command from its own small process and reports its peak.
var timeBin string

// underTime wraps cmd in GNU time writing the peak RSS (KiB) to a file.
func underTime(cmd *exec.Cmd) (*exec.Cmd, string) {
	f, err := os.CreateTemp("", "lspbench-rss")
	if err != nil {
		panic(err)
	}
	f.Close()
	return exec.Command(timeBin, append([]string{"-f", "%M", "-o", f.Name(), cmd.Path}, cmd.Args[1:]...)...), f.Name()
}

// readRSS reads and removes underTime's file, in bytes.
func readRSS(path string) (int64, error) {
	b, err := os.ReadFile(path)
	os.Remove(path)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b)) // "Command exited with ..." may come first
	if len(f) == 0 {
		return 0, fmt.Errorf("time wrote nothing to %s", path)
	}
	kib, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	return kib << 10, err
}

// buildHelper builds the helper into dir as `make` builds it.
func buildHelper(dir string) (string, error) {
	helper := filepath.Join(dir, "libvirt-ssh-proxy")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", helper, "./cmd/libvirt-ssh-proxy")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	var err error
	if build.Dir, err = moduleRoot(); err != nil {
		return "", err
	}
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the helper: %v\n%s", err, out)
	}
	return helper, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

func ms(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func cpus() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return 0
	}
	return set.Count()
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

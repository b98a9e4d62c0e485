//go:build linux

package pipe

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkRelay compares the ways bytes can get from ssh to the VM socket
// and back: Relay (splice), a plain io.Copy pair (what a naive helper does),
// and direct use of the socket (what ProxyUseFdpass gives ssh). stdin and
// stdout are pipes, as ssh makes them; conn is an AF_UNIX socketpair or a
// loopback TCP connection standing in for AF_VSOCK.
//
// up is stdin -> conn -> VM, down is VM -> conn -> stdout.
func BenchmarkRelay(b *testing.B) {
	for _, tr := range []string{"unix", "tcp"} {
		for _, dir := range []string{"up", "down"} {
			for _, mode := range []string{"splice", "iocopy", "direct"} {
				b.Run(tr+"/"+dir+"/"+mode, func(b *testing.B) { benchRelay(b, tr, dir, mode) })
			}
		}
	}
}

type plainReader struct{ io.Reader }
type plainWriter struct{ io.Writer }

func benchRelay(b *testing.B, transport, dir, mode string) {
	const chunk = 1 << 20
	var conn, peer *os.File
	if transport == "unix" {
		conn, peer = socketPair(b, true)
	} else {
		conn, peer = tcpPair(b)
	}
	in, inW := pipePair(b, true, true)
	outR, out := pipePair(b, true, true)
	defer func() {
		for _, f := range []*os.File{conn, peer, in, inW, out, outR} {
			f.Close()
		}
	}()

	// src is where the benchmark writes, dst where it reads; endSrc signals
	// EOF the way the real producer would.
	var src, dst *os.File
	up := dir == "up"
	switch {
	case mode == "direct" && up:
		src, dst = conn, peer
	case mode == "direct":
		src, dst = peer, conn
	case up:
		src, dst = inW, peer
	default:
		src, dst = peer, outR
	}
	endSrc := func() error {
		if src == inW {
			return inW.Close()
		}
		return shutdownFile(src)
	}

	// background relays end when both of their inputs reach EOF.
	bg := make(chan error, 2)
	nbg := 0
	switch mode {
	case "splice":
		nbg = 1
		go func() { bg <- Relay(context.Background(), in, out, conn) }()
	case "iocopy":
		nbg = 2
		go func() {
			_, err := io.Copy(plainWriter{conn}, plainReader{in})
			if err == nil {
				err = shutdownFile(conn)
			}
			bg <- err
		}()
		go func() {
			_, err := io.Copy(plainWriter{out}, plainReader{conn})
			out.Close()
			bg <- err
		}()
	}

	b.SetBytes(chunk)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, chunk)
		for i := 0; i < b.N; i++ {
			if _, err := src.Write(buf); err != nil {
				werr <- err
				return
			}
		}
		werr <- endSrc()
	}()
	n, err := io.CopyBuffer(io.Discard, plainReader{dst}, make([]byte, chunk))
	b.StopTimer()
	// Wall-clock MB/s on a small machine mostly measures how the writer,
	// reader and relay threads share CPUs; CPU time per MiB moved shows
	// what the relay itself costs (direct is the floor).
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/MiB")
	if err != nil {
		b.Fatal(err)
	}
	if err := <-werr; err != nil {
		b.Fatal(err)
	}
	if n != int64(b.N)*chunk {
		b.Fatalf("read %d bytes, want %d", n, int64(b.N)*chunk)
	}

	// End the idle direction too so the background copies finish.
	switch {
	case mode == "direct":
	case up:
		_ = shutdownFile(peer)
		_, _ = io.Copy(io.Discard, outR)
	default:
		inW.Close()
		_, _ = io.Copy(io.Discard, peer)
	}
	for i := 0; i < nbg; i++ {
		if err := <-bg; err != nil {
			b.Fatal(err)
		}
	}
}

func shutdownFile(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return serr
}

func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package dial

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

func addrs(ss ...string) []target.Address {
	var out []target.Address
	for i, s := range ss {
		out = append(out, target.Address{IP: netip.MustParseAddr(s), Source: fmt.Sprintf("source %d", i)})
	}
	return out
}

// fakeTCP answers each address as its table says and records the order.
type fakeTCP struct {
	t      *testing.T
	answer map[string]string // address -> "ok", "refused", "hang"
	mu     sync.Mutex
	tried  []string
}

func (f *fakeTCP) dial(ctx context.Context, network, address string) (net.Conn, error) {
	f.mu.Lock()
	f.tried = append(f.tried, address)
	f.mu.Unlock()
	if network != "tcp" {
		f.t.Errorf("network %q, want tcp", network)
	}
	switch f.answer[address] {
	case "ok":
		ours, _ := socketPair(f.t)
		return ours, nil
	case "hang":
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	case "deadline": // the socket's deadline, a moment before ctx's timer
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
}

func TestDialTCP(t *testing.T) {
	tests := []struct {
		name    string
		addrs   []target.Address
		port    uint32
		answer  map[string]string
		timeout time.Duration
		tried   []string
		class   failure.Class // 0: success
		msg     []string
	}{
		{"first answers", addrs("10.0.0.1", "10.0.0.2"), 22,
			map[string]string{"10.0.0.1:22": "ok", "10.0.0.2:22": "ok"}, 5 * time.Second,
			[]string{"10.0.0.1:22"}, 0, nil},
		{"refused, then the next", addrs("10.0.0.1", "fd00::2"), 2222,
			map[string]string{"[fd00::2]:2222": "ok"}, 5 * time.Second,
			[]string{"10.0.0.1:2222", "[fd00::2]:2222"}, 0, nil},
		{"link-local with its zone", []target.Address{{IP: netip.MustParseAddr("fe80::1%virbr0"), Source: "lease file"}}, 22,
			map[string]string{"[fe80::1%virbr0]:22": "ok"}, 5 * time.Second,
			[]string{"[fe80::1%virbr0]:22"}, 0, nil},
		{"silent address gets its share, then the next", addrs("10.0.0.1", "10.0.0.2"), 22,
			map[string]string{"10.0.0.1:22": "hang", "10.0.0.2:22": "ok"}, 400 * time.Millisecond,
			[]string{"10.0.0.1:22", "10.0.0.2:22"}, 0, nil},
		{"all refused", addrs("10.0.0.1", "10.0.0.2"), 22, nil, 5 * time.Second,
			[]string{"10.0.0.1:22", "10.0.0.2:22"}, failure.NotListening,
			[]string{"no IP address answered on port 22", "10.0.0.1:22 (source 0): connection refused", "10.0.0.2:22 (source 1): connection refused"}},
		{"last one hangs to the end", addrs("10.0.0.1", "10.0.0.2"), 22,
			map[string]string{"10.0.0.2:22": "hang"}, 200 * time.Millisecond,
			[]string{"10.0.0.1:22", "10.0.0.2:22"}, failure.Timeout,
			[]string{"timed out trying IP addresses", "10.0.0.2:22 (source 1): no answer within"}},
		{"socket deadline first", addrs("10.0.0.1"), 22,
			map[string]string{"10.0.0.1:22": "deadline"}, 5 * time.Second,
			[]string{"10.0.0.1:22"}, failure.NotListening, []string{"10.0.0.1:22 (source 0): no answer within"}},
		{"no addresses", nil, 22, nil, time.Second, nil, failure.NoTarget, []string{"no IP address to try"}},
		{"--timeout already spent", addrs("10.0.0.1"), 22, nil, -time.Second, nil, failure.Timeout, []string{"timed out trying IP addresses (none tried)"}},
		{"port beyond TCP", addrs("10.0.0.1"), 70000, nil, time.Second, nil, failure.Usage, []string{"70000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeTCP{t: t, answer: tt.answer}
			var log []string
			d := Dialer{TCP: f.dial, Logf: func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			file, err := d.Dial(ctx, target.Target{Network: target.TCP, Addrs: tt.addrs, Port: tt.port})
			if fmt.Sprint(f.tried) != fmt.Sprint(tt.tried) {
				t.Errorf("tried %q, want %q", f.tried, tt.tried)
			}
			if tt.class == 0 {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				file.Close()
				if last := log[len(log)-1]; !strings.HasPrefix(last, "connected to "+tt.tried[len(tt.tried)-1]) {
					t.Errorf("last log line %q does not name the address used", last)
				}
				return
			}
			if err == nil {
				file.Close()
				t.Fatal("Dial succeeded, want an error")
			}
			if c := failure.ClassOf(err); c != tt.class {
				t.Errorf("class %d, want %d: %v", c, tt.class, err)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
		})
	}
}

// TestDialTCPLoopback dials a real listener on 127.0.0.1 with the default
// dialer, after a loopback address where nothing listens.
func TestDialTCPLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("SSH-2.0-test\r\n"))
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// 127.0.0.9 has nothing on that port: refused, then the next.
	f, err := Dialer{}.Dial(ctx, target.Target{Network: target.TCP, Port: uint32(port), Addrs: addrs("127.0.0.9", "127.0.0.1")})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 8)
	if n, _ := f.Read(buf); string(buf[:n]) != "SSH-2.0-" {
		t.Errorf("read %q from the connection", buf[:n])
	}
}

func TestShare(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if s := share(ctx, 3); s > time.Second || s < 900*time.Millisecond {
		t.Errorf("share of 3s among 3 = %v, want about 1s", s)
	}
	if s := share(ctx, 1); s < 2900*time.Millisecond {
		t.Errorf("last attempt's share = %v, want all that is left", s)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if s := share(ctx, 2); s != MaxPerAddress {
		t.Errorf("share of 1m among 2 = %v, want the cap %v", s, MaxPerAddress)
	}
	if s := share(context.Background(), 2); s != MaxPerAddress {
		t.Errorf("share without deadline = %v, want %v", s, MaxPerAddress)
	}
}

// lateCtx's deadline has passed but its timer has not fired yet: Err is
// still nil, as a connect bounded by that deadline can see it.
type lateCtx struct{ context.Context }

func (lateCtx) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestClassifyDeadlineBeforeErr(t *testing.T) {
	ctx := lateCtx{context.Background()}
	for _, target := range []target.Target{
		{Network: target.Unix, Path: "/run/x.sock"},
		{Network: target.VSock, CID: 3, Port: 22},
	} {
		err := classify(ctx, target, &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded})
		if c := failure.ClassOf(err); c != failure.Timeout {
			t.Errorf("%s: class %d, want Timeout: %v", target.Network, c, err)
		}
	}
	if !over(ctx) || over(context.Background()) {
		t.Error("over() does not follow the deadline")
	}
}

package libvirtrpc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// frame builds one message as the daemon sends it.
func frame(h header, body []byte) []byte {
	var e Encoder
	e.Uint32(uint32(4 + headerSize + len(body)))
	for _, w := range []uint32{h.prog, h.vers, h.proc, h.typ, h.serial, h.status} {
		e.Uint32(w)
	}
	return append(e.Bytes(), body...)
}

// reply is the header of the daemon's answer to call h.
func reply(h header, status uint32) header {
	h.typ, h.status = typeReply, status
	return h
}

// errorBody encodes a virNetMessageError with every field, as the daemon
// sends it.
func errorBody(code ErrorCode, msg string) []byte {
	var e Encoder
	e.Int32(int32(code))
	e.Int32(10) // virErrorDomain: any
	e.OptString(msg)
	e.Int32(2) // level
	e.Uint32(0)
	e.OptString("str1")
	e.Uint32(0)
	e.Uint32(0)
	e.Int32(0)
	e.Int32(0)
	e.Uint32(0)
	return e.Bytes()
}

// received is one call as the fake daemon read it.
type received struct {
	h    header
	args []byte
}

// fake is an in-process daemon on the other end of a Conn.
type fake struct {
	c      *Conn
	client net.Conn // the Conn's end
	server net.Conn // the daemon's end
	mu     sync.Mutex
	got    []received
}

// fakeDaemon serves a Conn's other end: handle answers each call with a
// status and a body, or returns ok=false to leave it unanswered (the test
// may answer it later with write).
func fakeDaemon(t *testing.T, handle func(h header, args []byte) (status uint32, body []byte, ok bool)) *fake {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	f := &fake{c: New(client), client: client, server: server}
	go func() {
		br := bufio.NewReader(server)
		for {
			h, args, err := readMessage(br)
			if err != nil {
				server.Close()
				return
			}
			f.mu.Lock()
			f.got = append(f.got, received{h, args})
			f.mu.Unlock()
			if status, body, ok := handle(h, args); ok {
				f.write(frame(reply(h, status), body))
			}
		}
	}()
	return f
}

// write sends raw bytes from the daemon's end.
func (f *fake) write(b []byte) {
	go f.server.Write(b) // net.Pipe blocks until the client reads
}

// calls returns the calls received so far.
func (f *fake) calls() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// waitCalls waits until n calls have arrived and returns them.
func (f *fake) waitCalls(t *testing.T, n int) []received {
	t.Helper()
	for range 1000 {
		if got := f.calls(); len(got) >= n {
			return got
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the fake daemon got %d calls, want %d", len(f.calls()), n)
	return nil
}

var testDomain = Domain{Name: "web-01", UUID: UUID{0x11, 0x22, 15: 0xff}, ID: 7}

func domainBody(d Domain) []byte {
	var e Encoder
	e.Domain(d)
	return e.Bytes()
}

// TestCalls checks each wrapped call's arguments on the wire and the
// decoding of its result, against bytes written out by hand from
// remote_protocol.x.
func TestCalls(t *testing.T) {
	var iface Encoder
	iface.Uint32(1)
	iface.Str("vnet0")
	iface.OptString("52:54:00:aa:bb:cc")
	iface.Uint32(2)
	iface.Int32(0)
	iface.Str("192.0.2.7")
	iface.Uint32(24)
	iface.Int32(1)
	iface.Str("fe80::1")
	iface.Uint32(64)

	var stats Encoder
	stats.Uint32(1)
	stats.Domain(testDomain)
	stats.Uint32(3)
	stats.Str("state.state")
	stats.Int32(1)
	stats.Int32(3)
	stats.Str("state.reason")
	stats.Int32(7)
	stats.Str("s")
	stats.Str("cpu.time")
	stats.Int32(4)
	stats.Uint32(0)
	stats.Uint32(99)

	var list Encoder
	list.Uint32(2)
	list.Domain(testDomain)
	list.Domain(Domain{Name: "off", ID: -1})
	list.Uint32(2)

	dom := domainBody(testDomain)
	tests := []struct {
		name     string
		call     func(c *Conn) (any, error)
		proc     uint32
		wantArgs []byte
		body     []byte
		want     string // the result, formatted by %+v
	}{
		{"AuthList", func(c *Conn) (any, error) { return c.AuthList().Wait() }, procAuthList,
			nil, words(2, 2, 0), "[polkit none]"}, // AuthType 2, 0
		{"AuthPolkit", func(c *Conn) (any, error) { return c.AuthPolkit().Wait() }, procAuthPolkit,
			nil, words(1), "{}"},
		{"ConnectOpen", func(c *Conn) (any, error) { return c.ConnectOpen("qemu:///system", ReadOnly).Wait() }, procConnectOpen,
			append(append(words(1, 14), "qemu:///system\x00\x00"...), words(1)...), nil, "{}"},
		{"ConnectClose", func(c *Conn) (any, error) { return c.ConnectClose().Wait() }, procConnectClose,
			nil, nil, "{}"},
		{"LookupByName", func(c *Conn) (any, error) { return c.LookupByName("web-01").Wait() }, procDomainLookupByName,
			append(words(6), "web-01\x00\x00"...), dom, "{Name:web-01 UUID:11220000-0000-0000-0000-0000000000ff ID:7}"},
		{"LookupByUUID", func(c *Conn) (any, error) { return c.LookupByUUID(testDomain.UUID).Wait() }, procDomainLookupByUUID,
			testDomain.UUID[:], dom, "{Name:web-01 UUID:11220000-0000-0000-0000-0000000000ff ID:7}"},
		{"LookupByID", func(c *Conn) (any, error) { return c.LookupByID(7).Wait() }, procDomainLookupByID,
			words(7), dom, "{Name:web-01 UUID:11220000-0000-0000-0000-0000000000ff ID:7}"},
		{"GetState", func(c *Conn) (any, error) { return c.GetState(testDomain).Wait() }, procDomainGetState,
			append(dom, words(0)...), words(3, 1), "{State:3 Reason:1}"},
		{"GetXMLDesc", func(c *Conn) (any, error) { return c.GetXMLDesc(testDomain, 0).Wait() }, procDomainGetXMLDesc,
			append(dom, words(0)...), append(words(9), "<domain/>\x00\x00\x00"...), "<domain/>"},
		{"ListAllDomains", func(c *Conn) (any, error) { return c.ListAllDomains(ListActive | ListInactive).Wait() }, procConnectListAllDomains,
			words(1, 3), list.Bytes(), "[{Name:web-01 UUID:11220000-0000-0000-0000-0000000000ff ID:7} {Name:off UUID:00000000-0000-0000-0000-000000000000 ID:-1}]"},
		{"GetAllDomainStats", func(c *Conn) (any, error) { return c.GetAllDomainStats(StatsState, 0).Wait() }, procConnectGetAllDomainStats,
			words(0, 1, 0), stats.Bytes(), "[{Domain:{Name:web-01 UUID:11220000-0000-0000-0000-0000000000ff ID:7} Params:[{Field:state.state Value:3} {Field:state.reason Value:s} {Field:cpu.time Value:99}]}]"},
		{"InterfaceAddresses", func(c *Conn) (any, error) { return c.InterfaceAddresses(testDomain, 2).Wait() }, procDomainInterfaceAddresses,
			append(dom, words(2, 0)...), iface.Bytes(), "[{Name:vnet0 HWAddr:52:54:00:aa:bb:cc Addrs:[{Type:0 Addr:192.0.2.7 Prefix:24} {Type:1 Addr:fe80::1 Prefix:64}]}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakeDaemon(t, func(h header, _ []byte) (uint32, []byte, bool) { return statusOK, tt.body, true })
			v, err := tt.call(f.c)
			if err != nil {
				t.Fatal(err)
			}
			if got := sprintf(v); got != tt.want {
				t.Errorf("result %s, want %s", got, tt.want)
			}
			got := f.calls()
			if len(got) != 1 {
				t.Fatalf("%d calls on the wire, want 1", len(got))
			}
			h := got[0].h
			if h.prog != program || h.vers != version || h.proc != tt.proc || h.typ != typeCall || h.status != statusOK || h.serial != 1 {
				t.Errorf("header %+v", h)
			}
			if !bytes.Equal(got[0].args, tt.wantArgs) {
				t.Errorf("args %x, want %x", got[0].args, tt.wantArgs)
			}
		})
	}
}

func words(ws ...uint32) []byte {
	var e Encoder
	for _, w := range ws {
		e.Uint32(w)
	}
	return e.Bytes()
}

// TestOutOfOrder: replies come back in the daemon's order, not the calls',
// and each reaches the call with its serial.
func TestOutOfOrder(t *testing.T) {
	f := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return 0, nil, false })
	a := f.c.LookupByID(1)
	b := f.c.LookupByID(2)
	got := f.waitCalls(t, 2)
	f.write(frame(reply(got[1].h, statusOK), domainBody(Domain{Name: "two", ID: 2})))
	if d, err := b.Wait(); err != nil || d.Name != "two" {
		t.Fatalf("second call: %+v, %v", d, err)
	}
	f.write(frame(reply(got[0].h, statusOK), domainBody(Domain{Name: "one", ID: 1})))
	if d, err := a.Wait(); err != nil || d.Name != "one" {
		t.Fatalf("first call: %+v, %v", d, err)
	}
}

// TestSharedReading: no goroutine of the Conn reads; the callers that wait
// do, and each reply reaches its own call whoever read it: replies in any
// order, callers waiting at once or one after the other, and a call nobody
// waits for, whose reply a later caller reads past.
func TestSharedReading(t *testing.T) {
	tests := []struct {
		name     string
		calls    int
		answer   []int // the order the daemon answers the calls in
		together bool  // the callers wait at once, each in its goroutine
		waited   []int // the calls waited for, in this order
	}{
		{"answered in order, waited in reverse", 3, []int{0, 1, 2}, false, []int{2, 1, 0}},
		{"answered in reverse, waited in order", 3, []int{2, 1, 0}, false, []int{0, 1, 2}},
		{"waited together, answered in reverse", 8, []int{7, 6, 5, 4, 3, 2, 1, 0}, true, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"waited together, answered interleaved", 6, []int{1, 0, 3, 2, 5, 4}, true, []int{0, 1, 2, 3, 4, 5}},
		{"a call nobody waits for", 2, []int{0, 1}, false, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return 0, nil, false })
			replies := make([]*Reply[Domain], tt.calls)
			for i := range replies {
				replies[i] = f.c.LookupByID(int32(i))
			}
			got := f.waitCalls(t, tt.calls)
			var b []byte
			for _, i := range tt.answer {
				b = append(b, frame(reply(got[i].h, statusOK), domainBody(Domain{Name: fmt.Sprint("dom", i), ID: int32(i)}))...)
			}
			f.write(b)
			check := func(i int) error {
				d, err := replies[i].Wait()
				if err != nil || d.Name != fmt.Sprint("dom", i) {
					return fmt.Errorf("call %d: %+v, %v", i, d, err)
				}
				return nil
			}
			if !tt.together {
				for _, i := range tt.waited {
					if err := check(i); err != nil {
						t.Fatal(err)
					}
				}
				// Every answer is in: nothing of the Conn runs on.
				buf := make([]byte, 1<<20)
				if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "libvirtrpc.(*Conn)") {
					t.Fatalf("a goroutine is still in the Conn:\n%s", stacks)
				}
				return
			}
			errs := make(chan error, len(tt.waited))
			for _, i := range tt.waited {
				go func() { errs <- check(i) }()
			}
			for range tt.waited {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestErrorReply: an error reply is an *Error with the daemon's code and
// message, and the connection stays usable.
func TestErrorReply(t *testing.T) {
	f := fakeDaemon(t, func(h header, args []byte) (uint32, []byte, bool) {
		if h.proc == procDomainLookupByName {
			return statusError, errorBody(CodeNoDomain, "Domain not found: no domain with matching name 'x'"), true
		}
		return statusOK, nil, true
	})
	_, err := f.c.LookupByName("x").Wait()
	var le *Error
	if !errors.As(err, &le) || le.Code != CodeNoDomain || le.Message != "Domain not found: no domain with matching name 'x'" || !HasCode(err, CodeNoDomain) || HasCode(err, CodeNoSupport) {
		t.Fatalf("error %#v", err)
	}
	if _, err := f.c.ConnectClose().Wait(); err != nil {
		t.Fatalf("a call after an error reply: %v", err)
	}
	if got := (&Error{Code: 9}).Error(); got != "libvirt error 9" {
		t.Errorf("an error without a message reads %q", got)
	}
}

// TestConnLost: when the connection goes, from either end, every pending
// call returns ErrConnLost at once, and so does every later call.
func TestConnLost(t *testing.T) {
	tests := []struct {
		name string
		end  func(f *fake)
		want string
	}{
		{"watchdog closes", func(f *fake) { f.client.Close() }, "closed"},
		{"daemon hangs up", func(f *fake) { f.server.Close() }, "EOF"},
		{"daemon hangs up inside a message", func(f *fake) {
			f.server.Write(words(100, program))
			f.server.Close()
		}, "connection closed inside a message header"},
		{"daemon sends a reply nobody asked for", func(f *fake) {
			f.write(frame(header{program, version, procConnectOpen, typeReply, 99, statusOK}, nil))
		}, "unexpected message"},
		{"daemon sends a huge length", func(f *fake) { f.write(words(1<<31, 0, 0, 0, 0, 0, 0)) }, "message length 2147483648"},
		{"daemon sends a short length", func(f *fake) { f.write(words(27, 0, 0, 0, 0, 0, 0)) }, "message length 27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return 0, nil, false })
			pending := f.c.GetXMLDesc(testDomain, 0)
			f.waitCalls(t, 1)
			done := make(chan error, 1)
			go func() { _, err := pending.Wait(); done <- err }()
			tt.end(f)
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the pending call did not return")
			}
			if !errors.Is(err, ErrConnLost) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("pending call: %v, want ErrConnLost with %q", err, tt.want)
			}
			if _, err := f.c.LookupByID(1).Wait(); !errors.Is(err, ErrConnLost) {
				t.Fatalf("a later call: %v, want ErrConnLost", err)
			}
		})
	}
}

// TestSkipsEvents: an event (type MESSAGE) or another program's message
// between replies is skipped.
func TestSkipsEvents(t *testing.T) {
	f := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return 0, nil, false })
	r := f.c.LookupByID(3)
	got := f.waitCalls(t, 1)
	var b []byte
	b = append(b, frame(header{program, version, 300, typeMessage, 0, statusOK}, words(1, 2))...)
	b = append(b, frame(header{0x6b656570, 1, 1, typeMessage, 0, statusOK}, nil)...) // keepalive PING
	b = append(b, frame(reply(got[0].h, statusOK), domainBody(testDomain))...)
	f.write(b)
	if d, err := r.Wait(); err != nil || d != testDomain {
		t.Fatalf("%+v, %v", d, err)
	}
}

// TestOpen: the handshake per auth type, and the read-only flag on the
// wire.
func TestOpen(t *testing.T) {
	tests := []struct {
		name      string
		auth      []uint32
		openErr   bool
		wantProcs []uint32
		wantErr   string
	}{
		{"auth none", []uint32{1, 0}, false, []uint32{procAuthList, procConnectOpen}, ""},
		{"empty auth list", []uint32{0}, false, []uint32{procAuthList, procConnectOpen}, ""},
		{"polkit", []uint32{1, 2}, false, []uint32{procAuthList, procAuthPolkit, procConnectOpen}, ""},
		{"sasl", []uint32{1, 1}, false, []uint32{procAuthList}, "other than none or polkit"},
		{"sasl named", []uint32{2, 1, 7}, false, []uint32{procAuthList}, "(auth types [sasl 7])"},
		{"open refused", []uint32{1, 0}, true, []uint32{procAuthList, procConnectOpen}, "open qemu:///system: no connection driver available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakeDaemon(t, func(h header, _ []byte) (uint32, []byte, bool) {
				switch h.proc {
				case procAuthList:
					return statusOK, words(tt.auth...), true
				case procAuthPolkit:
					return statusOK, words(1), true
				case procConnectOpen:
					if tt.openErr {
						return statusError, errorBody(60, "no connection driver available"), true
					}
				}
				return statusOK, nil, true
			})
			err := f.c.Open("qemu:///system", ReadOnly)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Open: %v, want %q", err, tt.wantErr)
			}
			var procs []uint32
			for _, c := range f.calls() {
				procs = append(procs, c.h.proc)
				if c.h.proc == procConnectOpen && !bytes.HasSuffix(c.args, words(1)) {
					t.Errorf("CONNECT_OPEN flags: args %x, want the read-only flag 1", c.args)
				}
			}
			if sprintf(procs) != sprintf(tt.wantProcs) {
				t.Errorf("calls %v, want %v", procs, tt.wantProcs)
			}
		})
	}
}

// TestClose: CONNECT_CLOSE, its answer awaited, then the socket closed.
func TestClose(t *testing.T) {
	f := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return statusOK, nil, true })
	if err := f.c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := f.calls(); len(got) != 1 || got[0].h.proc != procConnectClose {
		t.Fatalf("calls %+v", got)
	}
	if _, err := f.client.Write([]byte{0}); err == nil {
		t.Fatal("the socket is still open")
	}
}

// TestCloseWaitsForCalls: Close sends CONNECT_CLOSE only once the calls in
// flight are answered (the daemon would run it alongside them), and a
// watchdog closing the socket ends the wait.
func TestCloseWaitsForCalls(t *testing.T) {
	f := fakeDaemon(t, func(h header, _ []byte) (uint32, []byte, bool) {
		return statusOK, nil, h.proc == procConnectClose
	})
	f.c.LookupByID(1)
	f.waitCalls(t, 1)
	closed := make(chan error, 1)
	go func() { closed <- f.c.Close() }()
	time.Sleep(20 * time.Millisecond)
	if got := f.calls(); len(got) != 1 {
		t.Fatalf("CONNECT_CLOSE went out with a call in flight: %+v", got)
	}
	f.write(frame(reply(f.calls()[0].h, statusOK), domainBody(testDomain)))
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if got := f.calls(); len(got) != 2 || got[1].h.proc != procConnectClose {
		t.Fatalf("calls %+v", got)
	}

	hung := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return 0, nil, false })
	hung.c.LookupByID(1)
	hung.waitCalls(t, 1)
	go func() { closed <- hung.c.Close() }()
	hung.client.Close()
	if err := <-closed; !errors.Is(err, ErrConnLost) {
		t.Fatalf("Close on a hung daemon after the watchdog: %v", err)
	}
}

// TestDecoderLimits: lengths read from the message are checked against
// what is left before anything is allocated.
func TestDecoderLimits(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		read func(d *Decoder)
		want string
	}{
		{"string longer than the message", words(1 << 30), func(d *Decoder) { d.Str() }, "string of 1073741824 bytes in 0 left"},
		{"string past the end", append(words(5), "abc"...), func(d *Decoder) { d.Str() }, "string of 5 bytes in 3 left"},
		{"padding past the end", append(words(3), "abc"...), func(d *Decoder) { d.Str() }, "message ends inside a value"},
		{"nonzero padding", append(words(3), "abc!"...), func(d *Decoder) { d.Str() }, "nonzero padding"},
		{"array longer than the message", words(1<<31, 0), func(d *Decoder) { d.Count(domainMinSize) }, "array of 2147483648 elements in 4 bytes"},
		{"bool neither 0 nor 1", words(2), func(d *Decoder) { d.Bool() }, "bool is 2"},
		{"left over", words(1, 2), func(d *Decoder) { d.Uint32() }, "4 bytes left over after the reply"},
		{"short int", []byte{0, 0}, func(d *Decoder) { d.Int32() }, "message ends inside a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.body)
			tt.read(d)
			if err := d.Finish(); err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestUUIDString(t *testing.T) {
	u := UUID{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb}
	if got, want := u.String(), "deadbeef-0001-0203-0405-060708090a0b"; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}

// TestBigMessage: a reply larger than one read arrives whole, and one near
// the limit is accepted.
func TestBigMessage(t *testing.T) {
	xml := strings.Repeat("x", 3<<20)
	var e Encoder
	e.Str(xml)
	f := fakeDaemon(t, func(header, []byte) (uint32, []byte, bool) { return statusOK, e.Bytes(), true })
	got, err := f.c.GetXMLDesc(testDomain, 0).Wait()
	if err != nil || got != xml {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	var w [4]byte
	binary.BigEndian.PutUint32(w[:], 4+maxMessage)
	if _, _, err := readMessage(bytes.NewReader(append(w[:], make([]byte, headerSize)...))); err == nil || !strings.Contains(err.Error(), "inside a message") {
		t.Fatalf("a maximal length without its bytes: %v", err)
	}
}

func sprintf(v any) string { return fmt.Sprintf("%+v", v) }

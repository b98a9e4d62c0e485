// Package libvirtrpc speaks libvirt's remote protocol over a local unix
// socket: the client side of the calls the helper makes, and nothing else.
//
// It replaces a general-purpose binding (go-libvirt) whose root package
// links Go's SSH and TLS clients for transports the helper never uses: a URI
// with a host goes through the system's ssh instead. What it does:
//
//   - framing: a 4-byte big-endian length that counts itself, a 24-byte
//     header (program 0x20008086, version 1, procedure, type, serial,
//     status), then the XDR-encoded arguments or result;
//   - several calls in flight on one connection, told apart by serial, so
//     that calls that do not depend on each other cost one round trip
//     together (see Open for the daemon's rules on what may overlap);
//   - error replies decoded into *Error, with libvirt's error code;
//   - cancellation by closing the connection: every pending call then
//     returns ErrConnLost at once.
//
// Replies are read by the callers themselves: whichever caller is waiting
// takes the turn to read the socket, one at a time, and hands each reply to
// the call with its serial, its own or another's, until its own has come.
// A reader goroutine would cost a hand-over between goroutines per reply
// (about 0.1 ms of a lookup's half millisecond on the wire, and more in a
// process just started), on the path of every ssh connection. Nothing read
// from the daemon is trusted: a frame
// is at most maxMessage bytes and is read as it arrives (a hostile length
// allocates nothing), and every length inside it is checked against the
// bytes left before anything is allocated.
package libvirtrpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The protocol's constants (libvirt's virnetprotocol.x, remote_protocol.x).
const (
	program    = 0x20008086 // REMOTE_PROGRAM
	version    = 1          // REMOTE_PROTOCOL_VERSION
	headerSize = 24
	// maxMessage is VIR_NET_MESSAGE_MAX (32 MiB since libvirt 6.x), which
	// the length word may exceed by its own 4 bytes.
	maxMessage = 32 << 20
)

// Message types and statuses (virNetMessageType, virNetMessageStatus).
const (
	typeCall    = 0
	typeReply   = 1
	typeMessage = 2 // an event: never asked for, skipped

	statusOK    = 0
	statusError = 1
)

// ErrConnLost is what pending and later calls return once the connection is
// gone: the daemon closed it, it broke, or the caller closed it (Close, or
// closing the net.Conn from a watchdog). The wrapped cause says which.
var ErrConnLost = errors.New("connection to libvirt lost")

// Conn is a client connection to a libvirt daemon. Its methods may be
// called from several goroutines; each call returns a Reply at once and
// the result arrives when the daemon answers.
type Conn struct {
	nc net.Conn
	// Trace, when set, is told each call's reply: procedure, serial,
	// outcome and the time since the call was sent. It may change only
	// while no call is in flight (the caller that waits reads it).
	Trace func(format string, args ...any)

	// turn is held (a value in it) by the one caller reading the socket;
	// br is that reader's buffer.
	turn chan struct{}
	br   *bufio.Reader

	mu      sync.Mutex // guards serial, pending and lost
	serial  uint32
	pending map[uint32]*call
	lost    error // set once the connection is given up; pending is then nil
	werr    error // the first failed write, the cause to report

	wmu  sync.Mutex // one frame at a time on the wire
	wbuf []byte
}

// call is one request waiting for its reply.
type call struct {
	proc uint32
	sent time.Time
	done chan result // buffered: the reader never blocks on it
}

type result struct {
	body []byte
	err  error
}

// New returns a Conn speaking over nc, which it owns from now on. Closing
// nc (a watchdog's way to bound a hung daemon) makes every pending call
// return ErrConnLost at once.
func New(nc net.Conn) *Conn {
	return &Conn{nc: nc, turn: make(chan struct{}, 1), pending: map[uint32]*call{}}
}

// Reply is a call's result to come. Wait blocks until the daemon answers or
// the connection is lost; it may be called again (from the same goroutine)
// for the same answer.
type Reply[T any] struct {
	conn   *Conn
	call   *call // nil when the call never went out; err says why
	decode func(*Decoder) T
	done   bool
	v      T
	err    error
}

// Wait returns the call's result: the decoded value, an *Error when the
// daemon answered with an error, or ErrConnLost.
func (r *Reply[T]) Wait() (T, error) {
	if r.done || r.call == nil {
		return r.v, r.err
	}
	r.done = true
	res := r.conn.await(r.call)
	if res.err != nil {
		r.err = res.err
		return r.v, r.err
	}
	d := NewDecoder(res.body)
	r.v = r.decode(d)
	if err := d.Finish(); err != nil {
		r.err = fmt.Errorf("decode the reply to %s: %w", procName(r.call.proc), err)
	}
	return r.v, r.err
}

// Call sends procedure proc of the remote program with XDR-encoded args
// and returns its raw result, for procedures this package does not wrap.
// The helper only reads, so nothing in it calls this: it is the seam of
// the integration fixtures (test/integration's CreateDomain and
// DestroyDomain), which change domains on their private libvirtd over the
// same framing rather than a second copy of it.
func (c *Conn) Call(proc uint32, args []byte) *Reply[[]byte] {
	return send(c, proc, args, func(d *Decoder) []byte {
		b := d.b
		d.b = nil
		return b
	})
}

// send frames and writes a call and returns its Reply. decode reads the
// result; nil means a void result.
func send[T any](c *Conn, proc uint32, args []byte, decode func(*Decoder) T) *Reply[T] {
	if decode == nil {
		decode = func(*Decoder) (zero T) { return }
	}
	r := &Reply[T]{conn: c, decode: decode}
	cl := &call{proc: proc, done: make(chan result, 1), sent: time.Now()}
	c.mu.Lock()
	if c.lost != nil {
		c.mu.Unlock()
		r.err = c.lost
		return r
	}
	c.serial++
	serial := c.serial
	r.call = cl
	c.pending[serial] = cl
	c.mu.Unlock()

	// The pending lock is not held while writing: a daemon blocked on
	// writing a reply to us must not keep a reader from taking it. (Our
	// writes do not wait for reads: a call is a few dozen bytes, the
	// callers keep at most a handful in flight, and the daemon queues its
	// replies rather than blocking on them.)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := c.wbuf[:0]
	for _, w := range []uint32{uint32(4 + headerSize + len(args)), program, version, proc, typeCall, serial, statusOK} {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	b = append(b, args...)
	c.wbuf = b
	if _, err := c.nc.Write(b); err != nil {
		// Closing makes the next read fail this call (unless its reply
		// came first) and every other one, naming err as the cause.
		c.mu.Lock()
		if c.werr == nil {
			c.werr = fmt.Errorf("send %s: %w", procName(proc), err)
		}
		c.mu.Unlock()
		c.nc.Close()
	}
	return r
}

// await returns cl's result. While it has not come, the caller takes the
// turn to read, one message per turn, handing each to its call; another
// caller reading meanwhile may deliver it instead.
func (c *Conn) await(cl *call) result {
	for {
		select {
		case res := <-cl.done:
			return res
		case c.turn <- struct{}{}:
		}
		select {
		case res := <-cl.done: // delivered by the turn before
			<-c.turn
			return res
		default:
		}
		c.readTurn()
		<-c.turn
	}
}

// drain reads until no call is in flight or the connection is given up.
func (c *Conn) drain() {
	for {
		c.turn <- struct{}{}
		c.mu.Lock()
		idle := len(c.pending) == 0
		c.mu.Unlock()
		if !idle {
			c.readTurn()
		}
		<-c.turn
		if idle {
			return
		}
	}
}

// readTurn reads one message and delivers it; the caller holds the turn.
// When the connection fails, it gives it up: every pending call and every
// later one fails.
func (c *Conn) readTurn() {
	if c.br == nil {
		c.br = bufio.NewReader(c.nc)
	}
	err := c.readOne(c.br)
	if err == nil {
		return
	}
	c.mu.Lock()
	if c.werr != nil {
		err = c.werr
	}
	lost := fmt.Errorf("%w: %w", ErrConnLost, err)
	c.lost = lost
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, cl := range pending {
		cl.done <- result{err: lost}
	}
}

// ErrProtocol marks a reply that is not libvirt's remote protocol, or not
// an answer to anything asked: the connection is then given up.
var ErrProtocol = errors.New("not libvirt's remote protocol")

// readOne reads one message and delivers it.
func (c *Conn) readOne(br *bufio.Reader) error {
	h, body, err := readMessage(br)
	if err != nil {
		return err
	}
	if h.prog != program || h.vers != version || h.typ == typeMessage {
		return nil // an event or another program's message: not ours
	}
	c.mu.Lock()
	cl := c.pending[h.serial]
	if cl != nil && h.typ == typeReply && h.proc == cl.proc {
		delete(c.pending, h.serial)
	} else {
		cl = nil
	}
	c.mu.Unlock()
	if cl == nil {
		return fmt.Errorf("%w: unexpected message (procedure %d, type %d, serial %d)", ErrProtocol, h.proc, h.typ, h.serial)
	}
	res := result{body: body}
	switch h.status {
	case statusOK:
	case statusError:
		res = result{err: decodeError(body)}
	default:
		res = result{err: fmt.Errorf("%w: reply status %d", ErrProtocol, h.status)}
	}
	if c.Trace != nil {
		outcome := "ok"
		if res.err != nil {
			outcome = res.err.Error()
		}
		c.Trace("libvirt %s #%d: %s in %.2f ms", procName(cl.proc), h.serial, outcome, float64(time.Since(cl.sent).Microseconds())/1000)
	}
	cl.done <- res
	return nil
}

// header is a message header (virNetMessageHeader).
type header struct {
	prog, vers, proc, typ, serial, status uint32
}

// readMessage reads one frame. The body grows as bytes arrive, so a length
// word the daemon does not back with data allocates nothing.
func readMessage(r io.Reader) (header, []byte, error) {
	var w [4 + headerSize]byte
	if _, err := io.ReadFull(r, w[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: connection closed inside a message header", ErrProtocol)
		}
		return header{}, nil, err
	}
	n := binary.BigEndian.Uint32(w[:])
	if n < 4+headerSize || n > 4+maxMessage {
		return header{}, nil, fmt.Errorf("%w: message length %d", ErrProtocol, n)
	}
	word := func(i int) uint32 { return binary.BigEndian.Uint32(w[4+4*i:]) }
	h := header{word(0), word(1), word(2), word(3), word(4), word(5)}
	size := int(n) - 4 - headerSize
	body := make([]byte, 0, min(size, 64<<10))
	for len(body) < size {
		if len(body) == cap(body) {
			body = slices.Grow(body, min(size, 2*cap(body))-len(body))
		}
		m, err := io.ReadFull(r, body[len(body):min(cap(body), size)])
		body = body[:len(body)+m]
		if err != nil {
			return header{}, nil, fmt.Errorf("%w: connection closed inside a message (%d of %d bytes)", ErrProtocol, len(body), size)
		}
	}
	return h, body, nil
}

// ErrorCode is libvirt's virErrorNumber.
type ErrorCode int32

// The error codes the helper tells apart (libvirt's virerror.h).
const (
	CodeNoSupport ErrorCode = 3  // VIR_ERR_NO_SUPPORT: the driver lacks the call
	CodeNoDomain  ErrorCode = 42 // VIR_ERR_NO_DOMAIN: no such domain
)

// Error is the daemon's error reply to a call (virNetMessageError).
type Error struct {
	Code    ErrorCode
	Domain  int32 // virErrorDomain: which part of libvirt failed
	Message string
}

// Error is the daemon's message, or its error code when it sent none.
func (e *Error) Error() string {
	if e.Message == "" {
		return "libvirt error " + strconv.Itoa(int(e.Code))
	}
	return e.Message
}

// HasCode reports whether err is, or wraps, a libvirt error with code c.
func HasCode(err error, c ErrorCode) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}

// decodeError reads a virNetMessageError. Only code, domain and message
// are kept; what follows them is informational and not read.
func decodeError(body []byte) error {
	d := NewDecoder(body)
	e := &Error{Code: ErrorCode(d.Int32()), Domain: d.Int32()}
	e.Message, _ = d.OptString()
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: undecodable error reply: %w", ErrProtocol, err)
	}
	return e
}

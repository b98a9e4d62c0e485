package libvirtrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// XDR (RFC 4506) as libvirt's remote protocol uses it: big-endian 4-byte
// words, strings and opaque data as a length word then the bytes padded to
// a multiple of 4, optional values ("pointers") as a 0/1 word then the
// value, variable arrays as a count word then the elements.

// Encoder appends XDR values to a byte slice. It is exported for callers
// (tests) that need a procedure this package does not wrap; see Conn.Call.
type Encoder struct {
	b []byte
}

// Bytes returns what has been encoded so far.
func (e *Encoder) Bytes() []byte { return e.b }

// Uint32 appends an unsigned int.
func (e *Encoder) Uint32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

// Int32 appends an int.
func (e *Encoder) Int32(v int32) { e.Uint32(uint32(v)) }

// Str appends a (nonnull) string.
func (e *Encoder) Str(s string) {
	e.Uint32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.pad(len(s))
}

// OptString appends an optional string that is present.
func (e *Encoder) OptString(s string) {
	e.Uint32(1)
	e.Str(s)
}

// Domain appends a remote_nonnull_domain: name, UUID, ID.
func (e *Encoder) Domain(d Domain) {
	e.Str(d.Name)
	e.b = append(e.b, d.UUID[:]...)
	e.Int32(d.ID)
}

func (e *Encoder) pad(n int) {
	for ; n%4 != 0; n++ {
		e.b = append(e.b, 0)
	}
}

// errShort is the decoder's answer to a value that runs past the message.
var errShort = errors.New("message ends inside a value")

// Decoder reads XDR values from a message body. The first problem sticks:
// later reads return zero values, and Err reports it. Every length read
// from the message is checked against the bytes that are left before
// anything is allocated, so a hostile length costs nothing: the largest
// allocation is bounded by the message, itself bounded by maxMessage.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first decoding problem, or nil.
func (d *Decoder) Err() error { return d.err }

// Finish returns the first decoding problem, or an error if bytes are left
// over: a reply longer than its procedure's result is not the reply we
// asked for.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over after the reply", len(d.b))
	}
	return d.err
}

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// take returns the next n bytes, or nil once anything failed.
func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail(errShort)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// Uint32 reads an unsigned int.
func (d *Decoder) Uint32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// Int32 reads an int.
func (d *Decoder) Int32() int32 { return int32(d.Uint32()) }

// Uint64 reads an unsigned hyper.
func (d *Decoder) Uint64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Bool reads a bool: 0 or 1, nothing else.
func (d *Decoder) Bool() bool {
	switch v := d.Uint32(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail(fmt.Errorf("bool is %d", v))
		return false
	}
}

// opaque reads n bytes of padded opaque data.
func (d *Decoder) opaque(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail(errShort)
		return nil
	}
	b := d.take(n)
	if pad := (4 - n%4) % 4; pad > 0 {
		for _, c := range d.take(pad) {
			if c != 0 {
				d.fail(errors.New("nonzero padding"))
			}
		}
	}
	return b
}

// Str reads a nonnull string.
func (d *Decoder) Str() string {
	n := d.Uint32()
	if n > uint32(len(d.b)) {
		d.fail(fmt.Errorf("string of %d bytes in %d left", n, len(d.b)))
		return ""
	}
	return string(d.opaque(int(n)))
}

// OptString reads an optional string; ok is false when it is absent.
func (d *Decoder) OptString() (s string, ok bool) {
	if !d.Bool() {
		return "", false
	}
	return d.Str(), true
}

// Count reads the length of a variable array whose elements take at least
// minSize bytes each, refusing a count the rest of the message cannot hold.
func (d *Decoder) Count(minSize int) int {
	n := d.Uint32()
	if d.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(d.b)) {
		d.fail(fmt.Errorf("array of %d elements in %d bytes", n, len(d.b)))
		return 0
	}
	return int(n)
}

// domainMinSize is the smallest encoded remote_nonnull_domain: an empty
// name, the UUID, the ID.
const domainMinSize = 4 + 16 + 4

// Domain reads a remote_nonnull_domain.
func (d *Decoder) Domain() Domain {
	var dom Domain
	dom.Name = d.Str()
	copy(dom.UUID[:], d.take(16))
	dom.ID = d.Int32()
	return dom
}

// float64 reads a double.
func (d *Decoder) float64() float64 { return math.Float64frombits(d.Uint64()) }

// Package vsockmux speaks the client side of the hybrid vsock handshake that
// Firecracker, Cloud Hypervisor and vhost-device-vsock offer on an AF_UNIX
// socket: the host connects, writes "CONNECT <port>\n", and the multiplexer
// answers "OK <n>\n" once the guest accepted on that vsock port. After the
// OK line the socket carries the guest's bytes.
package vsockmux

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxReply bounds the reply line, newline included. Real replies are
// "OK <u32>\n" (at most 14 bytes); anything longer is not a multiplexer.
const MaxReply = 32

// ErrNoAnswer means the multiplexer closed the connection before saying
// anything: nothing listens on that vsock port in the guest (yet). It is
// how every known multiplexer refuses, so it is the guest's answer, not a
// protocol error.
var ErrNoAnswer = errors.New("closed the connection without answering")

// ReplyError is a reply that is not a well-formed OK line: the socket does
// not speak the protocol, or the multiplexer refused in words.
type ReplyError struct {
	Reply []byte // what was read, newline included if any
	Why   string
}

// Error quotes the reply, since it may hold any bytes at all.
func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s: %q", e.Why, e.Reply)
}

// Request is the one line the client sends for port.
func Request(port uint32) []byte {
	return []byte("CONNECT " + strconv.FormatUint(uint64(port), 10) + "\n")
}

// Handshake asks the multiplexer on rw for port and reads its reply. The
// request goes out in one write, so that a multiplexer reading a single
// segment sees all of it. The reply is read one byte at a time, so that not
// one byte the guest sends after the OK line (its sshd's banner) is consumed
// here: the connection is handed over intact. The caller bounds the time
// with a deadline on rw.
func Handshake(rw io.ReadWriter, port uint32) error {
	if _, err := rw.Write(Request(port)); err != nil {
		return fmt.Errorf("send CONNECT %d: %w", port, err)
	}
	line, err := ReadReply(rw)
	if err != nil {
		return err
	}
	return ParseReply(line)
}

// ReadReply reads up to and including the first '\n', at most MaxReply
// bytes, one byte per read.
func ReadReply(r io.Reader) ([]byte, error) {
	line := make([]byte, 0, MaxReply)
	var b [1]byte
	for len(line) < MaxReply {
		n, err := r.Read(b[:])
		if n == 1 {
			line = append(line, b[0])
			if b[0] == '\n' {
				return line, nil
			}
			continue
		}
		switch {
		case errors.Is(err, io.EOF) && len(line) == 0:
			return nil, ErrNoAnswer
		case errors.Is(err, io.EOF):
			return nil, &ReplyError{Reply: line, Why: "reply cut short before its newline"}
		case err != nil:
			return nil, fmt.Errorf("read the reply to CONNECT: %w", err)
		}
	}
	return nil, &ReplyError{Reply: line, Why: fmt.Sprintf("no newline in the first %d bytes of the reply", MaxReply)}
}

// ParseReply accepts "OK\n" or "OK <anything>\n". What follows OK is a
// host-side port for Firecracker and Cloud Hypervisor and the guest port
// for vhost-device-vsock; nothing depends on it, so it is not checked.
func ParseReply(line []byte) error {
	body, ok := cutNewline(line)
	switch {
	case !ok:
		return &ReplyError{Reply: line, Why: "reply does not end in a newline"}
	case string(body) == "OK", bytes.HasPrefix(body, []byte("OK ")):
		return nil
	}
	return &ReplyError{Reply: line, Why: `reply is not "OK <n>"`}
}

// cutNewline returns line without its final '\n', and whether it had one
// there and nowhere else.
func cutNewline(line []byte) ([]byte, bool) {
	n := len(line)
	if n == 0 || line[n-1] != '\n' {
		return line, false
	}
	for _, c := range line[:n-1] {
		if c == '\n' {
			return line, false
		}
	}
	return line[:n-1], true
}

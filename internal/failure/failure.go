// Package failure gives every error the helper can report a class, so that
// the command maps each class to one documented exit code and every message
// reads the same way: what failed, why, and what to do.
package failure

import (
	"errors"
	"fmt"
	"net"
)

// Class says what kind of failure an Error is. The command maps each class to
// its exit code; the values here are those exit codes.
type Class int

// The classes, in the order a request meets them. The numbers are the exit
// codes documented in the README and must not change.
const (
	Internal     Class = 1  // a bug or an unexpected system error
	Usage        Class = 2  // bad command line or host form
	Unreachable  Class = 3  // cannot talk to libvirt
	NotFound     Class = 4  // no such domain on any URI searched
	NotRunning   Class = 5  // the domain exists but is not running
	NoVsock      Class = 6  // the domain has no vsock device
	NoCID        Class = 7  // the vsock device has no CID address
	NotListening Class = 8  // nothing accepts on the guest port
	Timeout      Class = 9  // --timeout expired
	NotReady     Class = 10 // the guest's vsock does not answer yet
	NoTarget     Class = 11 // no VM holds the CID, or no socket at the path
	HandOff      Class = 12 // passing the fd to ssh failed
	Relay        Class = 13 // the relayed connection failed
	SSHConfig    Class = 14 // ssh's configuration does not run the helper (doctor)
)

// names are the classes as scripts see them (`resolve --json`'s "class"):
// stable words, documented with the exit codes. An array, not a map: the
// linker lays it out, nothing is built at start-up.
var names = [...]string{
	Internal:     "internal",
	Usage:        "usage",
	Unreachable:  "unreachable",
	NotFound:     "not-found",
	NotRunning:   "not-running",
	NoVsock:      "no-vsock",
	NoCID:        "no-cid",
	NotListening: "not-listening",
	Timeout:      "timeout",
	NotReady:     "not-ready",
	NoTarget:     "no-target",
	HandOff:      "hand-off",
	Relay:        "relay",
	SSHConfig:    "ssh-config",
}

// String is the class's name, as documented with its exit code.
func (c Class) String() string {
	if c >= 0 && int(c) < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprintf("class %d", int(c))
}

// Error is a failure with its class, a message saying what failed, an
// optional hint saying what to do, and the underlying cause.
type Error struct {
	Class Class
	Msg   string // what failed, e.g. `domain "web01" is not running`
	Hint  string // what to do about it; may be empty
	Err   error  // the cause; may be nil
	// Lasting marks a failure of a retryable class that will not pass by
	// itself (a domain paused by its user): --wait does not wait on it.
	Lasting bool
}

// Error is the failure line's text after HOST: the message, the cause
// and the hint in parentheses.
func (e *Error) Error() string {
	s := e.Message()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Message is what failed and why, without the hint: for a line that names
// a failure whose hint was already printed (doctor's verdict).
func (e *Error) Message() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of class c with a formatted message.
func New(c Class, format string, args ...any) *Error {
	return &Error{Class: c, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error of class c whose cause is err.
func Wrap(c Class, err error, format string, args ...any) *Error {
	return &Error{Class: c, Msg: fmt.Sprintf(format, args...), Err: err}
}

// WithHint sets the hint and returns e, so construction reads as one line.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// ClassOf returns the class of the first *Error in err's chain, or Internal.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Internal
}

// OpCause returns the error a *net.OpError wraps, or err itself: messages
// here already name the address, which net.OpError would repeat.
func OpCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

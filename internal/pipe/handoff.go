//go:build linux

package pipe

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/verbose"
)

// Handoff is the last step of the road: how a connection goes to the
// client on Stdin and Stdout.
type Handoff struct {
	Stdin, Stdout *os.File
	// FD passes the connection itself (ssh's ProxyUseFdpass); else relay.
	FD bool
	// Logf, when set, is told each step (-v).
	Logf verbose.Logf
}

// WantFD says whether to hand the client the connection itself rather than
// relay: --fdpass (fdpass) or --relay (relay) decide, else whether ssh asked
// for it: stdin and stdout are one socket (IsFDChannel), and ssh is at its
// other end (libssh clients and socat EXEC: give the same shape but read the
// fd's byte as the banner).
func WantFD(stdin *os.File, fdChannel, fdpass, relay bool, logf verbose.Logf) bool {
	if fdpass || relay || !fdChannel {
		return fdpass
	}
	if !PeerIsSSH(stdin) {
		logf.Printf("stdin and stdout are one socket, but not ssh's: relaying")
		return false
	}
	return true
}

// ClientGone reports whether the client (ssh) has closed its end of stdin,
// giving it a moment to: ssh exits by closing the helper's stdout reader
// first and its stdin writer next, so an error seen on the way out (a broken
// pipe, an inner ssh that noticed the closed pipes) is the end of the
// session rather than a failure when stdin hangs up too.
func ClientGone(stdin *os.File) bool {
	return HungUp(stdin, 100*time.Millisecond)
}

// Serve hands conn to the client: the fd itself, or a relay until either
// side ends. It returns nil for every clean end of a session; a failure is
// a *failure.Error of class HandOff or Relay.
func (h *Handoff) Serve(conn *os.File) error {
	if h.FD {
		h.Logf.Printf("passing the connection to ssh")
		return SendFDToSSH(h.Stdout, conn)
	}
	h.Logf.Printf("relaying between stdin/stdout and the connection")
	// A reader that goes away must end the relay with an error, not kill
	// the process silently.
	signal.Ignore(syscall.SIGPIPE)
	// SIGTERM ends the relay, which returns only once it has put back the
	// flags of shared sockets (an exit from the signal handler would leave
	// them non-blocking). Under ssh, which never sends it (ssh ends its
	// ProxyCommand with SIGHUP), it comes from someone else (kill, a
	// shutdown) and the session's loss gets a line saying so. Any other
	// client that runs us sends it itself to end a finished session
	// (paramiko does on every close): a quiet exit 0. SIGHUP keeps its
	// quiet default: ssh sends it whenever ssh exits, when there is
	// nothing left to report.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := Relay(ctx, h.Stdin, h.Stdout, conn)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrStopped):
		if !ProcessIsSSH(os.Getppid()) {
			h.Logf.Printf("stopped by SIGTERM, not under ssh: the client ended the session")
			return nil
		}
		return failure.New(failure.Relay, "relay stopped by SIGTERM")
	case errors.Is(err, syscall.EPIPE) && ClientGone(h.Stdin):
		// ssh exits by closing both pipes, stdout's reader first: a broken
		// pipe with stdin closed too is the end of the session, not a loss.
		h.Logf.Printf("ssh closed both pipes: %v", err)
		return nil
	}
	return failure.Wrap(failure.Relay, err, "connection lost")
}

// SendFDToSSH is SendFD with the failure the user gets when it fails.
func SendFDToSSH(stdout, conn *os.File) error {
	if err := SendFD(stdout, conn); err != nil {
		return failure.Wrap(failure.HandOff, err, "pass the connection to ssh").
			WithHint("stdout must be ssh's socket: set ProxyUseFdpass yes, or use --relay")
	}
	return nil
}

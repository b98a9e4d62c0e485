// Package dial opens the connection to a Target: AF_VSOCK to a CID and port,
// AF_UNIX to a path, or AF_UNIX to a hybrid vsock multiplexer plus its
// CONNECT handshake. It is the only package that opens sockets to targets,
// and it maps the kernel's and the multiplexer's answers to failures a user
// can act on.
package dial

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/vsock"
	"golang.org/x/sys/unix"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/verbose"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/vsockmux"
)

// Dialer connects to targets.
type Dialer struct {
	// VSock dials an AF_VSOCK stream socket; nil means the kernel's
	// (KernelVSock). Tests pass their own: on a host without vsock
	// loopback, every real vsock connect leaves the machine.
	VSock func(ctx context.Context, cid, port uint32) (net.Conn, error)
	// TCP dials a TCP address for the IP fallback; nil means a net.Dialer.
	TCP func(ctx context.Context, network, address string) (net.Conn, error)
	// Logf, when set, is told each address tried (-v).
	Logf verbose.Logf
}

// KernelVSock dials cid:port with the kernel's AF_VSOCK. The kernel gives up
// on its own after its connect timeout (2 s by default) with ETIMEDOUT.
func KernelVSock(ctx context.Context, cid, port uint32) (net.Conn, error) {
	c, err := vsock.DialContext(ctx, cid, port, nil)
	if err != nil {
		// A nil *vsock.Conn returned as net.Conn would be a non-nil
		// interface: callers comparing the conn with nil must see nil.
		return nil, err
	}
	return c, nil
}

// Dial connects to t within ctx and returns the connected socket as a file,
// ready to be passed to ssh or relayed. The caller closes it.
func (d Dialer) Dial(ctx context.Context, t target.Target) (*os.File, error) {
	var (
		c   net.Conn
		err error
	)
	switch t.Network {
	case target.VSock:
		dial := d.VSock
		if dial == nil {
			dial = KernelVSock
		}
		c, err = dial(ctx, t.CID, t.Port)
	case target.Unix, target.Mux:
		c, err = dialUnix(ctx, t.Path)
	case target.TCP:
		if c, err = d.dialTCP(ctx, t); err != nil {
			return nil, err // already says what each address answered
		}
	default:
		return nil, failure.New(failure.Internal, "dial: unknown network %q", t.Network)
	}
	if err != nil {
		return nil, classify(ctx, t, err)
	}
	defer c.Close()
	if t.Network == target.Mux {
		if err := handshake(ctx, c, t); err != nil {
			return nil, err
		}
	}
	f, err := file(c)
	if err != nil {
		return nil, failure.Wrap(failure.Internal, err, "dial %s: take the socket's descriptor", where(t))
	}
	return f, nil
}

// dialUnix connects to path. A listener whose backlog is full makes connect
// fail at once with EAGAIN rather than wait, so wait for room here, within
// ctx, as a TCP or vsock connect would.
func dialUnix(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		c, err := d.DialContext(ctx, "unix", path)
		if !errors.Is(err, syscall.EAGAIN) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// file returns a duplicate of c's descriptor; closing c then leaves the
// connection open through the file.
func file(c net.Conn) (*os.File, error) {
	if fc, ok := c.(interface{ File() (*os.File, error) }); ok {
		return fc.File()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, errors.New("connection has no descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		fd   int
		derr error
	)
	if err := rc.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	return os.NewFile(uintptr(fd), "conn"), nil
}

// handshake asks the multiplexer on c for the guest's port, within ctx: its
// deadline becomes the socket's, and its cancellation interrupts the read.
// Deadlines live in Go's poller, not on the descriptor, so the fd handed on
// afterwards carries none.
func handshake(ctx context.Context, c net.Conn, t target.Target) error {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	err := vsockmux.Handshake(c, t.Port)
	stop()
	if err == nil {
		return nil
	}
	if cause := expired(ctx, err); cause != nil {
		return failure.Wrap(failure.Timeout, cause, "timed out waiting for the multiplexer at %s to answer CONNECT %d", t.Path, t.Port).
			WithHint("the VMM or the guest did not answer in time; raise --timeout if it is slow")
	}
	var re *vsockmux.ReplyError
	switch {
	case errors.Is(err, vsockmux.ErrNoAnswer), errors.Is(err, syscall.ECONNRESET):
		return failure.New(failure.NotListening, "the multiplexer at %s closed the connection without answering CONNECT %d", t.Path, t.Port).
			WithHint("nothing listens on vsock port %d in the guest, or it is still booting (--wait retries)", t.Port)
	case errors.As(err, &re):
		return failure.Wrap(failure.NoTarget, err, "%s does not speak hybrid vsock", t.Path).
			WithHint("name the VM's vsock socket: Firecracker's uds_path, Cloud Hypervisor's --vsock socket=, vhost-device-vsock's --uds-path")
	}
	return failure.Wrap(failure.NoTarget, failure.OpCause(err), "hybrid vsock handshake with %s", t.Path)
}

func where(t target.Target) string {
	switch t.Network {
	case target.Unix, target.Mux:
		return t.Path
	case target.TCP:
		return fmt.Sprintf("TCP port %d", t.Port)
	}
	return fmt.Sprintf("vsock CID %d port %d", t.CID, t.Port)
}

// classify maps a connect error to what it means for the user. The errno
// meanings for vsock were measured against a real vhost-vsock guest.
func classify(ctx context.Context, t target.Target, err error) error {
	if cause := expired(ctx, err); cause != nil {
		return failure.Wrap(failure.Timeout, cause, "timed out connecting to %s", where(t)).
			WithHint("the guest did not accept in time; raise --timeout if it is slow")
	}
	if t.Network != target.VSock {
		switch {
		case errors.Is(err, syscall.ENOENT):
			// The errno stays the cause: --wait retries a path not there yet.
			return failure.Wrap(failure.NoTarget, syscall.ENOENT, "no socket at %s", t.Path)
		case errors.Is(err, syscall.ECONNREFUSED):
			return failure.New(failure.NotListening, "nothing listening on %s", t.Path).
				WithHint("the socket file is there but no process accepts on it")
		}
		return failure.Wrap(failure.NoTarget, failure.OpCause(err), "connect to %s", t.Path)
	}
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED):
		return failure.New(failure.NotListening, "nothing listening on vsock port %d of CID %d", t.Port, t.CID).
			WithHint("the guest may still be booting; otherwise its sshd is not on vsock: systemd >= 256 in the guest does it, older guests need a socket unit with ListenStream=vsock::%d or socat VSOCK-LISTEN:%d,fork TCP:localhost:22", t.Port, t.Port)
	case errors.Is(err, syscall.ETIMEDOUT):
		return failure.New(failure.NotReady, "guest at vsock CID %d is not ready: connect to port %d timed out", t.CID, t.Port).
			WithHint("it is still booting, or its kernel has no vsock driver loaded")
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		e := failure.Wrap(failure.NoTarget, syscall.ENODEV, "no VM holds vsock CID %d", t.CID)
		if d := t.Domain; d != nil {
			// libvirt named this CID: its XML is stale, or the domain
			// runs on another host than this one.
			return e.WithHint("the VM is gone or has no vsock device; check its CID with: %s",
				shquote.Join("virsh", "-c", d.URI, "dumpxml", d.Name))
		}
		return e.WithHint("no VM on this host has it; the CIDs of libvirt's domains: libvirt-ssh-proxy list")
	case errors.Is(err, syscall.EAFNOSUPPORT):
		return failure.New(failure.NoTarget, "this kernel has no vsock support").
			WithHint("load it: modprobe vhost_vsock")
	}
	return failure.Wrap(failure.NoTarget, failure.OpCause(err), "connect to %s", where(t))
}

// expired returns why ctx ended if err is due to its end, else nil. A
// socket deadline taken from ctx can fire (os.ErrDeadlineExceeded), or a
// net.Dialer can find ctx's deadline passed (an "i/o timeout" that Is
// context.DeadlineExceeded), a moment before ctx's own timer marks it done:
// those count too.
func expired(ctx context.Context, err error) error {
	if !over(ctx) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return err
}

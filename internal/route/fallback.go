package route

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/leases"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// FallsBack is the IP fallback's rule, the one place it is written: it
// says whether the fallback takes over after err, the failure to reach t
// over vsock: the domain has no vsock device, or one without a CID, or
// nothing listens on its vsock port (refused or reset: a guest whose sshd
// is not on vsock, typical before systemd 256).
//
// Other vsock failures do not fall back. ENODEV (exit 11) says no VM on this
// host holds the CID libvirt named: the XML is stale or the domain runs
// elsewhere, and its addresses are no better a guess. A vsock timeout
// (exit 10) is a guest still booting, and has spent the kernel's 2 s.
func (r *Road) FallsBack(t target.Target, err error) bool {
	if r.NoIPFallback || t.Domain == nil {
		return false
	}
	switch failure.ClassOf(err) {
	case failure.NoVsock, failure.NoCID, failure.NotListening:
		return true
	}
	return false
}

// dialIP is the IP fallback: after vsockErr, connect to one of the domain's
// IP addresses on the same port.
func (r *Road) dialIP(ctx context.Context, t target.Target, vsockErr error) (*os.File, error) {
	why := vsockErr.Error()
	if fe := (*failure.Error)(nil); errors.As(vsockErr, &fe) {
		why = fe.Msg // the hint is for when everything failed
	}
	r.Logf.Printf("%s; trying the IP addresses of %q", why, t.Domain.Name)
	tcp := r.Candidates(ctx, t)
	if len(tcp.Addrs) == 0 {
		if ctx.Err() != nil {
			return nil, fallbackFailed(vsockErr, failure.Wrap(failure.Timeout, context.Cause(ctx), "timed out looking for IP addresses"))
		}
		return nil, fallbackFailed(vsockErr, r.errNoAddress())
	}
	d := r.Dialer
	d.Logf = r.Logf
	f, err := d.Dial(ctx, tcp)
	if err != nil {
		return nil, fallbackFailed(vsockErr, err)
	}
	return f, nil
}

// errNoAddress says where the fallback looked when it found nothing.
func (r *Road) errNoAddress() error {
	dir := r.LeaseDir
	if dir == "" {
		dir = leases.DefaultDir
	}
	return fmt.Errorf("found no IP address (libvirt's lease, agent and arp sources, lease files in %s; -v says why)", dir)
}

// fallbackFailed is the one line for a failed fallback: what vsock said,
// then what the fallback tried. The exit code stays vsock's, which names
// the thing to fix, unless --timeout ran out during the fallback.
func fallbackFailed(vsockErr, ipErr error) error {
	var fe *failure.Error
	if !errors.As(vsockErr, &fe) {
		return vsockErr
	}
	class := fe.Class
	if failure.ClassOf(ipErr) == failure.Timeout {
		class = failure.Timeout
	}
	return &failure.Error{Class: class, Msg: fe.Msg + ", and the IP fallback failed", Err: ipErr, Hint: fe.Hint}
}

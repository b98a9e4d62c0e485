package dial

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// MaxPerAddress bounds one TCP connect attempt while other candidates wait:
// a guest on a host bridge answers (or refuses) in milliseconds, and one
// lost SYN is retried after 1 s, so 2 s tells a dead address from a slow
// one without spending the whole --timeout on it.
const MaxPerAddress = 2 * time.Second

// dialTCP tries t's addresses in order and returns the first connection.
// Each attempt gets a fair share of what is left of ctx, at most
// MaxPerAddress; the last one gets all that is left.
func (d Dialer) dialTCP(ctx context.Context, t target.Target) (net.Conn, error) {
	if len(t.Addrs) == 0 {
		return nil, failure.New(failure.NoTarget, "no IP address to try")
	}
	if t.Port > 65535 {
		return nil, failure.New(failure.Usage, "port %d is no TCP port (at most 65535)", t.Port)
	}
	dial := d.TCP
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	var tried []string
	for i, a := range t.Addrs {
		if over(ctx) {
			break // what is left of --timeout went to the lookup or the others
		}
		addr := netip.AddrPortFrom(a.IP, uint16(t.Port)).String()
		budget := share(ctx, len(t.Addrs)-i)
		d.Logf.Printf("trying %s (from %s), up to %v", addr, a.Source, budget.Round(time.Millisecond))
		actx, cancel := context.WithTimeout(ctx, budget)
		c, err := dial(actx, "tcp", addr)
		if err == nil {
			cancel()
			d.Logf.Printf("connected to %s (from %s)", addr, a.Source)
			return c, nil
		}
		why := attemptError(actx, err, budget) // before cancel: it reads actx
		cancel()
		d.Logf.Printf("%s: %s", addr, why)
		tried = append(tried, fmt.Sprintf("%s (%s): %s", addr, a.Source, why))
	}
	list := strings.Join(tried, ", ")
	if list == "" {
		list = "none tried"
	}
	if over(ctx) {
		return nil, failure.Wrap(failure.Timeout, context.Cause(ctx), "timed out trying IP addresses (%s)", list)
	}
	return nil, failure.New(failure.NotListening, "no IP address answered on port %d: %s", t.Port, list)
}

// share is one attempt's time when n attempts (this one included) remain.
func share(ctx context.Context, n int) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		if n == 1 {
			return time.Duration(1<<63 - 1)
		}
		return MaxPerAddress
	}
	left := time.Until(deadline)
	if n == 1 {
		return left
	}
	return min(left/time.Duration(n), MaxPerAddress)
}

// over says whether ctx is over. Its deadline can pass a moment before
// ctx.Err says so: a connect bounded by that deadline returns first.
func over(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(deadline)
}

// attemptError says in a few words why one attempt failed.
func attemptError(actx context.Context, err error, budget time.Duration) string {
	if over(actx) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Sprintf("no answer within %v", budget.Round(time.Millisecond))
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error() // "connection refused", not "connect: connection refused"
	}
	return failure.OpCause(err).Error()
}

// Package route is the one road from a HOST to a connected socket, which
// every command takes: parse HOST (Spec, Port), pick the way (here, or
// over ssh to another hypervisor: Hop), resolve it to a target (a plain
// name by the plain-names rules), connect, and fall back to the domain's
// IP addresses by the one rule (FallsBack); once, or again while --wait
// lasts (Try).
//
// The ProxyCommand goes the whole road (Connect); resolve stops at the
// target and the fallback's candidates (Resolve); doctor stops after a
// vsock connect that it closes at once, and is told each step on the way
// (Probe and an Observer), so that it reports what ssh really does.
package route

import (
	"context"
	"os"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/dial"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/remote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Road is one command's way from HOST to the socket.
type Road struct {
	// Resolver asks libvirt; its Search holds the URIs (--connect), the
	// user and the environment, and its Logf is told each step (-v).
	lookup.Resolver
	// Dialer opens the sockets: vsock, unix, the multiplexer, TCP.
	Dialer dial.Dialer
	// NoIPFallback turns the IP fallback off (--no-ip-fallback).
	NoIPFallback bool
	// LeaseDir is where the fallback reads dnsmasq's lease files; ""
	// means leases.DefaultDir (--lease-dir).
	LeaseDir string
	// Plain (--plain) takes HOST as a plain name: the plain-names rules
	// (internal/plainname), which the drop-in's check applied, look it
	// up, and the road goes on from their answer. A plain name is never
	// another host's: it has no Hop.
	Plain bool
}

// Reach says how far Go goes.
type Reach int

// The reaches, one per command.
const (
	// Resolve finds the target and, for a domain, the fallback's
	// candidates, and dials nothing (the resolve command).
	Resolve Reach = iota
	// Probe also connects to the target and closes the connection at
	// once; the fallback's candidates are listed, never dialed (doctor).
	Probe
	// Connect connects, falling back to the candidates (the ProxyCommand).
	Connect
)

// Observer is told each step Go takes; a nil func is not told. doctor
// reports the steps from here rather than taking them itself.
type Observer struct {
	// Resolved gets the lookup's answer: on failure t still names the
	// domain when the lookup found one.
	Resolved func(t target.Target, err error)
	// Dialed gets the connect's answer (Probe, Connect).
	Dialed func(t target.Target, err error)
	// Candidates gets the fallback's candidates when the road falls back
	// after vsockErr (Probe; Connect dials them).
	Candidates func(tcp target.Target, vsockErr error)
}

// Parse reads HOST as the helper's host name.
func Parse(name string) (host.Spec, error) {
	spec, err := host.Parse(name)
	if err != nil {
		return host.Spec{}, failure.Wrap(failure.Usage, err, "bad host name")
	}
	return spec, nil
}

// Spec reads HOST as the road takes it: the helper's host name (Parse),
// or with Plain a plain name, whose spec only names it.
func (r *Road) Spec(name string) (host.Spec, error) {
	if r.Plain {
		return host.Spec{Kind: host.Domain, Domain: name}, nil
	}
	return Parse(name)
}

// Port reads PORT, ssh's %p; "" is 22, the port resolve and doctor
// assume when none is given.
func Port(s string) (uint32, error) {
	if s == "" {
		return 22, nil
	}
	port, err := host.ParsePort(s)
	if err != nil {
		return 0, failure.Wrap(failure.Usage, err, "bad port")
	}
	return port, nil
}

// Hop returns the ssh hop that reaches spec when it lives on another
// hypervisor, or nil when it is reached from here: HV/FORM, or a domain
// whose search list is a daemon on another host (a CID means something
// only on the host that runs the guest, so that domain is reached over
// ssh, from there).
func (r *Road) Hop(spec host.Spec) (*remote.Hop, error) {
	if r.Plain {
		return nil, nil
	}
	switch spec.Kind {
	case host.Remote:
		h := remote.ForSpec(spec)
		return &h, nil
	case host.Domain:
		uh, err := r.Search.Hop(spec.Scope, spec.Domain)
		if err != nil || uh == nil {
			return nil, err
		}
		h := remote.ForURI(*uh, spec.Domain)
		return &h, nil
	}
	return nil, nil
}

// Go takes the road once for spec and port, as far as reach, within ctx,
// telling obs each step. It returns the target (for Resolve with the
// fallback's candidates in Addrs, or the TCP target itself when vsock is
// unusable), the connection for Connect, which the caller closes, and the
// failure that ended the road.
func (r *Road) Go(ctx context.Context, spec host.Spec, port uint32, reach Reach, obs Observer) (target.Target, *os.File, error) {
	if r.Plain {
		return r.goPlain(ctx, spec.Domain, port, reach, obs)
	}
	t, err := r.Resolver.Resolve(ctx, spec, port)
	return r.From(ctx, t, err, reach, obs)
}

// goPlain is Go for a plain name: the plain-names rules make the lookup,
// the road goes on from their answer, and a name no rule matches ends it
// there.
func (r *Road) goPlain(ctx context.Context, name string, port uint32, reach Reach, obs Observer) (target.Target, *os.File, error) {
	m, err := plainname.Rules{Resolver: &r.Resolver, LeaseDir: r.LeaseDir}.Resolve(ctx, name, port)
	if m.Rule == 0 {
		return target.Target{}, nil, err
	}
	r.Logf.Printf("%v", m)
	return r.From(ctx, m.Target, err, reach, obs)
}

// From is Go after a lookup made elsewhere: t and err as
// lookup.Resolver.Resolve returns them. The plain-names rules
// (internal/plainname) look the name up themselves, and the road goes on
// from their answer without a second lookup (goPlain, and doctor's check).
func (r *Road) From(ctx context.Context, t target.Target, err error, reach Reach, obs Observer) (target.Target, *os.File, error) {
	tell(obs.Resolved, t, err)
	if reach == Resolve {
		t, err = r.plan(ctx, t, err)
		return t, nil, err
	}
	var conn *os.File
	if err == nil {
		conn, err = r.Dialer.Dial(ctx, t)
		tell(obs.Dialed, t, err)
	}
	if reach == Probe && conn != nil {
		conn.Close()
		conn = nil
	}
	if err == nil || !r.FallsBack(t, err) {
		return t, conn, err
	}
	if reach == Probe {
		if obs.Candidates != nil {
			obs.Candidates(r.Candidates(ctx, t), err)
		}
		return t, nil, err
	}
	conn, err = r.dialIP(ctx, t, err)
	return t, conn, err
}

// plan is the Resolve reach after the lookup: what the IP fallback would
// try, the target itself when vsock is unusable, candidates behind vsock
// otherwise.
func (r *Road) plan(ctx context.Context, t target.Target, err error) (target.Target, error) {
	if err != nil && !r.FallsBack(t, err) {
		return t, err
	}
	if r.NoIPFallback || t.Domain == nil {
		return t, nil
	}
	tcp := r.Candidates(ctx, t)
	switch {
	case err == nil:
		t.Addrs = tcp.Addrs
	case len(tcp.Addrs) == 0:
		return t, fallbackFailed(err, r.errNoAddress())
	default:
		t = tcp
	}
	return t, nil
}

func tell(f func(target.Target, error), t target.Target, err error) {
	if f != nil {
		f(t, err)
	}
}

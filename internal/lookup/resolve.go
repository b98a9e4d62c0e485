// Package lookup makes every libvirt call the helper makes, over the
// libvirtrpc client: it resolves a domain spec to a Target (the domain, its
// state, its vsock CID), lists domains, names the running ones, and asks for
// a domain's interface addresses for the IP fallback. It is the only
// package that talks to libvirt; the URI rules are libvirturi's, the XML
// domainxml's.
package lookup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Resolver resolves host specs to targets, asking libvirt for domain specs.
type Resolver struct {
	// Search picks the URIs a domain spec searches and their sockets; its
	// Logf is told each step (-v).
	libvirturi.Search
	// Closing, when set, lets a lookup return before the daemon has
	// answered its CONNECT_CLOSE: the answer is awaited in the background,
	// counted here, so that the ProxyCommand path connects to the guest
	// meanwhile instead of after one more round trip. The caller must wait
	// on it before it exits: a daemon whose answer finds the socket gone
	// logs an error.
	Closing *sync.WaitGroup
}

// Resolve returns where spec points, with port as the vsock port. A domain
// spec asks libvirt; ctx bounds the whole lookup, including a daemon that
// accepts and never answers (closing the socket ends every pending call).
//
// When the domain is found but has no usable vsock (failure.NoVsock,
// failure.NoCID), the Target returned with that error has no Network but
// names the Domain and the port, so that the caller can fall back to its
// IP addresses (Addresses).
func (r *Resolver) Resolve(ctx context.Context, spec host.Spec, port uint32) (target.Target, error) {
	switch spec.Kind {
	case host.VSock:
		return target.Target{Network: target.VSock, CID: spec.CID, Port: port}, nil
	case host.Unix:
		return target.Target{Network: target.Unix, Path: spec.Path}, nil
	case host.Mux:
		return target.Target{Network: target.Mux, Path: spec.Path, Port: port}, nil
	case host.Remote:
		// Only the ProxyCommand form reaches HV/FORM, by running ssh HV.
		return target.Target{}, failure.New(failure.Usage, "names a guest on hypervisor %s, which only the ProxyCommand form reaches", spec.Hypervisor).
			WithHint("run this on %s with host %s", spec.Hypervisor, shquote.Quote(spec.Inner))
	}
	uris, err := r.SearchList(spec.Scope, spec.Domain)
	if err != nil {
		return target.Target{}, err
	}
	return r.search(ctx, uris, spec.Domain, port)
}

// share returns ctx bounded by the part of its time left that the first of
// n daemons still to ask gets: an even split. A daemon that never answers
// then costs its own share only, and the ones after it still get a fair
// try; one that answers at once leaves its time to the next. The last
// daemon gets all that is left.
func share(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || n <= 1 {
		return context.WithCancel(ctx)
	}
	d := time.Until(deadline) / time.Duration(n)
	return context.WithTimeoutCause(ctx, d,
		fmt.Errorf("no answer within %v, its share of the time left (the rest is kept for the next URIs)", d.Round(time.Millisecond)))
}

// watch runs f, which talks to the daemon of uri, and returns its answer,
// or a timeout failure naming the step f was waiting on when ctx ended. f
// keeps step up to date; ctx's end closes f's connections (see open), so f
// returns soon after.
func watch[T any](ctx context.Context, uri string, f func(step *atomic.Value) (T, error)) (T, error) {
	var step atomic.Value // what f is waiting on, for the timeout message
	step.Store("starting")
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(&step)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		if res.err == nil || ctx.Err() == nil {
			return res.v, res.err
		}
	case <-ctx.Done():
	}
	var zero T
	return zero, failure.Wrap(failure.Timeout, context.Cause(ctx), "timed out %s", step.Load()).
		WithHint("the daemon did not answer in time; check it with: %s, or raise --timeout", virsh(uri, "list"))
}

// outcome is what one URI said about the domain, for the final message.
type outcome struct {
	uri    string
	err    error
	reach  bool   // the daemon answered
	denied bool   // the socket refused us for permissions
	sock   string // the socket that did not work, when one exists
}

// unreachableHint says what to do when no daemon of outcomes could be
// used: join the group that may use the socket, bring a session daemon
// back the way libvirt does, start the daemon when no socket exists, or see
// to the socket that exists but where no libvirt daemon answers (refused,
// closed, another protocol, no such driver).
func unreachableHint(outcomes []outcome) string {
	for _, o := range outcomes {
		if o.denied {
			return "join the libvirt group, or name a socket you may use with --connect URI?socket=PATH"
		}
	}
	if len(outcomes) == 1 && outcomes[0].uri == libvirturi.SessionURI && failure.ClassOf(outcomes[0].err) != failure.Timeout {
		// Nobody starts a session daemon by hand: libvirt's client library
		// spawns it on demand (libvirtd or virtqemud --timeout=120), it exits
		// once idle with none of the user's guests running, and one that
		// died leaves its socket behind while its guests run on. Any libvirt
		// client brings it back, and it finds those guests again.
		return "your session daemon is not running (libvirt's clients start it on demand; it exits when idle): " +
			virsh(libvirturi.SessionURI, "list") + " starts it again and finds your running guests"
	}
	for _, o := range outcomes {
		if o.sock != "" && !errors.Is(o.err, libvirturi.ErrNoSocket) && failure.ClassOf(o.err) != failure.Timeout {
			return fmt.Sprintf("no libvirt daemon answers for %s on %s: start it (virtqemud or libvirtd), or name another daemon with --connect URI", o.uri, o.sock)
		}
	}
	return "no libvirt daemon socket exists: start virtqemud or libvirtd, or name another daemon with --connect URI"
}

// search looks name up on each URI in turn, each bounded by its share of
// ctx (see share), and returns the first URI's answer that has the domain.
// A URI whose daemon does not answer in its share is passed over like one
// without a socket, so that a hung system daemon does not hide a session
// domain; -v says so.
func (r *Resolver) search(ctx context.Context, uris []string, name string, port uint32) (target.Target, error) {
	var outcomes []outcome
	for i, uri := range uris {
		uctx, cancel := share(ctx, len(uris)-i)
		t, o := r.searchOne(uctx, uri, name, port)
		cancel()
		if o.err == nil {
			for _, skipped := range outcomes {
				if failure.ClassOf(skipped.err) == failure.Timeout {
					r.Logf.Printf("found %q on %s after %s did not answer on %s", name, uri, skipped.uri, skipped.sock)
				}
			}
			return t, nil
		}
		var fe *failure.Error
		if errors.As(o.err, &fe) && fe.Class != failure.Timeout {
			// Found, but unusable: that is the answer. t still names the
			// domain when it lacks a usable vsock, for the IP fallback.
			return t, fe
		}
		outcomes = append(outcomes, o)
	}
	return target.Target{}, notFound(name, outcomes)
}

// errNoDomain marks a URI whose daemon answered that it has no such domain.
var errNoDomain = errors.New("no such domain")

// searchOne looks name up on uri within ctx.
func (r *Resolver) searchOne(ctx context.Context, uri, name string, port uint32) (target.Target, outcome) {
	type answer struct {
		t target.Target
		o outcome
	}
	a, err := watch(ctx, uri, func(step *atomic.Value) (answer, error) {
		t, o := r.searchOn(ctx, uri, name, port, step)
		return answer{t, o}, o.err
	})
	if err != nil && failure.ClassOf(err) == failure.Timeout {
		a.o = outcome{uri: uri, err: err}
		a.o.sock, _ = r.Socket(uri) // the one that did not answer, for -v
	}
	return a.t, a.o
}

func (r *Resolver) searchOn(ctx context.Context, uri, name string, port uint32, step *atomic.Value) (target.Target, outcome) {
	o := outcome{uri: uri}
	r.Logf.Printf("searching %s", uri)
	l, closeConn, err := r.connect(ctx, uri, step)
	if err != nil {
		o.err, o.denied = err, denied(err)
		o.sock, _ = r.Socket(uri)
		return target.Target{}, o
	}
	defer closeConn()
	o.reach = true
	step.Store(fmt.Sprintf("looking up %q on %s", name, uri))
	dom, err := lookupDomain(l, name)
	if err != nil {
		o.err = err
		if !errors.Is(err, errNoDomain) {
			o.reach = false
		}
		return target.Target{}, o
	}
	d := &target.Domain{URI: uri, Name: dom.Name, UUID: dom.UUID.String(), ID: dom.ID}
	r.Logf.Printf("found domain %q (uuid %s, id %d) on %s", d.Name, d.UUID, d.ID, uri)
	// An inactive domain has no ID: shut off, with no need to ask. An ID
	// only means active; paused, crashed and pmsuspended domains have one.
	// The state and the XML go out together: one round trip, and the XML
	// of a domain that turns out not to run is only ignored.
	st := libvirtrpc.State{State: stateShutoff}
	var xmlReply *libvirtrpc.Reply[string]
	if dom.ID != -1 {
		step.Store(fmt.Sprintf("getting the state and XML of %q on %s", d.Name, uri))
		stateReply := l.GetState(dom)
		xmlReply = l.GetXMLDesc(dom, 0)
		if st, err = stateReply.Wait(); err != nil {
			o.err = failure.Wrap(failure.Unreachable, hungUp(err), "get state of %q on %s", d.Name, uri)
			return target.Target{}, o
		}
	}
	d.State = stateName(st.State)
	if e := checkRunning(d, st.State, st.Reason); e != nil {
		o.err = e
		return target.Target{}, o
	}
	xml, err := xmlReply.Wait()
	if err != nil {
		o.err = failure.Wrap(failure.Unreachable, hungUp(err), "get XML of %q on %s", d.Name, uri)
		return target.Target{}, o
	}
	d.XML = xml
	cid, err := domainxml.CIDFromXML(xml)
	switch {
	case errors.Is(err, domainxml.ErrNoVsock):
		o.err = failure.New(failure.NoVsock, "domain %q on %s has no vsock device", d.Name, uri).
			WithHint("add <vsock model='virtio'><cid auto='yes'/></vsock> to its <devices> with virsh edit, then restart it")
		return target.Target{Port: port, Domain: d}, o // for the IP fallback
	case errors.Is(err, domainxml.ErrNoCID):
		o.err = failure.New(failure.NoCID, "domain %q on %s has a vsock device without a CID address", d.Name, uri).
			WithHint("give it <cid auto='no' address='N'/> with N >= 3, or auto='yes' on a running QEMU domain")
		return target.Target{Port: port, Domain: d}, o // for the IP fallback
	case err != nil:
		o.err = failure.Wrap(failure.Internal, err, "domain %q on %s", d.Name, uri)
	default:
		r.Logf.Printf("domain %q has vsock CID %d", d.Name, cid)
		return target.Target{Network: target.VSock, CID: cid, Port: port, Domain: d}, o
	}
	return target.Target{}, o
}

// connect opens uri: the socket libvirt's client rule picks, then the
// connection. A bad URI is a usage failure; an absent socket wraps
// libvirturi.ErrNoSocket. The returned func closes the connection.
func (r *Resolver) connect(ctx context.Context, uri string, step *atomic.Value) (*libvirtrpc.Conn, func(), error) {
	e, err := libvirturi.EndpointFor(uri, r.Env)
	if err != nil {
		return nil, nil, failure.Wrap(failure.Usage, err, "bad --connect URI")
	}
	step.Store("connecting to " + uri)
	return r.open(ctx, e, step)
}

// denied says whether err is the daemon's socket refusing us for permissions.
func denied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// open connects to the daemon behind e, a local unix socket (the only kind
// the lookup ever dials), and opens its URI read-only, as libvirt's own
// helper does. The returned func closes the connection. ctx's end closes
// the socket, which makes every pending call return at once. With -v, each
// call's reply and its time are logged.
func (r *Resolver) open(ctx context.Context, e libvirturi.Endpoint, step *atomic.Value) (*libvirtrpc.Conn, func(), error) {
	addr, err := e.Socket()
	if err != nil {
		return nil, nil, err
	}
	r.Logf.Printf("connecting to %s at %s", e.Name, addr)
	step.Store(fmt.Sprintf("waiting for the libvirt daemon at %s", addr))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", addr, failure.OpCause(err))
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	l := libvirtrpc.New(conn)
	l.Trace = r.Logf
	if err := l.Open(e.Name, libvirtrpc.ReadOnly); err != nil {
		stop()
		conn.Close()
		return nil, nil, fmt.Errorf("open %s at %s: %w", e.Name, addr, hungUp(err))
	}
	if r.Closing != nil {
		return l, func() {
			// Bounded by ctx's deadline but not its cancellation: the
			// caller's attempt ends with its connect, often before the
			// daemon answers.
			stop()
			limit := time.AfterFunc(time.Until(deadline(ctx)), func() { conn.Close() })
			r.Closing.Go(func() {
				_ = l.Close()
				limit.Stop()
			})
		}, nil
	}
	return l, func() {
		_ = l.Close() // bounded by ctx: stop comes after
		stop()
	}, nil
}

// deadline is ctx's deadline, or a minute from now for a context without
// one (a daemon that answers everything but CONNECT_CLOSE must not hold
// the process forever).
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}

// lookupDomain tries s as a name, then a UUID, then an ID: the order of
// libvirt's helper, so a domain named "7" wins over the domain with ID 7.
func lookupDomain(l *libvirtrpc.Conn, s string) (libvirtrpc.Domain, error) {
	d, err := l.LookupByName(s).Wait()
	if !isNoDomain(err) {
		return d, wrapLookup(err)
	}
	if u, ok := ParseUUID(s); ok {
		if d, err = l.LookupByUUID(u).Wait(); !isNoDomain(err) {
			return d, wrapLookup(err)
		}
	}
	if id, ok := parseID(s); ok {
		if d, err = l.LookupByID(id).Wait(); !isNoDomain(err) {
			return d, wrapLookup(err)
		}
	}
	return d, errNoDomain
}

func isNoDomain(err error) bool { return libvirtrpc.HasCode(err, libvirtrpc.CodeNoDomain) }

func wrapLookup(err error) error {
	if err != nil {
		return fmt.Errorf("lookup: %w", hungUp(err))
	}
	return nil
}

// errHungUp says what a lost connection means once the deadline has not
// passed (a passed one is reported as a timeout instead): the daemon went
// away, or never spoke libvirt's protocol, in the middle of a call.
var errHungUp = errors.New("the daemon closed the connection without answering (did it die or restart? is this socket libvirt's?)")

func hungUp(err error) error {
	if errors.Is(err, libvirtrpc.ErrConnLost) {
		return errHungUp
	}
	return err
}

// ParseUUID parses a UUID in any case, with or without dashes.
func ParseUUID(s string) (libvirtrpc.UUID, bool) {
	var u libvirtrpc.UUID
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 2*len(u) {
		return u, false
	}
	for i := range u {
		b, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return u, false
		}
		u[i] = byte(b)
	}
	return u, true
}

// parseID accepts only plain decimal digits, as libvirt's helper does.
func parseID(s string) (int32, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 32)
	return int32(id), err == nil
}

// notFound builds the answer when no URI had the domain: which URIs were
// searched and what each said, so a missing daemon or a permission problem
// is not mistaken for a missing domain.
func notFound(name string, outcomes []outcome) error {
	var parts []string
	reached, timedOut := false, false
	for _, o := range outcomes {
		reached = reached || o.reach
		timedOut = timedOut || failure.ClassOf(o.err) == failure.Timeout
		if errors.Is(o.err, errNoDomain) {
			parts = append(parts, o.uri+": not found")
		} else {
			parts = append(parts, fmt.Sprintf("%s: %v", o.uri, o.err))
		}
	}
	searched := strings.Join(parts, "; ")
	if timedOut && len(outcomes) == 1 {
		return outcomes[0].err // says it all
	}
	if timedOut {
		// A daemon that did not answer may hold the domain: not found
		// would be a guess.
		return failure.New(failure.Timeout, "no answer about %q (searched %s)", name, searched)
	}
	if reached {
		first := outcomes[slices.IndexFunc(outcomes, func(o outcome) bool { return o.reach })]
		return failure.New(failure.NotFound, "no domain named %q, nor with that UUID or ID (searched %s)", name, searched).
			WithHint("list domains with: %s", virsh(first.uri, "list", "--all"))
	}
	return failure.New(failure.Unreachable, "cannot reach libvirt (%s)", searched).WithHint("%s", unreachableHint(outcomes))
}

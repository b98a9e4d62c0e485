package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Entry is one domain as List reports it.
type Entry struct {
	target.Domain // URI, name, UUID, ID (-1 when inactive) and state
	// CID is the domain's vsock CID, valid when VSockErr is nil. It comes
	// from the live XML of an active domain and from the configuration of
	// an inactive one (which keeps a static CID, not an auto one).
	CID uint32
	// VSockErr says why there is no CID: domainxml.ErrNoVsock, domainxml.ErrNoCID, or an XML
	// problem.
	VSockErr error
	// Later lookups (the IP fallback's addresses) add their fields here.
}

// Active says whether the domain runs (running, paused, ...): only an
// active domain has an ID, and only an active domain can be reached.
func (e *Entry) Active() bool { return e.ID != -1 }

// Runs says whether the domain runs as a connect needs it to (the rule
// Resolve applies, by the state name List reports): a paused domain is
// active but does not run.
func (e *Entry) Runs() bool {
	for s, name := range stateNames {
		if e.State == name {
			return runs(int32(s))
		}
	}
	return false
}

// Listing is what List found: every domain on every URI it reached.
type Listing struct {
	// URIs are the URIs searched, in order.
	URIs []string
	// Entries are grouped by URI in search order and sorted by name within
	// each URI, so output is stable from run to run.
	Entries []Entry
	// Skipped are the URIs with no daemon socket: no daemon, no domains.
	Skipped []string

	index map[findKey]*Entry // built by the first Find
}

// findKey is what Find looks an entry up by: a URI and a name, a UUID (in
// canonical form) or a decimal ID, each its own kind of key.
type findKey struct {
	uri, kind, value string
}

// listInFlight bounds the XML requests List keeps in flight on one
// connection. libvirtd serves at most max_client_requests (default 5) calls
// of one client at a time; more would only queue in the daemon.
const listInFlight = 5

// List returns every domain on the URIs a domain spec of the given scope
// searches (see SearchURIs), with state and vsock CID. A URI whose daemon
// socket does not exist is skipped, as Resolve skips it. The listing holds
// what every reachable URI gave even when an error is returned: the error
// says which URIs failed, or that none could be reached. ctx bounds the
// whole listing, each URI its share of it (see share).
func (r *Resolver) List(ctx context.Context, scope host.Scope) (Listing, error) {
	uris, err := r.SearchList(scope, "")
	if err != nil {
		return Listing{}, err
	}
	ls := Listing{URIs: uris}
	var failed []outcome
	for i, uri := range uris {
		// Each daemon gets its share of ctx, so that one that hangs
		// leaves time to list the others.
		uctx, cancel := share(ctx, len(uris)-i)
		entries, err := watch(uctx, uri, func(step *atomic.Value) ([]Entry, error) {
			return r.listOne(uctx, uri, step)
		})
		cancel()
		switch {
		case errors.Is(err, libvirturi.ErrNoSocket):
			r.Logf.Printf("skipping %s: %v", uri, err)
			ls.Skipped = append(ls.Skipped, uri)
			failed = append(failed, outcome{uri: uri, err: err})
		case err != nil:
			if failure.ClassOf(err) == failure.Usage {
				return ls, err
			}
			sock, _ := r.Socket(uri)
			failed = append(failed, outcome{uri: uri, err: err, denied: denied(err), sock: sock})
		default:
			ls.Entries = append(ls.Entries, entries...)
		}
	}
	return ls, listFailure(failed, len(uris))
}

// listFailure is List's error: nil when every URI answered or had no
// daemon (and at least one answered), else the failed URIs and what each
// said. A listing that silently lacks a daemon's domains would mislead.
func listFailure(failed []outcome, searched int) error {
	var parts []string
	bad, timedOut := false, false
	for _, o := range failed {
		parts = append(parts, fmt.Sprintf("%s: %v", o.uri, o.err))
		bad = bad || !errors.Is(o.err, libvirturi.ErrNoSocket)
		timedOut = timedOut || failure.ClassOf(o.err) == failure.Timeout
	}
	if !bad && len(failed) < searched {
		return nil
	}
	class := failure.Unreachable
	if timedOut {
		class = failure.Timeout
	}
	return failure.New(class, "cannot list domains (%s)", strings.Join(parts, "; ")).WithHint("%s", unreachableHint(failed))
}

// listOne lists uri's domains: one call for every domain with its state,
// then each domain's XML for its CID, several requests in flight.
func (r *Resolver) listOne(ctx context.Context, uri string, step *atomic.Value) ([]Entry, error) {
	r.Logf.Printf("listing %s", uri)
	l, closeConn, err := r.connect(ctx, uri, step)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	step.Store("listing the domains of " + uri)
	entries, err := domainsWithState(l, uri)
	if err != nil {
		return nil, err
	}
	r.Logf.Printf("%s has %d domains", uri, len(entries))
	step.Store(fmt.Sprintf("reading the XML of %d domains on %s", len(entries), uri))
	// -v: one line for the XML reads, not one a domain (10,000 on a big
	// host); CONNECT_CLOSE is traced again.
	trace, start := l.Trace, time.Now()
	l.Trace = nil
	defer func() { l.Trace = trace }()
	replies := make([]*libvirtrpc.Reply[string], len(entries))
	take := func(i int) error {
		e := &entries[i]
		xml, err := replies[i].Wait()
		switch {
		case isNoDomain(err):
			// Undefined since the list call: report it as gone
			// rather than failing the whole listing.
			e.VSockErr, e.State = errGone, "gone"
		case err != nil:
			return fmt.Errorf("get XML of %q: %w", e.Name, err)
		default:
			e.CID, e.VSockErr = domainxml.CIDFromXML(xml)
		}
		return nil
	}
	// A window of listInFlight calls: each reply taken makes room for
	// the next call.
	for i := range entries {
		e := &entries[i]
		replies[i] = l.GetXMLDesc(libvirtrpc.Domain{Name: e.Name, UUID: mustUUID(e.UUID), ID: e.ID}, 0)
		if j := i - listInFlight + 1; j >= 0 {
			if err := take(j); err != nil {
				return nil, err
			}
		}
	}
	for j := max(0, len(entries)-listInFlight+1); j < len(entries); j++ {
		if err := take(j); err != nil {
			return nil, err
		}
	}
	if len(entries) > 0 {
		r.Logf.Printf("libvirt DOMAIN_GET_XML_DESC x%d, %d in flight: ok in %.2f ms", len(entries), min(len(entries), listInFlight), float64(time.Since(start).Microseconds())/1000)
	}
	return entries, nil
}

// errGone is the VSockErr of a domain undefined while List ran.
var errGone = errors.New("domain undefined while listing")

// domainsWithState returns uri's domains sorted by name, with their states,
// from ConnectGetAllDomainStats: one call. Daemons without it (or drivers
// that lack it) get ConnectListAllDomains, also one call, and the state
// the ID implies: running or shut off.
func domainsWithState(l *libvirtrpc.Conn, uri string) ([]Entry, error) {
	var entries []Entry
	stats, err := l.GetAllDomainStats(libvirtrpc.StatsState, 0).Wait()
	switch {
	case err == nil:
		for _, s := range stats {
			st := "no state"
			for _, p := range s.Params {
				if v, ok := p.Value.(int32); ok && p.Field == "state.state" {
					st = stateName(v)
				}
			}
			entries = append(entries, entry(uri, s.Domain, st))
		}
	case libvirtrpc.HasCode(err, libvirtrpc.CodeNoSupport):
		doms, err := l.ListAllDomains(libvirtrpc.ListActive | libvirtrpc.ListInactive).Wait()
		if err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		for _, d := range doms {
			st := stateName(stateRunning)
			if d.ID == -1 {
				st = stateName(stateShutoff)
			}
			entries = append(entries, entry(uri, d, st))
		}
	default:
		return nil, fmt.Errorf("list domains: %w", err)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, nil
}

func entry(uri string, d libvirtrpc.Domain, state string) Entry {
	return Entry{Domain: target.Domain{URI: uri, Name: d.Name, UUID: d.UUID.String(), ID: d.ID, State: state}}
}

// mustUUID parses a UUID that UUID.String made.
func mustUUID(s string) libvirtrpc.UUID {
	u, _ := ParseUUID(s)
	return u
}

// Find returns the entry spec reaches, as Resolve would find it among the
// listed domains: on the first of uris holding a domain with that name,
// else that UUID, else that ID; nil when none does. uris are the URIs spec
// searches (SearchURIs of its scope). Find lets a caller check that a name
// it prints reaches the domain it prints it for. The first call indexes the
// entries, which must not change afterwards.
func (ls *Listing) Find(spec host.Spec, uris []string) *Entry {
	if spec.Kind != host.Domain {
		return nil
	}
	if ls.index == nil {
		ls.index = make(map[findKey]*Entry, 3*len(ls.Entries))
		for i := range ls.Entries {
			e := &ls.Entries[i]
			keys := []findKey{{e.URI, "name", e.Name}, {e.URI, "uuid", e.UUID}}
			if e.Active() {
				keys = append(keys, findKey{e.URI, "id", strconv.Itoa(int(e.ID))})
			}
			for _, k := range keys {
				if ls.index[k] == nil {
					ls.index[k] = e
				}
			}
		}
	}
	var keys []findKey // per URI, in the lookup's order
	keys = append(keys, findKey{"", "name", spec.Domain})
	if u, ok := ParseUUID(spec.Domain); ok {
		keys = append(keys, findKey{"", "uuid", u.String()})
	}
	if id, ok := parseID(spec.Domain); ok {
		keys = append(keys, findKey{"", "id", strconv.Itoa(int(id))})
	}
	for _, uri := range uris {
		for _, k := range keys {
			k.uri = uri
			if e := ls.index[k]; e != nil {
				return e
			}
		}
	}
	return nil
}

// Listings lists each URI at most once, for a caller that looks several
// domains up and needs each one's whole listing (ssh-config names a domain
// the way that reaches it on its URI: sshname.ProxyTarget).
type Listings struct {
	r     *Resolver
	byURI map[string]*Listing
}

// Listings returns an empty set of listings made with r.
func (r *Resolver) Listings() *Listings {
	return &Listings{r: r, byURI: map[string]*Listing{}}
}

// Of returns uri's listing, nil when it was not listed.
func (ls *Listings) Of(uri string) *Listing { return ls.byURI[uri] }

// Reachable lists every URI a qemu/ spec searches and returns the running
// domains with a vsock CID, in the listing's order.
func (ls *Listings) Reachable(ctx context.Context) ([]*Entry, error) {
	l, err := ls.r.List(ctx, host.Any)
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for i := range l.Entries {
		if e := &l.Entries[i]; e.Active() && e.VSockErr == nil {
			out = append(out, e)
			ls.byURI[e.URI] = &l
		}
	}
	return out, nil
}

// Entry returns the entry of d, a domain Resolve found, in the listing of
// its URI, which is listed the first time it is asked for.
func (ls *Listings) Entry(ctx context.Context, d *target.Domain) (*Entry, error) {
	l := ls.byURI[d.URI]
	if l == nil {
		one := *ls.r
		one.URIs = []string{d.URI}
		all, err := one.List(ctx, host.Any)
		if err != nil {
			return nil, err
		}
		l = &all
		ls.byURI[d.URI] = l
	}
	for i := range l.Entries {
		if l.Entries[i].UUID == d.UUID {
			return &l.Entries[i], nil
		}
	}
	return nil, failure.New(failure.NotFound, "domain %q disappeared from %s while listing it", d.Name, d.URI)
}

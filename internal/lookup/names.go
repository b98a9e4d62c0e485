package lookup

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
)

// Listed is one URI's answer to Running: the domains its daemon runs, or why
// it could not say.
type Listed struct {
	URI     string
	Domains []libvirtrpc.Domain // name, UUID and ID of each running domain
	Err     error
}

// Running lists the running domains of every URI a domain spec of scope
// searches (r.URIs with aliases expanded, or the defaults), in order, with
// one CONNECT_LIST_ALL_DOMAINS call per URI (the domains' names, UUIDs and IDs
// come back in that one call). A URI that cannot be reached has its Err
// set; ctx bounds the whole listing, each URI its share of it. The error is
// a bad URI list: an unknown alias, a bad URI, one on another host. It is
// what completion and listing build on.
func (r *Resolver) Running(ctx context.Context, scope host.Scope) ([]Listed, error) {
	uris, err := r.SearchList(scope, "")
	if err != nil {
		return nil, err
	}
	out := make([]Listed, len(uris))
	for i, uri := range uris {
		out[i] = Listed{URI: uri}
		// Each daemon gets its share of ctx (see share): one that hangs
		// leaves time for the others.
		uctx, cancel := share(ctx, len(uris)-i)
		out[i].Domains, out[i].Err = r.listRunning(uctx, uri)
		cancel()
	}
	return out, nil
}

// listRunning lists uri's running domains within ctx, with one call.
func (r *Resolver) listRunning(ctx context.Context, uri string) ([]libvirtrpc.Domain, error) {
	return watch(ctx, uri, func(step *atomic.Value) ([]libvirtrpc.Domain, error) {
		l, closeConn, err := r.connect(ctx, uri, step)
		if err != nil {
			if failure.ClassOf(err) == failure.Usage {
				return nil, err
			}
			return nil, failure.Wrap(failure.Unreachable, err, "list %s", uri)
		}
		defer closeConn()
		step.Store("listing the running domains of " + uri)
		doms, err := l.ListAllDomains(libvirtrpc.ListActive).Wait()
		if err != nil {
			return nil, failure.Wrap(failure.Unreachable, hungUp(err), "list domains on %s", uri)
		}
		return doms, nil
	})
}

// RunningNames returns the sorted, distinct names of the running domains of
// every URI that answered, and the errors of those that did not.
func RunningNames(listed []Listed) (names []string, errs []error) {
	for _, l := range listed {
		if l.Err != nil {
			errs = append(errs, l.Err)
			continue
		}
		for _, d := range l.Domains {
			names = append(names, d.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), errs
}

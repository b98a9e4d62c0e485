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
// set; ctx bounds the whole listing. The error is a bad URI list (an
// unknown alias). It is what completion and listing build on.
func (r *Resolver) Running(ctx context.Context, scope host.Scope) ([]Listed, error) {
	uris, err := r.searchList(scope)
	if err != nil {
		return nil, err
	}
	out := make([]Listed, len(uris))
	for i, uri := range uris {
		out[i] = Listed{URI: uri}
		if ctx.Err() != nil {
			out[i].Err = failure.Wrap(failure.Timeout, context.Cause(ctx), "timed out before listing the domains of %s", uri)
			continue
		}
		out[i].Domains, out[i].Err = r.listRunning(ctx, uri)
	}
	return out, nil
}

func (r *Resolver) listRunning(ctx context.Context, uri string) ([]libvirtrpc.Domain, error) {
	e, err := endpointFor(uri, r.Env)
	if err != nil {
		return nil, failure.Wrap(failure.Usage, err, "bad --connect URI")
	}
	type result struct {
		doms []libvirtrpc.Domain
		err  error
	}
	res, ok := bounded(ctx, func() result {
		var step atomic.Value
		step.Store("listing " + uri)
		l, closeConn, err := r.open(ctx, e, &step)
		if err != nil {
			return result{nil, failure.Wrap(failure.Unreachable, err, "list %s", uri)}
		}
		defer closeConn()
		doms, err := l.ListAllDomains(libvirtrpc.ListActive).Wait()
		if err != nil {
			err = failure.Wrap(failure.Unreachable, err, "list domains on %s", uri)
		}
		return result{doms, err}
	})
	// A call that failed because ctx ended (our watchdog closed the socket)
	// is the timeout, not a daemon error.
	if !ok || (res.err != nil && ctx.Err() != nil) {
		return nil, failure.Wrap(failure.Timeout, context.Cause(ctx), "timed out listing the domains of %s", uri)
	}
	return res.doms, res.err
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

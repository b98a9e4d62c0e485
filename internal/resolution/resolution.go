// Package resolution is what resolve prints: the target HOST resolves to,
// with its domain and the IP fallback's candidates, as lines for people or
// one JSON object for scripts; and, with --json, a failure as an object
// too.
package resolution

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// resolved is what `resolve --json` prints. Fields that do not apply to the
// target are left out.
type resolved struct {
	Host    string  `json:"host"`
	Network string  `json:"network"`
	URI     string  `json:"uri,omitempty"`
	Name    string  `json:"name,omitempty"`
	UUID    string  `json:"uuid,omitempty"`
	ID      *int32  `json:"id,omitempty"`
	State   string  `json:"state,omitempty"`
	CID     *uint32 `json:"cid,omitempty"`
	Path    string  `json:"path,omitempty"`
	Port    *uint32 `json:"port,omitempty"`
	// Addresses are the IP fallback's candidates, for domain targets.
	Addresses *[]address `json:"addresses,omitempty"`
}

// address is one IP fallback candidate in `resolve --json`.
type address struct {
	Address string `json:"address"`
	Source  string `json:"source"`
}

// Failed is what `resolve --json` prints when HOST does not resolve, so a
// script reading stdout gets an object either way: the failure line's
// message, its class's name and its exit code.
type Failed struct {
	Host  string `json:"host"`
	Error string `json:"error"`
	Class string `json:"class"`
	Exit  int    `json:"exit"`
}

// WriteFailure writes err, HOST's (host's) failure, as `resolve --json`
// does. A write error is not reported: the failure's own line on stderr
// follows either way.
func WriteFailure(w io.Writer, host string, err error) {
	c := failure.ClassOf(err)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(Failed{Host: host, Error: err.Error(), Class: c.String(), Exit: int(c)})
}

// Write writes t, what HOST (host) resolves to: one JSON object when
// asJSON, else a line per field for people.
func Write(w io.Writer, host string, t target.Target, asJSON bool) error {
	r := resolved{Host: host, Network: string(t.Network), Path: t.Path}
	switch t.Network {
	case target.VSock:
		r.CID, r.Port = &t.CID, &t.Port
	case target.Mux, target.TCP:
		r.Port = &t.Port
	}
	if t.Addrs != nil { // the fallback looked (resolve without --no-ip-fallback)
		as := make([]address, 0, len(t.Addrs))
		for _, a := range t.Addrs {
			as = append(as, address{a.IP.String(), a.Source})
		}
		r.Addresses = &as
	}
	if d := t.Domain; d != nil {
		r.URI, r.Name, r.UUID, r.ID, r.State = d.URI, d.Name, d.UUID, &d.ID, d.State
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return writeLines(w, host, t)
}

// writeLines writes t as people read it: a "field: value" line each, the
// values in one column.
func writeLines(w io.Writer, host string, t target.Target) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("host", host)
	if d := t.Domain; d != nil {
		row("uri", d.URI)
		row("name", d.Name)
		row("uuid", d.UUID)
		row("id", d.ID)
		row("state", d.State)
	}
	switch t.Network {
	case target.VSock:
		row("vsock", fmt.Sprintf("cid %d port %d", t.CID, t.Port))
	case target.Unix:
		row("unix", t.Path)
	case target.Mux:
		row("vsock-mux", fmt.Sprintf("%s port %d", t.Path, t.Port))
	case target.TCP:
		row("tcp", fmt.Sprintf("port %d (no usable vsock: the IP fallback)", t.Port))
	}
	for _, a := range t.Addrs {
		row("address", a)
	}
	return tw.Flush()
}

// Package listing is what list prints: a row per domain on the searched
// URIs (its state, its vsock CID or why it has none, the host names that
// reach it), gathered from a lookup.Listing already fetched, as a table for
// people or JSON for scripts.
package listing

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/printable"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

// Row is one domain as `list --json` prints it.
type Row struct {
	URI   string  `json:"uri"`
	Name  string  `json:"name"`
	UUID  string  `json:"uuid"`
	ID    *int32  `json:"id"` // null when the domain is not running
	State string  `json:"state"`
	CID   *uint32 `json:"cid"` // null without a usable vsock CID
	// VSock says why CID is null: "no vsock device", "no CID address", ...
	VSock string `json:"vsock,omitempty"`
	// SSH and SCP are the host names to use with ssh and with scp/rsync;
	// null when no spelling reaches the domain (see sshname.For).
	SSH *string `json:"ssh"`
	SCP *string `json:"scp"`
	// Plain is the plain name that reaches the domain with the
	// plain-names drop-in on; null for a domain that does not run.
	Plain *string `json:"plain"`
	// The IP fallback's "addresses" go here.
}

// Rows returns a row for each domain of ls, which r listed, in its order;
// hosts is the hosts file, for the plain name.
func Rows(ls *lookup.Listing, r *lookup.Resolver, hosts []byte) []Row {
	// List expanded the same URI list already: an error here cannot be
	// new, and would only leave the names empty.
	searchURIs := func(s host.Scope) []string {
		uris, _ := r.SearchURIs(s)
		return uris
	}
	rows := make([]Row, 0, len(ls.Entries))
	for i := range ls.Entries {
		rows = append(rows, row(ls, &ls.Entries[i], searchURIs, hosts))
	}
	return rows
}

// row is what list prints about e.
func row(ls *lookup.Listing, e *lookup.Entry, searchURIs func(host.Scope) []string, hosts []byte) Row {
	l := Row{URI: e.URI, Name: e.Name, UUID: e.UUID, State: e.State}
	if e.Active() {
		l.ID = &e.ID
	}
	switch {
	case e.VSockErr == nil:
		l.CID = &e.CID
	case errors.Is(e.VSockErr, domainxml.ErrNoVsock):
		l.VSock = "no vsock device"
	case errors.Is(e.VSockErr, domainxml.ErrNoCID):
		l.VSock = "no CID address"
	default:
		l.VSock = e.VSockErr.Error()
	}
	n := sshname.For(ls, e, searchURIs)
	if n.SSH != "" {
		l.SSH = &n.SSH
	}
	if n.SCP != "" {
		l.SCP = &n.SCP
	}
	if p := sshname.Plain(ls, e, searchURIs, hosts); p != "" {
		l.Plain = &p
	}
	return l
}

// Write writes rows: JSON when asJSON, else a table.
func Write(w io.Writer, rows []Row, asJSON bool) error {
	if asJSON {
		return writeJSON(w, rows)
	}
	return writeTable(w, rows)
}

func writeJSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// writeTable prints one line per domain. Names ssh would need quoted
// (spaces, control characters) are printed Go-quoted so columns stay intact.
func writeTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tCID\tSSH\tPLAIN\tURI")
	for _, l := range rows {
		cid := "-"
		switch {
		case l.CID != nil:
			cid = strconv.FormatUint(uint64(*l.CID), 10)
		case l.VSock == "no vsock device":
			cid = "none"
		case l.VSock == "no CID address":
			cid = "no address"
		}
		ssh, plain := "-", "-"
		if l.SSH != nil {
			ssh = *l.SSH
		}
		if l.Plain != nil {
			plain = *l.Plain
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(l.Name), l.State, cid, ssh, plain, cell(l.URI))
	}
	return tw.Flush()
}

// cell is s as a table row shows it: printable, and quoted when it is
// empty or holds a blank, which would split or hide a column.
func cell(s string) string {
	if s == "" || strings.Contains(s, " ") {
		return strconv.Quote(s)
	}
	return printable.String(s)
}

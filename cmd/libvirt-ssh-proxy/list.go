package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/domainxml"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

// listed is one domain as `list --json` prints it.
type listed struct {
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

// list prints every domain on the searched URIs: a table for people, JSON
// for scripts. URIs without a daemon are skipped; a URI that fails makes
// the command fail after printing what the others gave.
func list(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	r := c.resolver()
	ls, err := r.List(ctx, host.Any)
	// List expanded the same URI list already: an error here cannot be
	// new, and would only leave the names empty.
	searchURIs := func(s host.Scope) []string {
		uris, _ := r.SearchURIs(s)
		return uris
	}
	hosts := plainname.ReadHosts(plainname.HostsFile)
	rows := make([]listed, 0, len(ls.Entries))
	for i := range ls.Entries {
		rows = append(rows, listEntry(&ls, &ls.Entries[i], searchURIs, hosts))
	}
	var perr error
	switch {
	case err != nil && len(rows) == 0:
		// Nothing to show: the failure line says it all.
	case c.json:
		perr = printListJSON(c.out, rows)
	default:
		perr = printListTable(c.out, rows)
	}
	if err != nil {
		return c.fail(err)
	}
	if perr != nil {
		return c.fail(failure.Wrap(failure.Internal, perr, "print"))
	}
	return 0
}

// listEntry is what list prints about e; hosts is the hosts file, for
// the plain name.
func listEntry(ls *lookup.Listing, e *lookup.Entry, searchURIs func(host.Scope) []string, hosts []byte) listed {
	l := listed{URI: e.URI, Name: e.Name, UUID: e.UUID, State: e.State}
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

func printListJSON(w io.Writer, rows []listed) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// printListTable prints one line per domain. Names ssh would need quoted
// (spaces, control characters) are printed Go-quoted so columns stay intact.
func printListTable(w io.Writer, rows []listed) error {
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
	return printable(s)
}

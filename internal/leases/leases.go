// Package leases reads the files libvirt's dnsmasq keeps for each virtual
// network — the data libvirt's NSS modules read — to find a domain's IP
// addresses when it cannot be reached over vsock.
//
// In DIR (DefaultDir on a stock host) each network's bridge has
//
//	BRIDGE.status  JSON array of leases: {"ip-address", "mac-address",
//	               "hostname", "client-id", "expiry-time" (epoch seconds;
//	               absent means the lease never expires)}
//	BRIDGE.macs    JSON array of {"domain": NAME, "macs": [MAC, ...]}
//
// Find follows the libvirt_guest NSS module: domain name -> MACs (from every
// .macs file, plus MACs the caller already knows from the domain XML) ->
// leases with those MACs in every .status file; expired leases are skipped
// and the newest expiry comes first. Unlike libvirt's module, one corrupt
// file does not spoil the others: it is skipped and reported.
//
// The parsers are pure (bytes in, values out) so they can be fuzzed.
package leases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultDir is where libvirt's network driver keeps the dnsmasq files.
const DefaultDir = "/var/lib/libvirt/dnsmasq"

// MaxFileSize bounds what is read of one file. A real status file holds a
// couple of hundred bytes per lease; anything this large is not one, and
// reading it whole would slow every fallback down.
const MaxFileSize = 16 << 20

// Lease is one lease from a .status file.
type Lease struct {
	IP       netip.Addr // link-local IPv6 carries its bridge as zone (Find)
	MAC      string     // canonical lower-case form; empty if the lease has none
	Hostname string
	Expiry   time.Time // zero: never expires
	File     string    // the .status file it came from (Find)
}

// entry is a lease as JSON has it. Pointers tell a missing field from a
// zero one; a field of the wrong JSON type fails the entry's decoding.
type entry struct {
	IP       *string `json:"ip-address"`
	MAC      *string `json:"mac-address"`
	Hostname *string `json:"hostname"`
	Expiry   *int64  `json:"expiry-time"`
}

// ParseStatus parses the contents of a .status file. An entry that is not a
// usable lease (not an object, a field of the wrong type, no or a bad IP
// address, a bad MAC, a negative expiry) is skipped and counted in bad; err
// is set only when the file as a whole is not a JSON array. An empty file
// holds no leases: dnsmasq truncates before it writes.
func ParseStatus(data []byte) (leases []Lease, bad int, err error) {
	es, bad, err := decode[entry](data)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range es {
		l, ok := lease(e)
		if !ok {
			bad++
			continue
		}
		leases = append(leases, l)
	}
	return leases, bad, nil
}

// lease checks and converts one decoded entry.
func lease(e entry) (Lease, bool) {
	if e.IP == nil {
		return Lease{}, false
	}
	ip, err := netip.ParseAddr(*e.IP)
	if err != nil {
		return Lease{}, false
	}
	l := Lease{IP: ip.WithZone("").Unmap()}
	if e.MAC != nil {
		if l.MAC, err = canonicalMAC(*e.MAC); err != nil {
			return Lease{}, false
		}
	}
	if e.Hostname != nil {
		l.Hostname = *e.Hostname
	}
	if e.Expiry != nil {
		switch {
		case *e.Expiry < 0:
			return Lease{}, false
		case *e.Expiry > 0: // 0 is dnsmasq's own spelling of "never"
			l.Expiry = time.Unix(*e.Expiry, 0)
		}
	}
	return l, true
}

// DomainMACs is one entry of a .macs file.
type DomainMACs struct {
	Domain string
	MACs   []string // canonical lower-case forms
}

// ParseMACs parses the contents of a .macs file. Entries that are not
// {"domain": string, "macs": [string...]} with valid MACs are skipped and
// counted in bad; err is set only when the file is not a JSON array.
func ParseMACs(data []byte) (doms []DomainMACs, bad int, err error) {
	es, bad, err := decode[macsEntry](data)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range es {
		if e.Domain == nil {
			bad++
			continue
		}
		d := DomainMACs{Domain: *e.Domain}
		ok := true
		for _, m := range e.MACs {
			c, err := canonicalMAC(m)
			if err != nil {
				ok = false
				break
			}
			d.MACs = append(d.MACs, c)
		}
		if !ok {
			bad++
			continue
		}
		doms = append(doms, d)
	}
	return doms, bad, nil
}

// macsEntry is a .macs entry as JSON has it.
type macsEntry struct {
	Domain *string  `json:"domain"`
	MACs   []string `json:"macs"`
}

// decode decodes a JSON array of T: in one pass when every element fits T
// (a well-formed file: the common case, and twice as fast), else element by
// element, keeping those that fit and counting the others in bad. err is
// set only when data is not a JSON array at all.
func decode[T any](data []byte) (all []T, bad int, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, 0, nil
	}
	if json.Unmarshal(data, &all) == nil {
		return all, 0, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, 0, fmt.Errorf("not a JSON array: %w", err)
	}
	all = all[:0]
	for _, r := range raw {
		var v T
		if json.Unmarshal(r, &v) != nil {
			bad++
			continue
		}
		all = append(all, v)
	}
	return all, bad, nil
}

// canonicalMAC returns a 6-byte MAC in lower case with colons, the form
// dnsmasq writes and libvirt's XML uses, so that matching is exact.
func canonicalMAC(s string) (string, error) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("%q is not a MAC address", s)
	}
	return hw.String(), nil
}

// Find returns the unexpired leases in dir that belong to domain: leases
// whose MAC is one of macs (from the domain XML; any case) or one the .macs
// files list for domain. They come newest expiry first (leases that never
// expire before all), each address once. now decides what has expired.
//
// Find does not fail: a missing directory, an unreadable, oversized or
// corrupt file, a bad entry — each is skipped and reported in problems, for
// -v, and the other files still count.
func Find(dir, domain string, macs []string, now time.Time) (found []Lease, problems []error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("read lease directory: %w", err)}
	}
	want := map[string]bool{}
	for _, m := range macs {
		if c, err := canonicalMAC(m); err == nil {
			want[c] = true
		}
	}
	var statuses []string
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasSuffix(name, ".macs"):
			doms, bad, err := ParseMACs(read(path, &problems))
			problems = note(problems, path, bad, err)
			for _, d := range doms {
				if d.Domain == domain {
					for _, m := range d.MACs {
						want[m] = true
					}
				}
			}
		case strings.HasSuffix(name, ".status"):
			statuses = append(statuses, name)
		}
	}
	if len(want) == 0 {
		return nil, problems
	}
	for _, name := range statuses {
		path := filepath.Join(dir, name)
		ls, bad, err := ParseStatus(read(path, &problems))
		problems = note(problems, path, bad, err)
		bridge := strings.TrimSuffix(name, ".status")
		for _, l := range ls {
			if !want[l.MAC] || (!l.Expiry.IsZero() && l.Expiry.Before(now)) {
				continue
			}
			if l.IP.Is6() && l.IP.IsLinkLocalUnicast() {
				// Reachable only through the network's bridge, which the
				// file is named after.
				l.IP = l.IP.WithZone(bridge)
			}
			l.File = path
			found = append(found, l)
		}
	}
	slices.SortStableFunc(found, func(a, b Lease) int { return newer(a.Expiry, b.Expiry) })
	return dedup(found), problems
}

// newer orders expiry times newest first, "never" before any time.
func newer(a, b time.Time) int {
	switch {
	case a.Equal(b):
		return 0
	case a.IsZero():
		return -1
	case b.IsZero():
		return 1
	}
	return b.Compare(a)
}

// dedup keeps the first lease of each address.
func dedup(ls []Lease) []Lease {
	seen := map[netip.Addr]bool{}
	return slices.DeleteFunc(ls, func(l Lease) bool {
		dup := seen[l.IP]
		seen[l.IP] = true
		return dup
	})
}

// read returns up to MaxFileSize bytes of path, or nil after noting why not.
func read(path string, problems *[]error) []byte {
	f, err := os.Open(path)
	if err != nil {
		*problems = append(*problems, fmt.Errorf("skipping %s: %w", path, unwrapPath(err)))
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	switch {
	case err != nil:
		*problems = append(*problems, fmt.Errorf("skipping %s: read: %w", path, unwrapPath(err)))
		return nil
	case len(b) > MaxFileSize:
		*problems = append(*problems, fmt.Errorf("skipping %s: larger than %d MiB", path, MaxFileSize>>20))
		return nil
	}
	return b
}

// note records a corrupt file or its bad entries.
func note(problems []error, path string, bad int, err error) []error {
	if err != nil {
		return append(problems, fmt.Errorf("skipping %s: %w", path, err))
	}
	if bad > 0 {
		return append(problems, fmt.Errorf("%s: skipped %d malformed entries", path, bad))
	}
	return problems
}

// unwrapPath drops os.PathError's repetition of the path we already name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Owners returns the domains whose guests hold an unexpired lease in dir
// with hostname as its DHCP hostname (the libvirt NSS module's match:
// hostname -> lease -> MAC -> the domain the .macs files give that MAC),
// sorted, each once. Hostnames match without regard to ASCII case, as DNS
// names do. Like Find it does not fail: what it skipped is in problems.
func Owners(dir, hostname string, now time.Time) (owners []string, problems []error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("read lease directory: %w", err)}
	}
	var ls []Lease
	var doms []DomainMACs
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".status"):
			got, bad, err := ParseStatus(read(path, &problems))
			problems = note(problems, path, bad, err)
			ls = append(ls, got...)
		case strings.HasSuffix(e.Name(), ".macs"):
			got, bad, err := ParseMACs(read(path, &problems))
			problems = note(problems, path, bad, err)
			doms = append(doms, got...)
		}
	}
	return OwnersOf(hostname, ls, doms, now), problems
}

// OwnersOf is Owners over leases and .macs entries already parsed: pure,
// for the fuzzer. A lease without a MAC names no domain.
func OwnersOf(hostname string, ls []Lease, doms []DomainMACs, now time.Time) []string {
	macs := map[string]bool{}
	for _, l := range ls {
		if l.MAC != "" && hostname != "" && equalFoldASCII(l.Hostname, hostname) && (l.Expiry.IsZero() || !l.Expiry.Before(now)) {
			macs[l.MAC] = true
		}
	}
	var owners []string
	for _, d := range doms {
		if slices.ContainsFunc(d.MACs, func(m string) bool { return macs[m] }) {
			owners = append(owners, d.Domain)
		}
	}
	slices.Sort(owners)
	return slices.Compact(owners)
}

// equalFoldASCII compares as DNS does: only A-Z fold, so a hostname with
// other letters never matches a name it merely resembles under Unicode's
// rules (the Kelvin sign is not a k).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

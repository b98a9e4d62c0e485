package lookup

import (
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
)

// FuzzParseUUID: whatever ParseUUID accepts is 32 hex digits once the dashes
// are gone, and formats back to the same digits in lower case.
func FuzzParseUUID(f *testing.F) {
	for _, s := range []string{"6f0d1b2a-0000-4000-8000-00000000000a", "6F0D1B2A00004000800000000000000A", "-6f0d1b2a00004000800000000000000a-", "+f0d1b2a000040008000000000000000a", "web01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := ParseUUID(s)
		if !ok {
			return
		}
		h := strings.ToLower(strings.ReplaceAll(s, "-", ""))
		if got := strings.ReplaceAll(u.String(), "-", ""); got != h {
			t.Fatalf("ParseUUID(%q) = %s, which is not the input's digits %s", s, u.String(), h)
		}
	})
}

// FuzzParseID: parseID takes plain decimal digits that fit an int32 and
// nothing else (no sign, no space, no non-ASCII digits).
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"7", "0", "-1", "+7", "2147483647", "2147483648", "٣", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseID(s)
		if !ok {
			return
		}
		if id < 0 || s == "" || strings.Trim(s, "0123456789") != "" {
			t.Fatalf("parseID(%q) = %d, ok", s, id)
		}
	})
}

// FuzzEndpointFor: any --connect text gives a local endpoint, a Hop to
// another host, or a URI error, never a panic, and never both: a URI the
// lookup would dial here is never one on another host. A local endpoint
// always has a socket to try and a name to open, and only ?socket= can make
// the socket path relative; a Hop has a host ssh can be given and a URI to
// open there.
func FuzzEndpointFor(f *testing.F) {
	for _, s := range []string{"qemu:///system", "qemu:///session", "test+unix:///h.xml?socket=/d/s", "qemu+tcp://[::1]:99/system", "qemu+ssh://u@h/system?name=x", "qemu+ssh://u@h:2222/system?socket=/s", "qemu+libssh2://localhost/session", "qemu://h/system", "qemu+tls:///system", "a+b+c:///x", "qemu+unix://h/system", "%zz", "qemu:///system?socket=", ""} {
		f.Add(s)
	}
	env := Env{Getenv: func(string) string { return "" }, Home: "/home/u"}
	f.Fuzz(func(t *testing.T, uri string) {
		e, err := endpointFor(uri, env)
		h, remote, herr := HopOf(uri)
		if err == nil && (remote || herr != nil) {
			t.Fatalf("endpointFor(%q) = %+v, yet HopOf says %+v, %v, %v", uri, e, h, remote, herr)
		}
		if herr != nil && failure.ClassOf(herr) != failure.Usage {
			t.Fatalf("HopOf(%q): %v is no usage failure", uri, herr)
		}
		if remote && herr == nil {
			if h.Host == "" || h.URI == "" || strings.HasPrefix(h.Host, "-") || strings.ContainsAny(h.Host, " \t\n") ||
				strings.Trim(h.Port, "0123456789") != "" {
				t.Fatalf("HopOf(%q) = %+v", uri, h)
			}
			if _, err := endpointFor(h.URI, env); err != nil && !strings.Contains(uri, "name=") {
				t.Fatalf("HopOf(%q) = %+v: its URI there is not local: %v", uri, h, err)
			}
		}
		if err != nil {
			if !strings.Contains(err.Error(), "URI") {
				t.Fatalf("endpointFor(%q) error %q does not say it is about the URI", uri, err)
			}
			return
		}
		if e.name == "" || len(e.addrs) == 0 || e.addrs[0] == "" {
			t.Fatalf("endpointFor(%q) = %+v: nothing to open", uri, e)
		}
		if !strings.Contains(uri, "socket=") && !strings.HasPrefix(e.addrs[0], "/") {
			t.Fatalf("endpointFor(%q) = %+v: relative default socket", uri, e)
		}
	})
}

package libvirturi

import (
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
)

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
		e, err := EndpointFor(uri, env)
		h, remote, herr := HopOf(uri)
		if err == nil && (remote || herr != nil) {
			t.Fatalf("EndpointFor(%q) = %+v, yet HopOf says %+v, %v, %v", uri, e, h, remote, herr)
		}
		if herr != nil && failure.ClassOf(herr) != failure.Usage {
			t.Fatalf("HopOf(%q): %v is no usage failure", uri, herr)
		}
		if remote && herr == nil {
			if h.Host == "" || h.URI == "" || strings.HasPrefix(h.Host, "-") || strings.ContainsAny(h.Host, " \t\n") ||
				strings.Trim(h.Port, "0123456789") != "" {
				t.Fatalf("HopOf(%q) = %+v", uri, h)
			}
			if _, err := EndpointFor(h.URI, env); err != nil && !strings.Contains(uri, "name=") {
				t.Fatalf("HopOf(%q) = %+v: its URI there is not local: %v", uri, h, err)
			}
		}
		if err != nil {
			if !strings.Contains(err.Error(), "URI") {
				t.Fatalf("EndpointFor(%q) error %q does not say it is about the URI", uri, err)
			}
			return
		}
		if e.Name == "" || len(e.Addrs) == 0 || e.Addrs[0] == "" {
			t.Fatalf("EndpointFor(%q) = %+v: nothing to open", uri, e)
		}
		if !strings.Contains(uri, "socket=") && !strings.HasPrefix(e.Addrs[0], "/") {
			t.Fatalf("EndpointFor(%q) = %+v: relative default socket", uri, e)
		}
	})
}

package plainname

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
)

func TestEligible(t *testing.T) {
	tests := []struct {
		name, sshHost string
		class         failure.Class // 0: eligible
	}{
		{"web01", "", 0},
		{"web01", "web01", 0},
		{"Dev-Box", "dev-box", 0},                        // ssh lowercases %h
		{"CAPS", "caps", 0},                              // HostName CAPS is the name itself
		{"web01.lab", "web01.lab", 0},                    // dots are fine in names
		{"cafe1", "cafe1", 0},                            // hex-looking, but no address
		{"1e.5", "1e.5", 0},                              // not inet_aton's either
		{"web01", "10.1.1.1", failure.NotFound},          // HostName of the user's
		{"alias1", "web01", failure.NotFound},            // an alias to another name
		{"web01", "web01.example.com", failure.NotFound}, // a canonical or suffixed HostName
		{"K\u212a", "kk", failure.NotFound},              // only ASCII folds, as in ssh
		{"10.0.0.5", "10.0.0.5", failure.Usage},
		{"7", "7", failure.Usage},                 // inet_aton: 0.0.0.7
		{"10.1", "10.1", failure.Usage},           // 10.0.0.1
		{"0x7f.1", "0x7f.1", failure.Usage},       // 127.0.0.1
		{"017.0.0.1", "017.0.0.1", failure.Usage}, // octal
		{"fe80::1", "fe80::1", failure.Usage},
		{"[::1]", "", failure.Usage},
		{"qemu/web01", "", failure.Usage}, // the helper's own forms
		{"qemu%web01", "", failure.Usage},
		{"", "", failure.Usage},
		{"a b", "", failure.Usage},
		{"a\nb", "", failure.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_"+tt.sshHost, func(t *testing.T) {
			err := Eligible(tt.name, tt.sshHost)
			if got := classOrZero(err); got != tt.class {
				t.Errorf("Eligible(%q, %q) = %v (class %d), want class %d", tt.name, tt.sshHost, err, got, tt.class)
			}
		})
	}
}

func classOrZero(err error) failure.Class {
	if err == nil {
		return 0
	}
	return failure.ClassOf(err)
}

func FuzzEligible(f *testing.F) {
	for _, s := range [][2]string{{"web01", "web01"}, {"Web01", "web01"}, {"10.1", ""}, {"0x7f.1", "x"}, {"a/b", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, sshHost string) {
		err := Eligible(name, sshHost)
		if err == nil {
			// What passes is a name ssh's %h (lowercased) agrees with, and
			// never an address or one of the helper's forms.
			if sshHost != "" && !strings.EqualFold(sshHost, name) {
				t.Fatalf("%q with %%h %q passed", name, sshHost)
			}
			if _, perr := netip.ParseAddr(name); perr == nil || strings.ContainsAny(name, "/%") || name == "" {
				t.Fatalf("%q passed", name)
			}
			return
		}
		if c := failure.ClassOf(err); c != failure.Usage && c != failure.NotFound {
			t.Fatalf("class %d for %q, %q", c, name, sshHost)
		}
	})
}

func TestRouted(t *testing.T) {
	hosts := []byte("127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n192.168.122.5 Web01 web01.lab  # a VM by address\n" +
		"# 10.0.0.8 commented\n10.0.0.9\n   \n10.0.0.10 tail#comment\n")
	tests := []struct {
		name   string
		routed bool
	}{
		{"web01", true}, {"WEB01", true}, {"web01.lab", true}, // names and aliases, any ASCII case
		{"tail", true},       // a comment right after it
		{"localhost", true},  // always this host
		{"LocalHost", true},  // in any case
		{"commented", false}, // only in a comment
		{"10.0.0.9", false},  // an address is no name (Eligible refuses those)
		{"192.168.122.5", false},
		{"web", false}, {"web01.l", false}, {"", false},
	}
	for _, tt := range tests {
		if err := Routed(hosts, tt.name); (err != nil) != tt.routed {
			t.Errorf("Routed(%q) = %v, want routed %v", tt.name, err, tt.routed)
		}
	}
	if err := Routed(nil, "web01"); err != nil {
		t.Errorf("no hosts file: %v", err)
	}
}

// TestResolveRouted: a name the hosts file lists is no match, before any
// lookup (the resolver here has nothing to search).
func TestResolveRouted(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(f, []byte("10.0.0.9 mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Rules{Resolver: &lookup.Resolver{}, HostsFile: f}.Resolve(t.Context(), "mine", 22)
	if m.Rule != 0 || err == nil || !strings.Contains(err.Error(), "mine is in /etc/hosts") {
		t.Errorf("Resolve(mine) = %+v, %v; want no match, the hosts file named", m, err)
	}
}

// TestCheck: the check refuses what ssh must not hand over (an address,
// a name with a HostName of the user's) before any lookup, and otherwise
// asks the rules (here the hosts file takes the name).
func TestCheck(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(f, []byte("10.0.0.9 mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, sshHost, want string }{
		{"192.0.2.7", "", "address"},
		{"web01", "web01.example.com", "HostName"},
		{"mine", "", "mine is in /etc/hosts"},
	}
	for _, tt := range tests {
		m, err := Rules{Resolver: &lookup.Resolver{}, HostsFile: f}.Check(t.Context(), tt.name, tt.sshHost, 22)
		if m.Rule != 0 || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%q, %q) = %+v, %v; want no match, %q", tt.name, tt.sshHost, m, err, tt.want)
		}
	}
}

func FuzzListed(f *testing.F) {
	f.Add([]byte("127.0.0.1 localhost\n10.0.0.9 web01 # x\n"), "web01")
	f.Add([]byte("# 1.2.3.4 a\n1.2.3.4\tb\tc\n"), "C")
	f.Fuzz(func(t *testing.T, hosts []byte, name string) {
		if !Listed(hosts, name) {
			return
		}
		// A listed name is a field of some line's text before its '#',
		// after the address.
		for line := range strings.Lines(string(hosts)) {
			line, _, _ = strings.Cut(line, "#")
			if f := strings.Fields(line); len(f) > 1 && slices.ContainsFunc(f[1:], func(n string) bool { return strings.EqualFold(n, name) }) {
				return
			}
		}
		t.Fatalf("Listed(%q, %q) with no such line", hosts, name)
	})
}

package host

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{"qemu/web01", Spec{Kind: Domain, Scope: Any, Domain: "web01"}},
		{"qemu:system/web01", Spec{Kind: Domain, Scope: System, Domain: "web01"}},
		{"qemu:session/Dev-Box", Spec{Kind: Domain, Scope: Session, Domain: "Dev-Box"}},
		{"qemu%web01", Spec{Kind: Domain, Scope: Any, Domain: "web01"}},
		{"qemu%system%web01", Spec{Kind: Domain, Scope: System, Domain: "web01"}},
		{"qemu%session%Dev-Box", Spec{Kind: Domain, Scope: Session, Domain: "Dev-Box"}},
		{"qemu/7", Spec{Kind: Domain, Domain: "7"}},
		{"qemu/6F0D1B2A-0000-4000-8000-00000000000A", Spec{Kind: Domain, Domain: "6F0D1B2A-0000-4000-8000-00000000000A"}},
		// A name may hold '%', ':' and '@'; only the prefix is special.
		{"qemu/a%b", Spec{Kind: Domain, Domain: "a%b"}},
		{"qemu/a:b@c", Spec{Kind: Domain, Domain: "a:b@c"}},
		{"qemu%a:b", Spec{Kind: Domain, Domain: "a:b"}},
		// "system/x" after qemu/ is a name containing '/', refused below;
		// "system%x" after qemu/ is a plain name.
		{"qemu/system%x", Spec{Kind: Domain, Domain: "system%x"}},
		{"qemu/système", Spec{Kind: Domain, Domain: "système"}},
		{"vsock/3", Spec{Kind: VSock, CID: 3}},
		{"vsock%1", Spec{Kind: VSock, CID: 1}},
		{"vsock/4294967294", Spec{Kind: VSock, CID: 4294967294}},
		{"unix/run/ssh.sock", Spec{Kind: Unix, Path: "/run/ssh.sock"}},
		{"unix//run/ssh.sock", Spec{Kind: Unix, Path: "/run/ssh.sock"}},
		{"unix/./rel.sock", Spec{Kind: Unix, Path: "./rel.sock"}},
		{"unix%/tmp/x/s", Spec{Kind: Unix, Path: "/tmp/x/s"}},
		{"unix%tmp/s", Spec{Kind: Unix, Path: "/tmp/s"}},
		{"unix%./s", Spec{Kind: Unix, Path: "./s"}},
		{"vsock-mux/run/fc/v.sock", Spec{Kind: Mux, Path: "/run/fc/v.sock"}},
		{"vsock-mux//run/fc/v.sock", Spec{Kind: Mux, Path: "/run/fc/v.sock"}},
		{"vsock-mux/./v.sock", Spec{Kind: Mux, Path: "./v.sock"}},
		{"vsock-mux%/tmp/v.sock", Spec{Kind: Mux, Path: "/tmp/v.sock"}},
		{"vsock-mux%v.sock", Spec{Kind: Mux, Path: "/v.sock"}},
		{"vsock-mux%./v.sock", Spec{Kind: Mux, Path: "./v.sock"}},
		// The scp/rsync spelling of a socket at any depth: '%' for '/'.
		{"unix%%run%fc%vm1.vsock", Spec{Kind: Unix, Path: "/run/fc/vm1.vsock"}},
		{"unix%%s", Spec{Kind: Unix, Path: "/s"}},
		{"unix%%run%%x", Spec{Kind: Unix, Path: "/run//x"}},
		{"vsock-mux%%run%fc%v.sock", Spec{Kind: Mux, Path: "/run/fc/v.sock"}},
		// Only after "unix%": with '/' as the separator, '%' is data.
		{"unix/%run%x", Spec{Kind: Unix, Path: "/%run%x"}},
		{"unix%/run/50%off", Spec{Kind: Unix, Path: "/run/50%off"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"example.com", "not a host form"},
		{"web01", "not a host form"},
		{"QEMU/web01", "not a host form"},
		{"Qemu%web01", "not a host form"},
		{"qemu:system%web01", "not a host form"},
		{"qemu:System/web01", "not a host form"},
		{"qemu:///system/web01", "not a host form"},
		{"lxc/web01", "not a host form"},
		{"qemu/", "no domain"},
		{"qemu%", "no domain"},
		{"qemu%system%", "no domain"},
		{"qemu:session/", "no domain"},
		{"qemu/a/b", "contains '/'"},
		{"qemu%a/b", "contains '/'"},
		{"qemu/a\x00b", "control character"},
		{"qemu/a\nb", "control character"},
		{"qemu/\xff", "UTF-8"},
		{"qemu/" + strings.Repeat("x", 4096), "bytes long"},
		{"vsock/", "not a number"},
		{"vsock/x", "not a number"},
		{"vsock/-1", "not a number"},
		{"vsock/+3", "not a number"},
		{"vsock/4294967295", "not a number"},
		{"vsock/4294967296", "not a number"},
		{"vsock/3/4", "not a number"},
		{"unix/", "no socket path"},
		{"unix%", "no socket path"},
		{"vsock-mux/", "no socket path"},
		{"vsock-mux%", "no socket path"},
		{"unix%%", "no socket path"},
		{"unix%%%%", "no socket path"},
		{"vsock-mux%%", "no socket path"},
		{"unix//", "no socket path"},
		{"vsock-mux", "not a host form"},
		{"Vsock-Mux/x", "not a host form"},
		{"vsock-muxx/x", "not a host form"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

// TestParseRemote: HV/FORM and HV%FORM name FORM on hypervisor HV, only
// when FORM is itself a served form and HV a plain host name.
func TestParseRemote(t *testing.T) {
	remote := func(hv, inner string) Spec { return Spec{Kind: Remote, Hypervisor: hv, Inner: inner} }
	tests := []struct {
		in   string
		want Spec
	}{
		{"hv1/qemu/web01", remote("hv1", "qemu/web01")},
		{"hv1/qemu:system/web01", remote("hv1", "qemu:system/web01")},
		{"hv1/qemu:session/web01", remote("hv1", "qemu:session/web01")},
		{"hv1%qemu%web01", remote("hv1", "qemu%web01")},
		{"hv1%qemu%system%web01", remote("hv1", "qemu%system%web01")},
		{"hv1%qemu%session%web01", remote("hv1", "qemu%session%web01")},
		{"hv1.example.com/qemu/web01", remote("hv1.example.com", "qemu/web01")},
		{"HV_2-b/vsock/3", remote("HV_2-b", "vsock/3")},
		{"hv1/unix/tmp/x/s", remote("hv1", "unix/tmp/x/s")},
		{"hv1/unix//tmp/x/s", remote("hv1", "unix//tmp/x/s")},
		{"hv1%unix%/tmp/x/s", remote("hv1", "unix%/tmp/x/s")},
		{"hv1%unix%s", remote("hv1", "unix%s")},
		{"hv1%unix%%run%fc%vm1.vsock", remote("hv1", "unix%%run%fc%vm1.vsock")},
		{"hv1%vsock-mux%%run%v.sock", remote("hv1", "vsock-mux%%run%v.sock")},
		{"hv1/vsock-mux/run/v.sock", remote("hv1", "vsock-mux/run/v.sock")},
		// Served forms stay what they were.
		{"qemu/a", Spec{Kind: Domain, Domain: "a"}},
		{"unix/x/y", Spec{Kind: Unix, Path: "/x/y"}},
		{"unix/hv1/qemu/a", Spec{Kind: Unix, Path: "/hv1/qemu/a"}},
		{"unix%hv1%qemu%a", Spec{Kind: Unix, Path: "/hv1%qemu%a"}},
		{"qemu%hv1%qemu%a", Spec{Kind: Domain, Domain: "hv1%qemu%a"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{
		"hv1/web01",               // no served form after HV
		"hv1/qmeu/web01",          // a typo stays an error
		"hv1/qemu/a/b",            // domain names cannot contain '/'
		"hv1/qemu/",               // nothing after the prefix
		"hv1/hv2/qemu/a",          // one hop only
		"-oProxyCommand=x/qemu/a", // never an ssh option
		".hv/qemu/a",
		"a b/qemu/a",
		"user@hv1/qemu/a",
		"hv1:22/qemu/a",
		"/qemu/a",
		"%qemu%a",
		"qemu/hv1/qemu/a", // a domain name with '/'
		"vsock/hv1/vsock/3",
		"hv1/vsock/x",
	} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, got)
		}
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"22", 22, true},
		{"2222", 2222, true},
		{"65536", 65536, true}, // vsock ports are 32 bits
		{"4294967294", 4294967294, true},
		{"4294967295", 0, false}, // VMADDR_PORT_ANY
		{"0", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"+22", 0, false},
		{"22x", 0, false},
		{" 22", 0, false},
	}
	for _, tt := range tests {
		got, err := ParsePort(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePort(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"qemu/web01", "qemu%system%x", "qemu:session/Dev-Box", "vsock/3", "unix%/tmp/s", "vsock-mux%/run/v.sock", "qemu/a%b/c", "", "%/", "hv1/qemu/web01", "hv1%qemu%system%w", "hv1/unix/tmp/s", "a%b/unix/x", "unix%%run%fc%vm1.vsock", "hv1%vsock-mux%%a%b", "run/fc/vm1.vsock"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Any absolute path without '%' (s read as one) spelled the scp
		// way reaches that very path.
		if p := strings.TrimLeft(s, "/"); checkText(s) == nil && p != "" && len(p) < maxName-6 && !strings.Contains(p, "%") {
			spec, err := Parse("unix%%" + strings.ReplaceAll(p, "/", "%"))
			if err != nil || spec.Kind != Unix || spec.Path != "/"+p {
				t.Fatalf("Parse of the %%-spelling of /%s = %+v, %v", p, spec, err)
			}
		}
		spec, err := Parse(s)
		if err != nil {
			return
		}
		switch spec.Kind {
		case Domain:
			if spec.Domain == "" || strings.Contains(spec.Domain, "/") {
				t.Fatalf("Parse(%q) gave bad domain %q", s, spec.Domain)
			}
		case VSock:
			if spec.CID == vmaddrCIDAny {
				t.Fatalf("Parse(%q) gave VMADDR_CID_ANY", s)
			}
		case Unix, Mux:
			if !strings.HasPrefix(spec.Path, "/") && !strings.HasPrefix(spec.Path, "./") {
				t.Fatalf("Parse(%q) gave relative path %q", s, spec.Path)
			}
		case Remote:
			inner, err := Parse(spec.Inner)
			if !isHypervisor(spec.Hypervisor) || strings.HasPrefix(spec.Hypervisor, "-") || err != nil || inner.Kind == Remote {
				t.Fatalf("Parse(%q) gave bad remote %+v (inner: %+v, %v)", s, spec, inner, err)
			}
			if s != spec.Hypervisor+"/"+spec.Inner && s != spec.Hypervisor+"%"+spec.Inner {
				t.Fatalf("Parse(%q) gave remote %+v, which does not spell the input", s, spec)
			}
		default:
			t.Fatalf("Parse(%q) gave kind %d", s, spec.Kind)
		}
	})
}

// TestScopePrefix: each scope's spelling, with either separator, is one
// Parse reads back as that scope (ssh-config's ProxyCommands, list's SSH
// and SCP names and the HV/FORM hint are spelled with Prefix).
func TestScopePrefix(t *testing.T) {
	tests := []struct {
		scope Scope
		sep   byte
		want  string
	}{
		{Any, '/', "qemu/"},
		{Any, '%', "qemu%"},
		{System, '/', "qemu:system/"},
		{System, '%', "qemu%system%"},
		{Session, '/', "qemu:session/"},
		{Session, '%', "qemu%session%"},
	}
	for _, tt := range tests {
		got := tt.scope.Prefix(tt.sep)
		if got != tt.want {
			t.Errorf("%v.Prefix(%q) = %q, want %q", tt.scope, tt.sep, got, tt.want)
		}
		spec, err := Parse(got + "vm")
		if err != nil || spec != (Spec{Kind: Domain, Scope: tt.scope, Domain: "vm"}) {
			t.Errorf("Parse(%q) = %+v, %v; want domain vm, scope %v", got+"vm", spec, err, tt.scope)
		}
	}
}

package sshname

import (
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

func TestHostBlocks(t *testing.T) {
	const exe = "/opt/my tools/libvirt-ssh-proxy"
	d := func(uri, name, uuid string) Wanted {
		return Wanted{Dom: &lookup.Entry{Domain: target.Domain{URI: uri, Name: name, UUID: uuid, ID: 1}, CID: 42}}
	}
	const test = "test+unix:///h.xml?socket=/run/x%20y"
	const leftOut = `qemu/off left out: domain "off" on qemu:///system is not running: shut off`
	doms := []Wanted{
		d(libvirturi.SystemURI, "web01", "u1"),
		d(libvirturi.SessionURI, "Dev Box", "u2"),
		{LeftOut: leftOut},                     // a HOST that failed, in its place
		d(test, "web01", "u3"),                 // alias taken
		d(test, "***", "u4"),                   // nothing left of the name
		d(libvirturi.SystemURI, "web01", "u1"), // asked twice
		d(test, "hijacked", "u5"),              // a domain named u5 is there
		d(test, "unreachable", "u6"),           // nothing reaches it
	}
	target := func(e *lookup.Entry) string {
		switch e.UUID {
		case "u5":
			return e.Name
		case "u6":
			return ""
		}
		return e.UUID
	}
	var b strings.Builder
	if err := sshconfig.Write(&b, Blocks(doms, exe, false, target)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Host web01\n    ProxyCommand '/opt/my tools/libvirt-ssh-proxy' qemu:system/u1 %p\n    ProxyUseFdpass yes\n    CheckHostIP no\n    HostKeyAlias u1\n",
		"Host Dev-Box\n    ProxyCommand '/opt/my tools/libvirt-ssh-proxy' qemu:session/u2 %p\n",
		"# alias Dev-Box: ssh_config or ssh would not take the name as it is\n",
		"HostKeyAlias u2\n\n# " + leftOut + "\n\n# domain \"web01\" on " + test,
		`# domain "web01" on ` + test + `, uuid u3, vsock CID 42: skipped, alias web01 is taken by "web01" on qemu:///system; reach it as qemu/u3`,
		`# domain "***" on ` + test + `, uuid u4, vsock CID 42: skipped, its name has nothing an alias can keep; reach it as qemu/u4`,
		"Host hijacked\n    ProxyCommand '/opt/my tools/libvirt-ssh-proxy' --connect 'test+unix:///h.xml?socket=/run/x%%20y' qemu/hijacked %p\n",
		`# domain "unreachable" on ` + test + `, uuid u6, vsock CID 42: skipped, neither its UUID nor its name reaches it on its URI`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ssh-config output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Host "); n != 3 {
		t.Errorf("%d Host blocks, want 3:\n%s", n, out)
	}
	if strings.Contains(out, "StrictHostKeyChecking") {
		t.Errorf("ssh-config must not weaken host key checking:\n%s", out)
	}
	// With --connect the domain's URI goes along, quoted for the shell and
	// with '%' doubled for ssh.
	if got, want := ProxyCommand("/bin/lsp", test, "u3", true), "/bin/lsp --connect 'test+unix:///h.xml?socket=/run/x%%20y' qemu/u3 %p"; got != want {
		t.Errorf("ProxyCommand = %q, want %q", got, want)
	}
	if got, want := ProxyCommand("/bin/lsp", libvirturi.SystemURI, "u1", true), "/bin/lsp --connect qemu:///system qemu/u1 %p"; got != want {
		t.Errorf("ProxyCommand = %q, want %q", got, want)
	}
	if got, want := ProxyCommand("/bin/lsp", libvirturi.SessionURI, "my 100% vm", false), "/bin/lsp 'qemu:session/my 100%% vm' %p"; got != want {
		t.Errorf("ProxyCommand = %q, want %q", got, want)
	}
}

// TestEntryNoDomain: a HOST that names no libvirt domain (vsock/, unix/)
// has no place in ssh-config: a usage failure that says why, before any
// listing.
func TestEntryNoDomain(t *testing.T) {
	for _, tg := range []target.Target{{Network: target.VSock, CID: 3, Port: 22}, {Network: target.Unix, Path: "/run/s"}} {
		e, err := Entry(t.Context(), nil, tg)
		if e != nil || failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "names no libvirt domain") {
			t.Errorf("Entry(%+v) = %v, %v; want a usage failure", tg, e, err)
		}
	}
}

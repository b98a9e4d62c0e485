package libvirtconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPath(t *testing.T) {
	tests := []struct {
		euid int
		env  map[string]string
		want string
	}{
		{0, map[string]string{"XDG_CONFIG_HOME": "/x"}, "/etc/libvirt/libvirt.conf"},
		{1000, map[string]string{"XDG_CONFIG_HOME": "/x"}, "/x/libvirt/libvirt.conf"},
		{1000, nil, "/home/alice/.config/libvirt/libvirt.conf"},
	}
	for _, tt := range tests {
		if got := Path(tt.euid, env(tt.env), "/home/alice"); got != tt.want {
			t.Errorf("Path(%d, %v) = %q, want %q", tt.euid, tt.env, got, tt.want)
		}
	}
}

func TestIsAlias(t *testing.T) {
	for s, want := range map[string]bool{
		"hv1": true, "HV_1-a": true, "0": true,
		"": false, "hv.1": false, "qemu:///system": false, "a b": false, "é": false, "a=b": false,
	} {
		if got := IsAlias(s); got != want {
			t.Errorf("IsAlias(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAlias(t *testing.T) {
	const conf = `uri_aliases = [
  "hail=qemu+ssh://root@hail.example.com/system",
  "lab=test+unix:///tmp/host.xml?socket=/tmp/s,x=1",
  "hail=qemu:///shadowed",
  "broken entry",
]
`
	f, err := Parse("libvirt.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		ok         bool
		errLine    int // 0: no error
	}{
		{"hail", "qemu+ssh://root@hail.example.com/system", true, 0},
		{"lab", "test+unix:///tmp/host.xml?socket=/tmp/s,x=1", true, 0},
		{"Hail", "", false, 5}, // case matters; the broken entry is met first
	}
	for _, tt := range tests {
		got, ok, err := f.Alias(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Alias(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
		var se *SyntaxError
		if tt.errLine == 0 && err != nil || tt.errLine != 0 && (!errors.As(err, &se) || se.Line != tt.errLine) {
			t.Errorf("Alias(%q) error %v, want line %d", tt.name, err, tt.errLine)
		}
	}
	bad := []struct{ conf, msg string }{
		{`uri_aliases = "hail=qemu:///system"`, "must be a list of strings, not a string"},
		{`uri_aliases = [ 1 ]`, "is a number, not a string"},
		{`uri_aliases = [ "h.1=qemu:///system" ]`, "may only contain"},
		{`uri_aliases = [ "=qemu:///system" ]`, "may only contain"},
	}
	for _, b := range bad {
		f, err := Parse("libvirt.conf", []byte(b.conf))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.Alias("x"); err == nil || !strings.Contains(err.Error(), b.msg) || !strings.HasPrefix(err.Error(), "libvirt.conf:1: ") {
			t.Errorf("%s: error %v, want libvirt.conf:1: ... %q", b.conf, err, b.msg)
		}
	}
	if _, ok, err := (&File{}).Alias("x"); ok || err != nil {
		t.Errorf("no uri_aliases: %v %v", ok, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	f, err := Load(filepath.Join(dir, "absent.conf"))
	if err != nil || len(f.entries) != 0 {
		t.Fatalf("absent file: %v %v, want an empty configuration", f, err)
	}
	good := filepath.Join(dir, "good.conf")
	os.WriteFile(good, []byte("uri_aliases = [ \"a=test:///default\" ]\n"), 0o644)
	f, err = Load(good)
	if u, ok, _ := f.Alias("a"); err != nil || !ok || u != "test:///default" {
		t.Fatalf("Load(good): %v, alias %q", err, u)
	}
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("# fine\nuri_aliases = oops\n"), 0o644)
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: ") {
		t.Fatalf("Load(bad) = %v, want an error at %s:2", err, bad)
	}
	big := filepath.Join(dir, "big.conf")
	os.WriteFile(big, make([]byte, maxSize+1), 0o644)
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Load(big) = %v", err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("Load(a directory) succeeded")
	}
}

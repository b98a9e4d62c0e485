package libvirtconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// debianDefault is the shape of the libvirt.conf distributions ship: all
// comments, the settings commented out.
const debianDefault = `#
# This can be used to setup URI aliases for frequently
# used connection URIs. Aliases may contain only the
# characters  a-Z, 0-9, _, -.
#
# Following the '=' may be any valid libvirt connection
# URI, including arbitrary parameters

#uri_aliases = [
#  "hail=qemu+ssh://root@hail.cloud.example.com/system",
#  "sleet=qemu+ssh://root@sleet.cloud.example.com/system",
#]

#
# These can be used in cases when no URI is supplied by the application
# (@uri_default also prevents probing of the hypervisor driver).
#
#uri_default = "qemu:///system"
`

func TestParse(t *testing.T) {
	str := func(s string, line int) Value { return Value{Kind: String, Str: s, Line: line} }
	tests := []struct {
		name string
		in   string
		key  string
		want Value
	}{
		{"string", `uri_default = "qemu:///system"`, "uri_default", str("qemu:///system", 1)},
		{"single quotes", `uri_default='qemu:///session'`, "uri_default", str("qemu:///session", 1)},
		{"quote inside other quotes", `k = 'say "hi"'`, "k", str(`say "hi"`, 1)},
		{"triple quotes", "k = \"\"\"a\nb\"\"\"\nx = 1", "k", str("a\nb", 1)},
		{"line after triple quotes", "k = \"\"\"a\nb\"\"\"\nx = 1", "x", Value{Kind: Number, Num: 1, Line: 3}},
		{"empty string", `k = ""`, "k", str("", 1)},
		{"number", "k = 42", "k", Value{Kind: Number, Num: 42, Line: 1}},
		{"negative", "k = -7", "k", Value{Kind: Number, Num: -7, Line: 1}},
		{"plus", "k = +7", "k", Value{Kind: Number, Num: 7, Line: 1}},
		{"comment after value", `k = "v" # why`, "k", str("v", 1)},
		{"semicolons", `a = 1; k = "v";`, "k", str("v", 1)},
		{"first assignment wins", "k = 1\nk = 2", "k", Value{Kind: Number, Num: 1, Line: 1}},
		{"CRLF", "a = 1\r\nk = \"v\"\r\n", "k", str("v", 2)},
		{"tabs", "\tk\t=\t\"v\"\t", "k", str("v", 1)},
		{"key with digits and _", `uri_2_x = "v"`, "uri_2_x", str("v", 1)},
		{"multi-line list", "\n\nuri_aliases = [\n  \"a=test:///default\",\n\n  \"b=qemu:///system\",\n]\n", "uri_aliases",
			Value{Kind: List, Line: 3, List: []Value{str("a=test:///default", 4), str("b=qemu:///system", 6)}}},
		{"empty list", "k = [ ]", "k", Value{Kind: List, Line: 1}},
		{"list no trailing comma", `k = ["a","b"]`, "k", Value{Kind: List, Line: 1, List: []Value{str("a", 1), str("b", 1)}}},
		{"mixed list", `k = [ 1, "a" ]`, "k", Value{Kind: List, Line: 1, List: []Value{{Kind: Number, Num: 1, Line: 1}, str("a", 1)}}},
		{"nested list", `k = [[1]]`, "k", Value{Kind: List, Line: 1, List: []Value{{Kind: List, Line: 1, List: []Value{{Kind: Number, Num: 1, Line: 1}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("test.conf", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := f.Get(tt.key)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Get(%q) = %+v, %v; want %+v", tt.key, got, ok, tt.want)
			}
		})
	}
	for _, in := range []string{"", "\n\n  \n", "# only a comment", debianDefault} {
		f, err := Parse("test.conf", []byte(in))
		if err != nil || len(f.entries) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no settings", in, f, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		msg  string
	}{
		{`uri_default "qemu:///system"`, 1, "expecting '=' after \"uri_default\""},
		{"a = 1\n\n= 2", 3, "expecting a setting name"},
		{"_k = 1", 1, "expecting a setting name"},
		{"a = 1\nk = \"open", 2, "unterminated string"},
		{"k = \"open\nclose\"", 1, "unterminated string"},
		{"k = 'x", 1, "unterminated string"},
		{"x = 1\nk = \"\"\"never\nclosed", 2, `unterminated """ string`},
		{"k =", 1, "expecting a value"},
		{"k = qemu:///system", 1, "expecting a value"},
		{"k = -", 1, "a sign without digits"},
		{"k = 99999999999999999999", 1, "does not fit in 64 bits"},
		{"k = 1 2", 1, "expecting a new line or ';'"},
		{`k = "a" "b"`, 1, "expecting a new line or ';'"},
		{"a = 1\nuri_aliases = [\n  \"a=x\",\n  \"b=y\"\n", 2, "list is not closed with ]"},
		{"k = [\n \"a\"\n \"b\" ]", 3, "expecting ',' or ']'"},
		{"k = [ , ]", 1, "expecting a value"},
		{`k = [ "a", , ]`, 1, "expecting a value"},
		{"x = 1\nk = [ \"a\",\n", 2, "list is not closed with ]"},
		{"k = [\n \"a\", # no comments in lists\n]", 2, "expecting a value"},
		{"k = " + strings.Repeat("[", 100), 1, "nested more than 16 deep"},
		{"k = 1\x00", 1, "expecting a new line or ';'"},
	}
	for _, tt := range tests {
		_, err := Parse("/etc/libvirt/libvirt.conf", []byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q) = %v, want line %d containing %q", tt.in, err, tt.line, tt.msg)
		}
		if want := "/etc/libvirt/libvirt.conf:"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q does not start with the file name", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		debianDefault,
		"uri_aliases = [\n  \"hail=qemu+ssh://root@hail/system\",\n  \"sleet=qemu:///system\",\n]\nuri_default = \"hail\"\n",
		"k = \"\"\"a\nb\"\"\"", "k = [[1, -2], '']; x = +3 # c", "k = [", "k = \"", "k = -", "=",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := Parse("f", data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("Parse(%q): %v (want a *SyntaxError on a line of the input)", data, err)
			}
			return
		}
		// Every lookup on a parsed file answers without panicking.
		cf.Alias("hail")
	})
}

// BenchmarkLoadAlias: what an alias costs the helper once the file is in
// the page cache: read, parse and look up, on a file of the distributions'
// shape with ten aliases.
func BenchmarkLoadAlias(b *testing.B) {
	var conf strings.Builder
	conf.WriteString(debianDefault + "uri_aliases = [\n")
	for i := range 10 {
		fmt.Fprintf(&conf, "  \"hv%d=qemu+ssh://root@hv%d.example.com/system\",\n", i, i)
	}
	conf.WriteString("]\n")
	path := filepath.Join(b.TempDir(), "libvirt.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok, err := f.Alias("hv9"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

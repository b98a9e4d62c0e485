package host

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParsePort: ParsePort accepts exactly the plain decimal numbers from 1
// to 2^32-2 (leading zeros allowed, as strconv does), and gives back their
// value; everything else is an error naming the input.
func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"22", "0", "4294967294", "4294967295", "4294967296", "022", "+22", "-1", " 22", "22\x00", "２２", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePort(s)
		digits := s != "" && strings.Trim(s, "0123456789") == ""
		v, verr := strconv.ParseUint(s, 10, 64)
		want := digits && verr == nil && v >= 1 && v <= 1<<32-2
		if (err == nil) != want {
			t.Fatalf("ParsePort(%q) = %d, %v; want ok=%v", s, p, err, want)
		}
		if err == nil && uint64(p) != v {
			t.Fatalf("ParsePort(%q) = %d, want %d", s, p, v)
		}
		if err != nil && (p != 0 || !strings.Contains(err.Error(), strconv.Quote(s))) {
			t.Fatalf("ParsePort(%q) = %d, %v; want 0 and an error quoting the input", s, p, err)
		}
	})
}

// TestParseHostile: names a shell, a terminal or ssh would treat specially.
// Characters are data here: shell metacharacters, '%' and non-ASCII pass
// through unchanged; what cannot be a name gives a clear error. NUL cannot be
// in argv, so only the parser itself meets it.
func TestParseHostile(t *testing.T) {
	long := "qemu/" + strings.Repeat("é", 2048) // 4101 bytes
	tests := []struct {
		in      string
		domain  string // the name Parse must return; "" for an error
		wantErr string
	}{
		{"qemu/$(touch x);`id`|&<>'\"\\", "$(touch x);`id`|&<>'\"\\", ""},
		{"qemu/a*b?c[d]!e#f~g", "a*b?c[d]!e#f~g", ""},
		{"qemu/%n%p%%", "%n%p%%", ""},
		{"qemu%50%off", "50%off", ""},
		{"qemu/日本語-ü", "日本語-ü", ""},
		{"qemu/-oProxyCommand=x", "-oProxyCommand=x", ""},
		{"qemu/a\x00b", "", "control character"},
		{"qemu/a\nb", "", "control character"},
		{"qemu/\x1b[31m", "", "control character"},
		{"qemu/\xff", "", "not valid UTF-8"},
		{long, "", "host name is 4101 bytes long, more than 1024"},
		{"unix/\x00", "", "control character"},
	}
	for _, tt := range tests {
		spec, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) = %+v, %v; want an error with %q", tt.in, spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil || spec.Kind != Domain || spec.Domain != tt.domain {
			t.Errorf("Parse(%q) = %+v, %v; want domain %q", tt.in, spec, err, tt.domain)
		}
	}
}

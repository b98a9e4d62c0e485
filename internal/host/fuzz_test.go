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

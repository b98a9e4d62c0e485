package lookup

import (
	"strings"
	"testing"
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

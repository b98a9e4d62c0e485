package shquote

import (
	"os/exec"
	"testing"
)

// TestQuote: what sh reads back from a quoted word is the word, and a word
// that needs no quotes gets none.
func TestQuote(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("sh is needed to read the quoted words back: %v", err)
	}
	cases := []struct{ in, want string }{
		{"", "''"},
		{"a", "a"},
		{"qemu:///system", "qemu:///system"},
		{"test+unix:///x.xml?socket=/run/s", "'test+unix:///x.xml?socket=/run/s'"},
		{"my vm", "'my vm'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"''", `''\'''\'''`},
		{`a"b\c$d` + "`e`", `'a"b\c$d` + "`e`'"},
		{"$(id) ; rm -rf x", "'$(id) ; rm -rf x'"},
		{"%n %p", "'%n %p'"},
		{"sp ace\ttab", "'sp ace\ttab'"},
		{"a=b", "'a=b'"},
		{"~root", "'~root'"},
		{"*", "'*'"},
	}
	for _, c := range cases {
		got := Quote(c.in)
		if got != c.want {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.want)
		}
		out, err := exec.Command(sh, "-c", "printf %s "+got).Output()
		if err != nil || string(out) != c.in {
			t.Errorf("sh read %q back as %q (%v)", c.in, out, err)
		}
	}
	if got, want := Join("virsh", "-c", "qemu:///system", "start", "my vm"), "virsh -c qemu:///system start 'my vm'"; got != want {
		t.Errorf("Join = %q, want %q", got, want)
	}
}

package cmdline

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// opts is what TestScan reads into.
type opts struct {
	flag      bool
	vals      []string
	bare, set string
}

var table = []Option[opts]{
	{Short: "-f", Long: "--flag", Flag: func(o *opts) *bool { return &o.flag }},
	{Short: "-x", Long: "--value", Set: func(o *opts, name, v string) error {
		o.vals = append(o.vals, name+"="+v)
		return nil
	}},
	{Long: "--opt", Set: func(o *opts, _, v string) error {
		o.set = v
		return nil
	}, Bare: func(o *opts) { o.bare = "bare" }},
}

// TestScan: options anywhere, a value after = or as the next word, an
// optional value only after =, "--" and a lone "-" as arguments, and the
// errors naming the option as written.
func TestScan(t *testing.T) {
	tests := []struct {
		argv    []string
		pos     string
		o       string
		wantErr string
	}{
		{[]string{"a", "-f", "b"}, "[a b]", "{flag:true vals:[] bare: set:}", ""},
		{[]string{"-x", "1", "a", "--value=2", "--value", "-f"}, "[a]", "{flag:false vals:[-x=1 --value=2 --value=-f] bare: set:}", ""},
		{[]string{"--opt", "a"}, "[a]", "{flag:false vals:[] bare:bare set:}", ""},
		{[]string{"--opt=", "a"}, "[a]", "{flag:false vals:[] bare: set:}", ""},
		{[]string{"--opt=3"}, "[]", "{flag:false vals:[] bare: set:3}", ""},
		{[]string{"-", "--", "-f", "--x"}, "[- -f --x]", "{flag:false vals:[] bare: set:}", ""},
		{[]string{"--flag=1"}, "", "", "option --flag takes no value"},
		{[]string{"a", "-x"}, "", "", "option -x needs a value"},
		{[]string{"--nope=1"}, "", "", "unknown option --nope"},
	}
	for _, tt := range tests {
		var o opts
		pos, err := Scan(tt.argv, &o, table)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Scan(%q) error %v, want %q", tt.argv, err, tt.wantErr)
			}
			continue
		}
		if o.vals == nil {
			o.vals = []string{}
		}
		if got := fmt.Sprintf("%+v", o); err != nil || fmt.Sprint(pos) != tt.pos || got != tt.o {
			t.Errorf("Scan(%q) = %q, %s, %v; want %s, %s", tt.argv, pos, got, err, tt.pos, tt.o)
		}
	}
}

// FuzzDuration: an accepted --timeout or --wait is positive; an error
// names the option and quotes the input.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"2s", "500ms", "2", "0.5", "0", "-1", "1e6", "1e7", "NaN", "Inf", "0x10", "1h1h", "9223372036s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Duration("--timeout", s)
		if err != nil {
			if !strings.Contains(err.Error(), "--timeout "+strconv.Quote(s)) {
				t.Fatalf("Duration(%q): error %q does not name the option and the input", s, err)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("Duration(%q) = %v", s, d)
		}
	})
}

package main

import (
	"strings"
	"testing"
)

// FuzzParseArgs: any command line (the fuzzer's string split at NUL, which
// argv cannot contain) parses to options that keep the contract, or to an
// error; never a panic.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"qemu/vm\x0022",
		"resolve\x00--json\x00qemu/vm\x00-c\x00test:///default",
		"-t\x000.5\x00--relay\x00vsock/3\x0022",
		"--timeout=1e300\x00qemu/vm\x0022",
		"--\x00--help\x0022",
		"--fdpass\x00--relay",
		"-c",
		"resolve",
		"\x00\x00",
		"-\x00-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, "\x00")
		o, err := parseArgs(argv)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("parseArgs(%q): empty error", argv)
			}
			return
		}
		if o.timeout <= 0 {
			t.Fatalf("parseArgs(%q): timeout %v", argv, o.timeout)
		}
		if o.fdpass && o.relay {
			t.Fatalf("parseArgs(%q): both --fdpass and --relay", argv)
		}
		if _, ok := commandNamed(o.command); !ok {
			t.Fatalf("parseArgs(%q): unknown command %q", argv, o.command)
		}
		for _, c := range o.connect {
			if c == "" {
				t.Fatalf("parseArgs(%q): empty --connect", argv)
			}
		}
		if o.help || o.version {
			return
		}
		if n, _ := commandNamed(o.command); len(o.args) < n.min || len(o.args) > n.max {
			t.Fatalf("parseArgs(%q): %d arguments for %q", argv, len(o.args), o.command)
		}
		if o.json && o.command == "" {
			t.Fatalf("parseArgs(%q): --json without a command", argv)
		}
		if o.wait < 0 {
			t.Fatalf("parseArgs(%q): --wait %v", argv, o.wait)
		}
	})
}

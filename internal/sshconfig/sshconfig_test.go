package sshconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	out := "user root\nhostname qemu/vm\nport 22\nproxycommand /x/libvirt-ssh-proxy '%n' %p\n" +
		"proxyusefdpass yes\nidentityfile ~/.ssh/id_rsa\nidentityfile ~/.ssh/id_ed25519\ncanonicalizePermittedcnames none\n"
	c, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"proxycommand":                "/x/libvirt-ssh-proxy '%n' %p",
		"proxyusefdpass":              "yes",
		"canonicalizepermittedcnames": "none",
		"identityfile":                "~/.ssh/id_rsa",
		"proxyjump":                   "",
	} {
		if got := c.Get(k); got != want {
			t.Errorf("Get(%q) = %q, want %q", k, got, want)
		}
	}
	if n := len(c["identityfile"]); n != 2 {
		t.Errorf("identityfile has %d values, want 2", n)
	}
	for _, bad := range []string{"", "\n", "Bad owner or permissions on /x\n", "user root\nlonely\n", "user root\n", "hostname x\nk-x v\n", " x\n", "k\tv\n"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("hostname x\nuser root\nproxycommand a '%n' %p\n")
	f.Add("hostname x\n\n")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, out string) {
		c, err := Parse(out)
		if err != nil {
			return
		}
		for k := range c {
			if k == "" || k != strings.ToLower(k) || strings.ContainsAny(k, " \t\n") {
				t.Fatalf("Parse(%q) gave keyword %q", out, k)
			}
		}
	})
}

func TestParseApplied(t *testing.T) {
	stderr := "OpenSSH_9.2p1\ndebug1: Reading configuration data /root/.ssh/config\n" +
		"debug1: /root/.ssh/config line 1: Applying options for *\n" +
		"debug2: /etc/ssh/ssh config line 12: Applying options for qemu/*\n" +
		"debug1: short\ndebug: x\n" +
		"debug1: x line y: Applying options for z\nPseudo-terminal will not be allocated\n" +
		// not as ssh prints them: found by fuzzing, once taken as lines -1 and 1
		"debug1: x line  -1: Applying options for z\ndebug1: x line 01: Applying options for z\n" +
		"debug1: x line 0: Applying options for z\ndebug1: x line 3x: Applying options for z\n" +
		"debug1:  line 3: Applying options for z\n"
	want := []Applied{{"/root/.ssh/config", 1, "*"}, {"/etc/ssh/ssh config", 12, "qemu/*"}}
	if got := ParseApplied(stderr); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseApplied = %+v, want %+v", got, want)
	}
}

func TestExpandTokens(t *testing.T) {
	tok := map[byte]string{'n': "qemu/Vm", 'h': "qemu/vm", 'p': "22"}
	tests := []struct{ in, want, err string }{
		{"/x '%n' %p", "/x 'qemu/Vm' 22", ""},
		{"%h%%%p", "qemu/vm%22", ""},
		{"100%", "", "lone %"},
		{"%z", "", "unknown token %z"},
	}
	for _, tt := range tests {
		got, err := ExpandTokens(tt.in, tok)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ExpandTokens(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ExpandTokens(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"/usr/libexec/libvirt-ssh-proxy 'qemu/Vm' 22", []string{"/usr/libexec/libvirt-ssh-proxy", "qemu/Vm", "22"}},
		{"exec /x -c 'test+unix:///h.xml?socket=/s' qemu/u 22", []string{"/x", "-c", "test+unix:///h.xml?socket=/s", "qemu/u", "22"}},
		{`"/opt/my dir/x" a\ b "q\"uote" 'it'\''s'`, []string{"/opt/my dir/x", "a b", `q"uote`, "it's"}},
		{"  /x\t--connect=qemu:///system  a#b a~b=1 ''", []string{"/x", "--connect=qemu:///system", "a#b", "a~b=1", ""}},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "exec", "nc %h | x", "a; b", "a && b", "x $HOME", `x "$HOME"`, "x `id`", "x > f", "x *", "'open", `"open`, `x\`, "#comment", "~/bin/x"} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) succeeded, want an error", bad)
		}
	}
}

// QuoteArg's output, as ssh reads it (tokens) and then the shell (words),
// must give the argument back.
func FuzzQuoteArg(f *testing.F) {
	for _, s := range []string{"/usr/libexec/libvirt-ssh-proxy", "test+unix:///h.xml?socket=/s", "a b", "it's", "100%", `"$x"`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		if strings.ContainsAny(arg, "\x00\n") {
			return // neither ssh_config lines nor argv can hold them
		}
		expanded, err := ExpandTokens(QuoteArg(arg)+" x", nil)
		if err != nil {
			t.Fatalf("QuoteArg(%q) = %q: %v", arg, QuoteArg(arg), err)
		}
		words, err := SplitCommand(expanded)
		if err != nil || len(words) != 2 || words[0] != arg {
			t.Fatalf("QuoteArg(%q) = %q reads back as %q, %v", arg, QuoteArg(arg), words, err)
		}
	})
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"/x 'a b' \"c\\\"d\" e\\ f", "exec a", "a | b", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitCommand(s)
		if err == nil && len(words) == 0 {
			t.Fatalf("SplitCommand(%q) = no words and no error", s)
		}
	})
}

func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "ssh_config.d", "30-libvirt-ssh-proxy.conf")
	tests := []struct {
		config string
		want   []int
	}{
		{"Include " + dir + "/ssh_config.d/*.conf\nHost *\n", []int{1}},
		{"# Include " + dir + "/ssh_config.d/*.conf\n\tinclude=ssh_config.d/*.conf\n", []int{2}},
		{"Host *\n  SendEnv LANG\n  Include /elsewhere/*.conf \"ssh_config.d/30-*\"\n", []int{3}},
		{"Host *\n  SendEnv LANG\n", nil},
		{"Include /etc/ssh/other.d/*.conf\n", nil},
		// ssh ends the keyword at a tab, a space or '='.
		{"Include\t" + dir + "/ssh_config.d/*.conf\n", []int{1}},
		{"Include \t ssh_config.d/*.conf\n", []int{1}},
		{"Include\t=\tssh_config.d/*.conf\n", []int{1}},
		{"Include\n", nil},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, "ssh_config")
		if err := os.WriteFile(p, []byte(tt.config), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Includes(p, target)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Includes(%q) = %v, %v; want %v", tt.config, got, err, tt.want)
		}
	}
	if _, err := Includes(filepath.Join(dir, "missing"), target); err == nil {
		t.Error("Includes(missing file) succeeded")
	}
}

func TestWrite(t *testing.T) {
	var b strings.Builder
	err := Write(&b, []Block{
		{Comments: []string{"header"}},
		{Comments: []string{"about web01"}, Host: "web01", Options: [][2]string{{"ProxyCommand", "/x qemu/u %p"}, {"ProxyUseFdpass", "yes"}}},
		{Comments: []string{"skipped"}},
	})
	want := "# header\n\n# about web01\nHost web01\n    ProxyCommand /x qemu/u %p\n    ProxyUseFdpass yes\n\n# skipped\n"
	if err != nil || b.String() != want {
		t.Errorf("Write = %q, %v; want %q", b.String(), err, want)
	}
}

func FuzzParseApplied(f *testing.F) {
	f.Add("debug1: /root/.ssh/config line 1: Applying options for *\n")
	f.Add("debug2: a line 9999999999999999999: Applying options for x")
	f.Add("debug1:")
	f.Fuzz(func(t *testing.T, stderr string) {
		for _, a := range ParseApplied(stderr) {
			line := fmt.Sprintf("%s line %d: Applying options for %s", a.File, a.Line, a.Pattern)
			if a.Line < 1 || a.File == "" || !strings.Contains(stderr, line) {
				t.Fatalf("ParseApplied(%q) gave %+v, which is not ssh's %q", stderr, a, line)
			}
		}
	})
}

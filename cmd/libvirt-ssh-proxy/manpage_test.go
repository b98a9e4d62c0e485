package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
)

// The manual (docs/libvirt-ssh-proxy.1, mdoc) is the one documentation
// source; --help is its summary. These tests keep the two and the code in
// step mechanically: an option, subcommand, exit code or environment
// variable added to one and not the others fails here.

const manPage = "../../docs/libvirt-ssh-proxy.1"

func readManPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// manSection returns the source lines of one .Sh section of the manual.
func manSection(t *testing.T, src, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(src, "\n.Sh "+name+"\n")
	if !ok {
		t.Fatalf("%s has no .Sh %s section", manPage, name)
	}
	sec, _, _ := strings.Cut(rest, "\n.Sh ")
	return sec
}

// usageSection returns the lines of --help from the one starting with
// header up to the next line that starts in column 0.
func usageSection(t *testing.T, header string) string {
	t.Helper()
	i := strings.Index(usage, "\n"+header)
	if i < 0 {
		t.Fatalf("--help has no %q section", header)
	}
	var lines []string
	for _, l := range strings.Split(usage[i+1:], "\n")[1:] {
		if l != "" && l[0] != ' ' {
			break
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// sourceStrings returns the string literals of the package's non-test Go
// files under dir.
func sourceStrings(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}

func set(items []string) []string {
	slices.Sort(items)
	return slices.Compact(items)
}

// sameSets reports what is in one named set and not in another, both ways.
func sameSets(t *testing.T, what string, sets map[string][]string) {
	t.Helper()
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, a := range names {
		for _, b := range names {
			for _, x := range sets[a] {
				if a != b && !slices.Contains(sets[b], x) {
					t.Errorf("%s %q is in %s but not in %s", what, x, a, b)
				}
			}
		}
	}
}

var (
	flagLiteral = regexp.MustCompile(`^--?[A-Za-z][A-Za-z0-9-]*$`)
	// An option is defined where a line of --help's Options section starts
	// with it: "  -c, --connect URI" or "      --fdpass". Options named in
	// the descriptions (ssh's -G, say) are not ours.
	usageFlag = regexp.MustCompile(`(?m)^ +(-[A-Za-z])(?:, (--[A-Za-z][A-Za-z0-9-]*))?|^ +(--[A-Za-z][A-Za-z0-9-]*)`)
	manFlag   = regexp.MustCompile(`\bFl \\?(-?[A-Za-z][A-Za-z0-9-]*)`)
)

// TestManPageOptions: every option the parser knows (each "-x"/"--xy"
// string literal in the command's code), every option --help's Options
// section defines and every option in the manual's OPTIONS section are the
// same set.
func TestManPageOptions(t *testing.T) {
	var code []string
	for _, s := range sourceStrings(t, ".") {
		if flagLiteral.MatchString(s) {
			code = append(code, s)
		}
	}
	var help, man []string
	for _, m := range usageFlag.FindAllStringSubmatch(usageSection(t, "Options"), -1) {
		for _, f := range m[1:] {
			if f != "" {
				help = append(help, f)
			}
		}
	}
	for _, m := range manFlag.FindAllStringSubmatch(manSection(t, readManPage(t), "OPTIONS"), -1) {
		if m[1] != "-" { // "Fl \-" is the "--" that ends options
			man = append(man, "-"+m[1])
		}
	}
	if len(code) < 10 {
		t.Fatalf("found only %q as options in the code: has the parser changed shape?", code)
	}
	sameSets(t, "option", map[string][]string{"the code": set(code), "--help": set(help), "the manual's OPTIONS": set(man)})
}

// TestManPageCommands: the subcommands in the commands table, in --help's
// Commands section and in the manual's COMMANDS section are the same.
func TestManPageCommands(t *testing.T) {
	var code, help, man []string
	for _, c := range commands {
		if c.name != "" {
			code = append(code, c.name)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z-]*) `).FindAllStringSubmatch(usageSection(t, "Commands:"), -1) {
		help = append(help, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^\.It Cm ([a-z][a-z-]*)`).FindAllStringSubmatch(manSection(t, readManPage(t), "COMMANDS"), -1) {
		man = append(man, m[1])
	}
	sameSets(t, "command", map[string][]string{"the commands table": set(code), "--help": set(help), "the manual's COMMANDS": set(man)})
}

// TestManPageExitCodes: the failure classes (internal/failure's constants,
// which are the exit codes) plus 0, the codes in --help's exit code table
// and the manual's EXIT STATUS list are the same.
func TestManPageExitCodes(t *testing.T) {
	code := []string{"0"}
	file, err := parser.ParseFile(token.NewFileSet(), "../../internal/failure/failure.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); ok && id.Name == "Class" && len(v.Values) == 1 {
				if lit, ok := v.Values[0].(*ast.BasicLit); ok {
					code = append(code, lit.Value)
				}
			}
		}
	}
	var help, man []string
	for _, m := range regexp.MustCompile(`(?:^|\n|\s\s)(\d+) [^\d\s]`).FindAllStringSubmatch(usageSection(t, "Exit codes:"), -1) {
		help = append(help, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^\.It (\d+)$`).FindAllStringSubmatch(manSection(t, readManPage(t), "EXIT STATUS"), -1) {
		man = append(man, m[1])
	}
	if len(code) < 14 {
		t.Fatalf("found only exit codes %q in internal/failure: has it changed shape?", code)
	}
	sameSets(t, "exit code", map[string][]string{"internal/failure": set(code), "--help": set(help), "the manual's EXIT STATUS": set(man)})
}

// TestManPageClassNames: each exit code's class name, which `resolve
// --json` prints, is the one the manual's EXIT STATUS and the README's exit
// code table give for that code.
func TestManPageClassNames(t *testing.T) {
	man := manSection(t, readManPage(t), "EXIT STATUS")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for c := failure.Internal; c <= failure.SSHConfig; c++ {
		item := regexp.MustCompile(fmt.Sprintf(`(?s)\n\.It %d\n(.*?)\n\.(It|El)\b`, int(c))).FindStringSubmatch(man)
		if item == nil || !strings.Contains(item[1], "\nClass\n.Li "+c.String()+" .") {
			t.Errorf("the manual's EXIT STATUS item %d does not name class %s: %q", int(c), c, item)
		}
		if row := fmt.Sprintf("\n| %d | `%s` | ", int(c), c); !strings.Contains(string(readme), row) {
			t.Errorf("README's exit code table lacks the row %q", row)
		}
	}
}

// TestManPageEnvironment: every environment variable the code reads by
// name (a call of a function named Getenv, getenv or LookupEnv with a string
// literal or a string constant) is in the manual's ENVIRONMENT section.
func TestManPageEnvironment(t *testing.T) {
	env := manSection(t, readManPage(t), "ENVIRONMENT")
	internal, _ := filepath.Glob("../../internal/*/*.go")
	local, _ := filepath.Glob("*.go")
	var files []*ast.File
	var names []string
	consts := map[string]string{} // string constants by name, all packages
	for _, f := range append(local, internal...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files, names = append(files, file), append(names, f)
		for _, d := range file.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, sp := range g.Specs {
					v := sp.(*ast.ValueSpec)
					for i, id := range v.Names {
						if i < len(v.Values) {
							if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[id.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		}
	}
	found := 0
	for i, file := range files {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			case *ast.Ident:
				fn = f.Name
			}
			if !strings.EqualFold(fn, "getenv") && fn != "LookupEnv" {
				return true
			}
			var v string
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				v, _ = strconv.Unquote(a.Value)
			case *ast.Ident:
				v = consts[a.Name]
			}
			if v == "" {
				return true
			}
			found++
			if !strings.Contains(env, ".It Ev "+v+"\n") {
				t.Errorf("%s reads $%s, which the manual's ENVIRONMENT section does not list", names[i], v)
			}
			return true
		})
	}
	if found < 2 {
		t.Fatalf("found %d environment variables read by name: has the code changed shape?", found)
	}
}

// TestManPageRenders formats the manual with man(1) as a user would and
// with groff -ww (every warning) and fails on any warning from groff's mdoc
// macros.
func TestManPageRenders(t *testing.T) {
	for _, bin := range []string{"man", "groff"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed; install with: apt-get install -y --no-install-recommends man-db groff-base", bin)
		}
	}
	groff := exec.Command("groff", "-ww", "-man", "-Tutf8", "-z", manPage)
	if out, err := groff.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff -ww -man -Tutf8 -z %s: %v\n%s", manPage, err, out)
	}
	cmd := exec.Command("man", "--warnings", "-l", manPage)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l %s: %v\n%s", manPage, err, stderr.String())
	}
	text := string(out)
	for _, want := range []string{"NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "GUEST SETUP",
		"libvirt-ssh-proxy — reach libvirt guests", "--connect=URI", "13   Relayed connection lost", "vsock::22"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered manual lacks %q", want)
		}
	}
}

// TestManPageHostForms: the host form prefixes in --help's HOST forms
// section and in the manual's "Host forms" list are the same, % spellings
// included.
func TestManPageHostForms(t *testing.T) {
	var help, man []string
	for _, m := range regexp.MustCompile(`\b([a-z][a-z-]*(?::[a-z]+)?[/%]%?(?:[a-z]+%)?)[A-Z]+\b`).FindAllStringSubmatch(usageSection(t, "HOST forms"), -1) {
		help = append(help, m[1])
	}
	desc := manSection(t, readManPage(t), "DESCRIPTION")
	_, forms, ok := strings.Cut(desc, "\n.Ss Host forms\n")
	if !ok {
		t.Fatal("the manual's DESCRIPTION has no .Ss Host forms")
	}
	forms, _, _ = strings.Cut(forms, "\n.El\n")
	for _, m := range regexp.MustCompile(`\bLi ([a-z][^ ]*[/%]) Ns Ar [A-Z]+`).FindAllStringSubmatch(forms, -1) {
		man = append(man, m[1])
	}
	if len(help) < 8 {
		t.Fatalf("found only host forms %q in --help: has it changed shape?", help)
	}
	sameSets(t, "host form", map[string][]string{"--help": set(help), "the manual's Host forms": set(man)})
}

// TestHelpTextPath: --help's examples name this binary's own path, which
// runs as printed, wherever it is installed.
func TestHelpTextPath(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := helpText()
	if strings.Contains(h, "@SELF@") || !strings.Contains(h, `"ProxyCommand=`+self+` --wait '%n' %p"`) {
		t.Errorf("--help's --wait example does not name %s:\n%s", self, h)
	}
}

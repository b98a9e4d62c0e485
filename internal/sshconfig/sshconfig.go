// Package sshconfig speaks OpenSSH's configuration language: it reads what
// `ssh -G` says applies to a host, reads a ProxyCommand back into the
// arguments ssh will run, finds Include lines in a config file, and writes
// Host blocks.
//
// Parsing is pure (no I/O but Effective and Includes) and fuzzed.
package sshconfig

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
)

// Config is the effective configuration `ssh -G` prints: each keyword,
// lowercased, with its values in order (keywords such as
// identityfile or sendenv may appear several times).
type Config map[string][]string

// Get returns the first value of keyword, or "" when it is absent.
func (c Config) Get(keyword string) string {
	if v := c[keyword]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Parse reads `ssh -G` output: one "keyword value" per line, hostname
// among them. A line that is not keyword and value is an error: it means ssh printed something else
// (an error message) and the output cannot be trusted.
func Parse(out string) (Config, error) {
	c := Config{}
	for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		if !ok || k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			return nil, fmt.Errorf("ssh -G output line %d is not \"keyword value\": %q", i+1, line)
		}
		// OpenSSH 9.2 prints one keyword in mixed case
		// (canonicalizePermittedcnames); keywords are case-insensitive.
		k = strings.ToLower(k)
		c[k] = append(c[k], v)
	}
	if len(c["hostname"]) == 0 {
		// ssh -G always prints it: this is no configuration.
		return nil, errors.New("ssh -G printed no hostname line")
	}
	return c, nil
}

// Applied is one Host or Match block ssh applied, from its debug output.
type Applied struct {
	File    string
	Line    int
	Pattern string
}

// String names the block as ssh's debug output does.
func (a Applied) String() string {
	return fmt.Sprintf("%s line %d (Host %s)", a.File, a.Line, a.Pattern)
}

// Result is what Effective learned: the configuration and, in order, the
// blocks that applied to the host.
type Result struct {
	Config  Config
	Applied []Applied
}

// Effective runs `ssh -G -vv HOST` (with `-F file` when file is not empty)
// and returns the configuration ssh would use for host and which blocks
// applied. ssh names the blocks it applies in its debug output.
func Effective(ctx context.Context, ssh, file, host string) (Result, error) {
	// -vv: the "Applying options" lines are debug1 in OpenSSH 9.2 and may
	// move to debug2; -T: no "Pseudo-terminal will not be allocated".
	args := []string{"-G", "-vv", "-T"}
	if file != "" {
		args = append(args, "-F", file)
	}
	args = append(args, "--", host)
	cmd := exec.CommandContext(ctx, ssh, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := lastNonDebug(stderr.String())
		if msg == "" {
			return Result{}, fmt.Errorf("run %s: %w", strings.Join(cmd.Args, " "), err)
		}
		return Result{}, fmt.Errorf("run %s: %w: %s", strings.Join(cmd.Args, " "), err, msg)
	}
	c, err := Parse(stdout.String())
	if err != nil {
		return Result{}, err
	}
	return Result{Config: c, Applied: ParseApplied(stderr.String())}, nil
}

// lastNonDebug returns ssh's last stderr line that is not a debug line: its
// error message.
func lastNonDebug(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "debug") && !strings.HasPrefix(l, "OpenSSH_") {
			return l
		}
	}
	return ""
}

// ParseApplied picks "debugN: FILE line N: Applying options for PATTERN"
// out of ssh -v output.
func ParseApplied(stderr string) []Applied {
	var out []Applied
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimRight(l, "\r")
		if len(l) < len("debug1: ") || !strings.HasPrefix(l, "debug") || l[6:8] != ": " {
			continue
		}
		rest := l[8:]
		where, pattern, ok := strings.Cut(rest, ": Applying options for ")
		if !ok {
			continue
		}
		// ssh numbers lines from 1 and prints them with %d; anything else
		// ("line  -1", "line 01", "line 3x") is not ssh's line.
		i := strings.LastIndex(where, " line ")
		if i <= 0 {
			continue
		}
		num := where[i+len(" line "):]
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || strconv.Itoa(n) != num {
			continue
		}
		out = append(out, Applied{File: where[:i], Line: n, Pattern: pattern})
	}
	return out
}

// ExpandTokens replaces ssh's %-tokens in s as ssh does for ProxyCommand
// (%% %h %n %p %r, and any others given in tokens). An unknown token is an
// error, as it is for ssh.
func ExpandTokens(s string, tokens map[byte]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends with a lone %%", s)
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tokens[s[i]]
		if !ok {
			return "", fmt.Errorf("%q has the unknown token %%%c", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// ErrShell means a command uses shell syntax beyond words and quotes
// (pipes, variables, redirections...): it cannot be read back as arguments.
var ErrShell = errors.New("uses shell syntax beyond plain words and quotes")

// SplitCommand splits a shell command line into its words, the way sh would
// for a simple command: blanks separate words, '...' and "..." quote, a
// backslash escapes. A leading "exec" is dropped (ssh itself runs
// "exec COMMAND"). Anything else the shell would interpret is ErrShell.
func SplitCommand(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("%q: unterminated '", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '$' || s[i] == '`':
					return nil, fmt.Errorf("%q %w", s, ErrShell)
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
					i++
				}
				cur.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("%q: unterminated \"", s)
			}
			inWord = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("%q ends with a lone backslash", s)
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				inWord = true
			}
		case strings.IndexByte("|&;<>()$`*?[{}", c) >= 0, !inWord && (c == '#' || c == '~'):
			return nil, fmt.Errorf("%q %w", s, ErrShell)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) > 0 && words[0] == "exec" {
		words = words[1:]
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}

// QuoteArg quotes s for a ProxyCommand: for the shell that runs it, and with
// '%' doubled so ssh's token expansion leaves it alone.
func QuoteArg(s string) string {
	// '%' is never left unquoted, so doubling it inside the quotes is all.
	return strings.ReplaceAll(shquote.Quote(s), "%", "%%")
}

// Includes returns the line numbers of the Include lines in the config file
// at path whose patterns match target. Relative patterns are taken from the
// file's directory, which for /etc/ssh/ssh_config is /etc/ssh, where ssh
// takes them from too.
func Includes(path, target string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ssh config: %w", err)
	}
	defer f.Close()
	return includes(f, filepath.Dir(path), target)
}

func includes(r io.Reader, dir, target string) ([]int, error) {
	var lines []int
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		// The keyword ends at the first space, tab or '=', as for ssh.
		i := strings.IndexAny(line, " \t=")
		if i < 0 || !strings.EqualFold(line[:i], "include") {
			continue
		}
		for _, pat := range strings.Fields(strings.TrimLeft(line[i:], " \t=")) {
			pat = strings.Trim(pat, `"`)
			if !filepath.IsAbs(pat) {
				pat = filepath.Join(dir, pat)
			}
			if ok, _ := filepath.Match(pat, target); ok {
				lines = append(lines, n)
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ssh config: %w", err)
	}
	return lines, nil
}

// Block is one Host block of an ssh_config.
type Block struct {
	Comments []string    // written as "# ..." lines before the block
	Host     string      // the pattern
	Options  [][2]string // keyword and value, in order
}

// Write writes blocks as ssh_config text, a blank line between blocks.
func Write(w io.Writer, blocks []Block) error {
	bw := bufio.NewWriter(w)
	for i, b := range blocks {
		if i > 0 {
			bw.WriteString("\n")
		}
		for _, c := range b.Comments {
			fmt.Fprintf(bw, "# %s\n", c)
		}
		if b.Host == "" {
			continue
		}
		fmt.Fprintf(bw, "Host %s\n", b.Host)
		for _, o := range b.Options {
			fmt.Fprintf(bw, "    %s %s\n", o[0], o[1])
		}
	}
	return bw.Flush()
}

// Command libvirt-ssh-proxy is an ssh ProxyCommand that reaches libvirt
// guests over AF_VSOCK: `ssh user@qemu/myvm`. It resolves the host name,
// connects to the guest and hands the connection to ssh.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/dial"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

const prog = "libvirt-ssh-proxy"

// commands maps each subcommand ("" is the ProxyCommand form) to its code.
var commands = map[string]func(*invocation) int{
	"":        proxy,
	"resolve": resolve,

	"list":       list,
	"doctor":     diagnose,
	"ssh-config": sshConfig,

	"complete-hosts": completeHosts,
	"plain-name":     plainName,
}

// system is what the command takes from the process; tests pass their own.
type system struct {
	stdin, stdout, stderr *os.File
	euid                  int
	env                   lookup.Env
	dialer                dial.Dialer
}

// invocation is one run of the command: its options, its process, and where
// its output goes.
type invocation struct {
	options
	system
	out  io.Writer // stdout, or stderr when stdout is ssh's fd channel
	host string    // the HOST argument, which every message names
	// domain is the name of the domain HOST resolved to when HOST spells
	// it otherwise (a UUID, as ssh-config's aliases do): failures name it.
	domain    string
	fdChannel bool // stdin and stdout are ssh's ProxyUseFdpass socket
}

func main() {
	home, _ := os.UserHomeDir()
	os.Exit(run(os.Args[1:], system{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		euid:   os.Geteuid(),
		env:    lookup.Env{Getenv: os.Getenv, Home: home},
	}))
}

// run parses the command line and runs the command. It returns the exit code.
func run(argv []string, sys system) int {
	o, err := parseArgs(argv)
	if err != nil {
		fmt.Fprintf(sys.stderr, "%s: %v (see %s --help)\n", prog, err, prog)
		return int(failure.Usage)
	}
	c := &invocation{options: o, system: sys, out: sys.stdout}
	// Under ProxyUseFdpass stdout is ssh's fd channel: nothing but the fd
	// may go there, so even help and version go to stderr.
	if c.fdChannel = pipe.IsFDChannel(sys.stdin, sys.stdout); c.fdChannel {
		c.out = sys.stderr
	}
	switch {
	case o.help:
		io.WriteString(c.out, helpText())
		return 0
	case o.version:
		fmt.Fprintf(c.out, "%s %s\n", prog, version)
		return 0
	}
	if len(o.args) > 0 {
		c.host = o.args[0]
	}
	return commands[o.command](c)
}

// passFD says whether to hand ssh the connection itself rather than relay:
// --fdpass or --relay decide, else whether ssh asked for it: stdin and
// stdout are one socket, and ssh is at its other end (libssh clients and
// socat EXEC: give the same shape but read the fd's byte as the banner).
func (c *invocation) passFD() bool {
	if c.fdpass || c.relay || !c.fdChannel {
		return c.fdpass
	}
	if !pipe.PeerIsSSH(c.stdin) {
		c.logf("stdin and stdout are one socket, but not ssh's: relaying")
		return false
	}
	return true
}

// clientGone reports whether the client (ssh) has closed its end of stdin,
// giving it a moment to: ssh exits by closing the helper's stdout reader
// first and its stdin writer next, so an error seen on the way out (a broken
// pipe, an inner ssh that noticed the closed pipes) is the end of the
// session rather than a failure when stdin hangs up too.
func (c *invocation) clientGone() bool {
	return pipe.HungUp(c.stdin, 100*time.Millisecond)
}

// fail reports err as the one line a failure gets and returns its exit code.
func (c *invocation) fail(err error) int {
	h := printable(c.host)
	if c.host != "" && c.domain != "" {
		h += fmt.Sprintf(" (domain %q)", c.domain)
	}
	c.say(h, err.Error())
	return int(failure.ClassOf(err))
}

// logf explains a step on stderr when -v is given.
func (c *invocation) logf(format string, args ...any) {
	if c.verbose {
		c.say(printable(c.host), fmt.Sprintf(format, args...))
	}
}

// say writes one line on stderr about who (HOST as printed), or about the
// whole command when who is empty: list and ssh-config without arguments
// have no HOST, and an empty field would read as a HOST that is "".
func (c *invocation) say(who, msg string) {
	if who == "" {
		fmt.Fprintf(c.stderr, "%s: %s\n", prog, msg)
		return
	}
	fmt.Fprintf(c.stderr, "%s: %s: %s\n", prog, who, msg)
}

// printable returns HOST as typed, or quoted when it holds control
// characters or invalid UTF-8: a hostile HOST must neither break the
// one-line message nor send escape sequences to the terminal.
func printable(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strconv.Quote(s)
}

// resolver returns the libvirt resolver the options describe.
func (c *invocation) resolver() *lookup.Resolver {
	return &lookup.Resolver{URIs: c.connectList(), Euid: c.euid, Env: c.env, Logf: c.logf}
}

// context bounds a command's lookup and connect by --timeout.
func (c *invocation) context() (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(context.Background(), c.timeout,
		fmt.Errorf("--timeout %v expired", c.timeout))
}

// target parses HOST and PORT (22 when absent) and resolves them; with
// --plain HOST is a plain name (see plainTarget).
func (c *invocation) target(ctx context.Context, r *lookup.Resolver) (lookup.Target, error) {
	port := uint32(22)
	if len(c.args) > 1 {
		var err error
		if port, err = host.ParsePort(c.args[1]); err != nil {
			return lookup.Target{}, failure.Wrap(failure.Usage, err, "bad port")
		}
	}
	if c.plain {
		return c.plainTarget(ctx, r, port)
	}
	spec, err := host.Parse(c.host)
	if err != nil {
		return lookup.Target{}, failure.Wrap(failure.Usage, err, "bad host name")
	}
	t, err := r.Resolve(ctx, spec, port)
	if t.Domain != nil && t.Domain.Name != spec.Domain {
		c.domain = t.Domain.Name
	}
	return t, err
}

// Command libvirt-ssh-proxy is an ssh ProxyCommand that reaches libvirt
// guests over AF_VSOCK: `ssh user@qemu/myvm`. It resolves the host name,
// connects to the guest and hands the connection to ssh.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/dial"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/doctor"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/printable"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

const prog = "libvirt-ssh-proxy"

// command is a subcommand ("" is the ProxyCommand form): how many
// arguments it takes, what to say when it gets another number, and its
// code.
type command struct {
	name     string
	min, max int
	usage    string
	run      func(*invocation) int
}

// commands are the subcommands. A slice, which the linker lays out: a map
// would be built at every start, on the ProxyCommand path.
var commands = []command{
	{"", 2, 2, "want HOST PORT", proxy},
	{"resolve", 1, 2, "resolve takes HOST and an optional PORT", resolve},

	{"list", 0, 0, "list takes no arguments", list},
	{"doctor", 1, 2, "doctor takes HOST and an optional PORT", diagnose},
	{"ssh-config", 0, 1 << 16, "ssh-config takes HOST names", sshConfig},

	{"complete-hosts", 0, 1, "complete-hosts takes an optional WORD", completeHosts},
	{"plain-name", 1, 2, "plain-name takes NAME and an optional SSH_HOST (ssh's %n and %h)", plainName},
}

// commandNamed returns the command named name; ok is false for none.
func commandNamed(name string) (c command, ok bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// system is what the command takes from the process; tests pass their own.
type system struct {
	stdin, stdout, stderr *os.File
	euid                  int
	env                   libvirturi.Env
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
	// parseHelper is set by run, not named in diagnose: the commands
	// table names diagnose, and parseHelper reads the table (parseArgs),
	// which would make the table's initialisation a cycle.
	parseHelper func(args []string) (doctor.Helper, error)
}

func main() {
	home, _ := os.UserHomeDir()
	os.Exit(run(os.Args[1:], system{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		euid:   os.Geteuid(),
		env:    libvirturi.Env{Getenv: os.Getenv, Home: home},
	}))
}

// run parses the command line and runs the command. It returns the exit code.
func run(argv []string, sys system) int {
	o, err := parseArgs(argv)
	c := &invocation{options: o, system: sys, out: sys.stdout, parseHelper: parseHelper}
	if err != nil {
		return c.fail(failure.New(failure.Usage, "%v", err).WithHint("see %s --help", prog))
	}
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
	c.host = c.arg(0)
	cmd, _ := commandNamed(o.command)
	return cmd.run(c)
}

// fail reports err as the one line a failure gets and returns its exit code.
func (c *invocation) fail(err error) int {
	c.say(c.who(), err.Error())
	return int(failure.ClassOf(err))
}

// exit is the exit code for a command's outcome: 0 when err is nil, else
// err's class, after its one line (fail).
func (c *invocation) exit(err error) int {
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// printed is exit once the output is written: writing it failed when err
// is not nil, an internal failure.
func (c *invocation) printed(err error) int {
	if err != nil {
		err = failure.Wrap(failure.Internal, err, "print")
	}
	return c.exit(err)
}

// who is HOST as a failure names it: with the domain's name when HOST
// spells the domain otherwise; empty without a HOST.
func (c *invocation) who() string {
	h := printable.String(c.host)
	if c.host != "" && c.domain != "" {
		h += fmt.Sprintf(" (domain %q)", c.domain)
	}
	return h
}

// logf explains a step on stderr when -v is given.
func (c *invocation) logf(format string, args ...any) {
	if c.verbose {
		c.say(printable.String(c.host), fmt.Sprintf(format, args...))
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

// road returns the road from HOST to the socket that the options describe.
func (c *invocation) road() *route.Road {
	return &route.Road{
		Resolver:     lookup.Resolver{Search: libvirturi.Search{URIs: libvirturi.ConnectList(c.connect, c.env.Getenv), Euid: c.euid, Env: c.env, Logf: c.logf}},
		Dialer:       c.dialer,
		NoIPFallback: c.noIPFallback,
		LeaseDir:     c.leaseDir,
		Plain:        c.plain,
	}
}

// context bounds a command's lookup and connect by --timeout.
func (c *invocation) context() (context.Context, context.CancelFunc) {
	return route.WithTimeout(c.timeout)
}

// port parses PORT, 22 when absent.
func (c *invocation) port() (uint32, error) { return route.Port(c.arg(1)) }

// arg is the i-th argument after the command, "" when it is not given.
func (c *invocation) arg(i int) string {
	if i < len(c.args) {
		return c.args[i]
	}
	return ""
}

// try takes r for HOST and PORT as far as reach, as --wait and --timeout
// say (route.Road.Try), and notes the domain's name.
func (c *invocation) try(r *route.Road, reach route.Reach) (target.Target, *os.File, error) {
	spec, err := r.Spec(c.host)
	if err != nil {
		return target.Target{}, nil, err
	}
	port, err := c.port()
	if err != nil {
		return target.Target{}, nil, err
	}
	t, conn, err := r.Try(c.timeout, c.wait, spec, port, reach)
	c.noteDomain(spec, t)
	return t, conn, err
}

// noteDomain remembers the domain's name when HOST spells it otherwise (a
// UUID, as ssh-config's aliases do): failures then name it.
func (c *invocation) noteDomain(spec host.Spec, t target.Target) {
	if t.Domain != nil && t.Domain.Name != spec.Domain {
		c.domain = t.Domain.Name
	}
}

// resolver is the road's libvirt side, for the commands that list.
func (c *invocation) resolver() *lookup.Resolver { return &c.road().Resolver }

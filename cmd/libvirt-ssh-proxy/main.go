// Command libvirt-ssh-proxy is an ssh ProxyCommand that reaches libvirt
// guests over AF_VSOCK: `ssh user@qemu/myvm`. It resolves the host name,
// connects to the guest and hands the connection to ssh.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/dial"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

const prog = "libvirt-ssh-proxy"

// system is what the command takes from the process; tests pass their own.
type system struct {
	stdin, stdout, stderr *os.File
	euid                  int
	env                   lookup.Env
	dialer                dial.Dialer
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

// run is the whole command: parse, resolve, dial, hand off. It returns the
// exit code.
func run(argv []string, sys system) int {
	o, err := parseArgs(argv)
	if err != nil {
		fmt.Fprintf(sys.stderr, "%s: %v (see %s --help)\n", prog, err, prog)
		return int(failure.Usage)
	}
	// Under ProxyUseFdpass stdout is ssh's fd channel: nothing but the fd
	// may go there, so even help and version go to stderr.
	fdChannel := pipe.IsFDChannel(sys.stdin, sys.stdout)
	out := io.Writer(sys.stdout)
	if fdChannel {
		out = sys.stderr
	}
	switch {
	case o.help:
		io.WriteString(out, usage)
		return 0
	case o.version:
		fmt.Fprintf(out, "%s %s\n", prog, version)
		return 0
	}
	name := o.args[0]
	fail := func(err error) int {
		fmt.Fprintf(sys.stderr, "%s: %s: %v\n", prog, name, err)
		return int(failure.ClassOf(err))
	}
	spec, err := host.Parse(name)
	if err != nil {
		return fail(failure.Wrap(failure.Usage, err, "bad host name"))
	}
	port := uint32(22)
	if len(o.args) > 1 {
		if port, err = host.ParsePort(o.args[1]); err != nil {
			return fail(failure.Wrap(failure.Usage, err, "bad port"))
		}
	}
	logf := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(sys.stderr, "%s: %s: %s\n", prog, name, fmt.Sprintf(format, args...))
		}
	}
	r := lookup.Resolver{URIs: o.connect, Euid: sys.euid, Env: sys.env, State: o.command == "resolve", Logf: logf}
	ctx, cancel := context.WithTimeoutCause(context.Background(), o.timeout,
		fmt.Errorf("--timeout %v expired", o.timeout))
	defer cancel()
	t, err := r.Resolve(ctx, spec, port)
	if err != nil {
		return fail(err)
	}
	if o.command == "resolve" {
		if err := printTarget(out, name, t, o.json); err != nil {
			return fail(failure.Wrap(failure.Internal, err, "print"))
		}
		return 0
	}
	conn, err := sys.dialer.Dial(ctx, t)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if o.fdpass || (fdChannel && !o.relay) {
		logf("passing the connection to ssh")
		if err := pipe.SendFD(sys.stdout, conn); err != nil {
			return fail(failure.Wrap(failure.HandOff, err, "pass the connection to ssh").
				WithHint("stdout must be ssh's socket: set ProxyUseFdpass yes, or use --relay"))
		}
		return 0
	}
	logf("relaying between stdio and the connection")
	// A reader that goes away must end the relay with an error, not kill
	// the process silently.
	signal.Ignore(syscall.SIGPIPE)
	if err := pipe.Relay(sys.stdin, sys.stdout, conn); err != nil {
		return fail(failure.Wrap(failure.Relay, err, "connection lost"))
	}
	return 0
}

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// defaultTimeout bounds lookup plus connect. It is longer than the kernel's
// 2 s vsock connect timeout, so a guest that is not ready yet is reported as
// such rather than as a timeout.
const defaultTimeout = 5 * time.Second

// defaultWait is what a bare --wait waits: long enough for a guest to boot
// to its sshd, short enough that a guest that never will is reported.
const defaultWait = 2 * time.Minute

// options is the parsed command line.
type options struct {
	command string   // "" (proxy) or "resolve"
	args    []string // positional arguments after the command
	connect []string
	timeout time.Duration
	wait    time.Duration // 0: one attempt, fail fast
	fdpass  bool
	relay   bool
	verbose bool
	json    bool

	// sshConfig (-F) and systemConfig are the ssh_config files doctor reads;
	// sshConfig is also the -F of the ssh a remote host form (HV/FORM) runs.
	sshConfig string
	// remoteCommand is the helper's path on the hypervisor of HV/FORM.
	remoteCommand string
	systemConfig  string

	help    bool
	version bool
	// The IP fallback: --no-ip-fallback, --lease-dir DIR.
	noIPFallback bool
	leaseDir     string
	// plain (--plain): HOST is a plain name, resolved by the opt-in
	// drop-in's rules (internal/plainname).
	plain bool
}

// parseArgs accepts options anywhere: before or after a subcommand and its
// arguments, as ssh users write them. "--" ends the options.
func parseArgs(argv []string) (options, error) {
	o := options{timeout: defaultTimeout}
	var pos []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			pos = append(pos, argv[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(argv) {
				return "", fmt.Errorf("option %s needs a value", name)
			}
			i++
			return argv[i], nil
		}
		if err := o.option(name, val, hasVal, value); err != nil {
			return o, err
		}
	}
	err := o.check(pos)
	return o, err
}

// option sets the option name from its value: val when written as
// name=val (hasVal), else what value takes (the next argument).
func (o *options) option(name, val string, hasVal bool, value func() (string, error)) error {
	flag := func(p *bool) error {
		if hasVal {
			return fmt.Errorf("option %s takes no value", name)
		}
		*p = true
		return nil
	}
	var err error
	switch name {
	case "-c", "--connect":
		var v string
		if v, err = value(); err == nil {
			if v == "" {
				err = errors.New("option --connect needs a non-empty URI")
			}
			o.connect = append(o.connect, v)
		}
	case "-t", "--timeout":
		var v string
		if v, err = value(); err == nil {
			o.timeout, err = parseDuration(name, v)
		}
	case "--wait":
		// Only --wait=D takes a value: a bare --wait is followed by HOST.
		o.wait = defaultWait
		if hasVal {
			o.wait, err = parseDuration(name, val)
		}
	case "--fdpass":
		err = flag(&o.fdpass)
	case "--relay":
		err = flag(&o.relay)
	case "-v", "--verbose":
		err = flag(&o.verbose)
	case "--json":
		err = flag(&o.json)
	case "-F", "--ssh-config":
		o.sshConfig, err = value()
	case "--system-config":
		o.systemConfig, err = value()
	case "--remote-command":
		if o.remoteCommand, err = value(); err == nil && o.remoteCommand == "" {
			err = errors.New("option --remote-command needs a non-empty path")
		}
	case "-h", "--help":
		err = flag(&o.help)
	case "-V", "--version":
		err = flag(&o.version)
	case "--plain":
		err = flag(&o.plain)
	case "--no-ip-fallback":
		err = flag(&o.noIPFallback)
	case "--lease-dir":
		if o.leaseDir, err = value(); err == nil && o.leaseDir == "" {
			err = errors.New("option --lease-dir needs a non-empty directory")
		}
	default:
		err = fmt.Errorf("unknown option %s", name)
	}
	return err
}

// check takes the positional arguments pos (the command and its
// arguments) and checks that they and the options go together.
func (o *options) check(pos []string) error {
	if o.fdpass && o.relay {
		return errors.New("--fdpass and --relay exclude each other")
	}
	// "help" is --help, as in git and go.
	if len(pos) > 0 && pos[0] == "help" {
		o.help, pos = true, pos[1:]
	}
	if len(pos) > 0 && isCommand(pos[0]) {
		o.command, pos = pos[0], pos[1:]
	}
	o.args = pos
	if o.help || o.version {
		return nil
	}
	if n, _ := arity(o.command); len(pos) < n.min || len(pos) > n.max {
		noun := "arguments"
		if len(pos) == 1 {
			noun = "argument"
		}
		return fmt.Errorf("%s (got %d %s)", n.usage, len(pos), noun)
	}
	if o.json && o.command == "" {
		return errors.New("--json goes with a command such as resolve")
	}
	// -F also serves the ProxyCommand form: the ssh a remote host runs.
	if (o.sshConfig != "" && o.command != "doctor" && o.command != "") || (o.systemConfig != "" && o.command != "doctor") {
		return errors.New("--ssh-config and --system-config go with doctor")
	}
	if o.plain && o.command != "" && o.command != "resolve" {
		return errors.New("--plain goes with the ProxyCommand form (HOST PORT) and resolve")
	}
	if o.remoteCommand != "" && o.command != "" {
		return errors.New("--remote-command goes with the ProxyCommand form (HOST PORT)")
	}
	return nil
}

// arityRule is how many positional arguments a command takes, and what to
// say when it gets another number.
type arityRule struct {
	command  string
	min, max int
	usage    string
}

// arities are the commands' arity rules. A slice, which the linker lays
// out: a map would be built at every start, on the ProxyCommand path.
var arities = []arityRule{
	{"", 2, 2, "want HOST PORT"},
	{"resolve", 1, 2, "resolve takes HOST and an optional PORT"},

	{"list", 0, 0, "list takes no arguments"},
	{"doctor", 1, 2, "doctor takes HOST and an optional PORT"},
	{"ssh-config", 0, 1 << 16, "ssh-config takes HOST names"},

	{"complete-hosts", 0, 1, "complete-hosts takes an optional WORD"},
	{"plain-name", 1, 2, "plain-name takes NAME and an optional SSH_HOST (ssh's %n and %h)"},
}

// arity returns the arity rule of the command named s; ok is false when s
// names no command.
func arity(s string) (r arityRule, ok bool) {
	for _, r := range arities {
		if r.command == s {
			return r, true
		}
	}
	return arityRule{}, false
}

// isCommand says whether s names a subcommand. It reads arities, which has
// the same names as commands: commands refers to doctor, which reads the
// helper's own command line with parseArgs, so parseArgs cannot refer to it.
func isCommand(s string) bool {
	_, ok := arity(s)
	return ok && s != ""
}

// parseDuration takes option opt's value: a Go duration ("2s", "1m30s") or
// plain seconds ("2", "0.5").
func parseDuration(opt, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != f || f > 1e6 {
			return 0, fmt.Errorf("%s %q is not a duration (2s, 500ms) or a number of seconds", opt, s)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s %q must be more than zero", opt, s)
	}
	return d, nil
}

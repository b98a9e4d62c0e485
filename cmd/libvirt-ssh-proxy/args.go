package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/cmdline"
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
	pos, err := cmdline.Scan(argv, &o, optionTable)
	if err != nil {
		return o, err
	}
	return o, o.check(pos)
}

// optionTable are the options. A slice of funcs that capture nothing,
// which the linker lays out: nothing is built at start.
var optionTable = []cmdline.Option[options]{
	{Short: "-c", Long: "--connect", Set: func(o *options, _, v string) error {
		o.connect = append(o.connect, v)
		return nonEmpty(v, "option --connect needs a non-empty URI")
	}},
	{Short: "-t", Long: "--timeout", Set: func(o *options, name, v string) (err error) {
		o.timeout, err = cmdline.Duration(name, v)
		return err
	}},
	{Long: "--wait", Set: func(o *options, name, v string) (err error) {
		o.wait, err = cmdline.Duration(name, v)
		return err
	}, Bare: func(o *options) { o.wait = defaultWait }},
	{Long: "--fdpass", Flag: func(o *options) *bool { return &o.fdpass }},
	{Long: "--relay", Flag: func(o *options) *bool { return &o.relay }},
	{Short: "-v", Long: "--verbose", Flag: func(o *options) *bool { return &o.verbose }},
	{Long: "--json", Flag: func(o *options) *bool { return &o.json }},
	{Short: "-F", Long: "--ssh-config", Set: func(o *options, _, v string) error {
		o.sshConfig = v
		return nil
	}},
	{Long: "--system-config", Set: func(o *options, _, v string) error {
		o.systemConfig = v
		return nil
	}},
	{Long: "--remote-command", Set: func(o *options, _, v string) error {
		o.remoteCommand = v
		return nonEmpty(v, "option --remote-command needs a non-empty path")
	}},
	{Short: "-h", Long: "--help", Flag: func(o *options) *bool { return &o.help }},
	{Short: "-V", Long: "--version", Flag: func(o *options) *bool { return &o.version }},
	{Long: "--plain", Flag: func(o *options) *bool { return &o.plain }},
	{Long: "--no-ip-fallback", Flag: func(o *options) *bool { return &o.noIPFallback }},
	{Long: "--lease-dir", Set: func(o *options, _, v string) error {
		o.leaseDir = v
		return nonEmpty(v, "option --lease-dir needs a non-empty directory")
	}},
}

// nonEmpty is the error msg when v, a value that must name something, is
// empty.
func nonEmpty(v, msg string) error {
	if v == "" {
		return errors.New(msg)
	}
	return nil
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
	if len(pos) > 0 && pos[0] != "" {
		if _, ok := commandNamed(pos[0]); ok {
			o.command, pos = pos[0], pos[1:]
		}
	}
	o.args = pos
	if o.help || o.version {
		return nil
	}
	if n, _ := commandNamed(o.command); len(pos) < n.min || len(pos) > n.max {
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

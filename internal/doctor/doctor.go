// Package doctor walks every step between `ssh HOST` and the guest's sshd
// and says, for each, whether it works and what to do when it does not:
// ssh's configuration, the system ssh_config's Include, the libvirt daemon,
// the domain, its vsock CID, the guest port, and fd passing.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/dial"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshconfig"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/target"
)

// Status is a check's outcome.
type Status string

// The outcomes a check can have.
const (
	OK   Status = "OK"
	Fail Status = "FAIL"
	Skip Status = "SKIP" // not run: an earlier step it needs failed
)

// Check is one line of the report.
type Check struct {
	Status Status
	// Text says what was found (OK), why the check was not run (SKIP), or
	// what failed (FAIL, then Err holds the failure with its fix).
	Text string
	Err  error
}

// String is the check's line in the report: status, what, and the
// failure with its fix.
func (c Check) String() string {
	if c.Err != nil {
		return fmt.Sprintf("%-4s  %s: %v", c.Status, c.Text, c.Err)
	}
	return fmt.Sprintf("%-4s  %s", c.Status, c.Text)
}

// Helper is what a ProxyCommand of this helper asks for, read back from
// its arguments.
type Helper struct {
	Host string   // the HOST argument after token expansion
	Port string   // the PORT argument; "" when absent
	URIs []string // its --connect URIs

	NoIPFallback bool   // --no-ip-fallback
	LeaseDir     string // --lease-dir; "" = the default
}

// DropIn is the file name `make install` gives the ssh_config drop-in in
// ssh_config.d.
const DropIn = "30-libvirt-ssh-proxy.conf"

// DefaultSystemConfig is where OpenSSH reads the system-wide ssh_config.
const DefaultSystemConfig = "/etc/ssh/ssh_config"

// Doctor is one diagnosis of HOST.
type Doctor struct {
	Host string // as the user gives it to ssh
	Port string // the guest port; "" = the one ssh would use
	// SSHG returns what `ssh -G HOST` says (sshconfig.Effective).
	SSHG func(ctx context.Context, host string) (sshconfig.Result, error)
	// SystemConfig is the system-wide ssh_config to check for the Include
	// of ssh_config.d; "" means DefaultSystemConfig.
	SystemConfig string
	// ParseHelper reads a ProxyCommand's words (after the program) as this
	// helper's command line; it fails for anything but the ProxyCommand
	// form.
	ParseHelper func(args []string) (Helper, error)
	// Resolver looks the domain up. Its URIs are replaced by the
	// ProxyCommand's --connect URIs when it names some, as the helper
	// that ssh runs would search those.
	Resolver *lookup.Resolver
	Dialer   dial.Dialer
	// Addresses lists the IP fallback's candidates for a domain, reading
	// lease files in leaseDir ("" = the default), as the helper would
	// (lookup.Resolver.Addresses); nil when the fallback is off. doctor
	// lists them and dials none.
	Addresses func(ctx context.Context, t target.Target, leaseDir string) target.Target
	// Self is this program's path: a ProxyCommand running it is the
	// helper's even under another name.
	Self string
}

// Run performs every check in order and returns one Check per step. The
// first failing check's class is the exit code (see Failed).
func (d *Doctor) Run(ctx context.Context) []Check {
	var out []Check
	add := func(c Check) { out = append(out, c) }

	cfg, routed, helper := d.checkSSH(ctx, add)
	d.checkSystemConfig(routed, add)

	target := Helper{Host: d.Host, Port: d.Port, URIs: d.Resolver.URIs}
	if routed {
		target.Host = helper.Host
		if len(helper.URIs) > 0 {
			target.URIs = helper.URIs
		}
		if target.Port == "" {
			target.Port = helper.Port
		}
		target.NoIPFallback, target.LeaseDir = helper.NoIPFallback, helper.LeaseDir
	}
	if target.Port == "" {
		target.Port = cfg.Get("port")
	}
	if target.Port == "" {
		target.Port = "22"
	}
	t, err := d.checkTarget(ctx, target, add)
	if err == nil {
		err = d.checkPort(ctx, t, add)
	} else {
		add(Check{Status: Skip, Text: "guest port accepts a connection: no target to connect to"})
	}
	d.checkFallback(ctx, target, t, err, add)
	d.checkFdpass(cfg, routed, add)
	return out
}

// Failed returns the first failing check's error, or nil when all passed.
func Failed(checks []Check) error {
	for _, c := range checks {
		if c.Status == Fail {
			return c.Err
		}
	}
	return nil
}

// checkSSH asks ssh which ProxyCommand applies to the host and whether it
// is this helper's. It returns the configuration, whether ssh runs the
// helper for the host, and what that helper is asked for.
func (d *Doctor) checkSSH(ctx context.Context, add func(Check)) (sshconfig.Config, bool, Helper) {
	what := fmt.Sprintf("ssh -G %s", d.Host)
	res, err := d.SSHG(ctx, d.Host)
	if err != nil {
		add(Check{Status: Fail, Text: what, Err: failure.Wrap(failure.SSHConfig, err, "ssh cannot read its configuration").
			WithHint("fix the file ssh names, or pass another with -F FILE")})
		return sshconfig.Config{}, false, Helper{}
	}
	cfg := res.Config
	pc, jump := cfg.Get("proxycommand"), cfg.Get("proxyjump")
	shadow := fmt.Sprintf("blocks applied, in order: %s; ssh takes the first value it reads, so put `Include /etc/ssh/ssh_config.d/%s` before them in ~/.ssh/config, or narrow them (Host * !qemu* !vsock* !unix*)",
		applied(res.Applied), DropIn)
	switch {
	case (pc == "" || pc == "none") && jump != "" && jump != "none":
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.SSHConfig, "ProxyJump %s applies to %s, so ssh does not run the helper", jump, d.Host).WithHint("%s", shadow)})
		return cfg, false, Helper{}
	case pc == "" || pc == "none":
		hint := fmt.Sprintf("install the drop-in (make install puts it in /etc/ssh/ssh_config.d/%s) and check the Include line below", DropIn)
		if _, err := host.Parse(d.Host); err != nil {
			hint = "HOST is none of the helper's forms (qemu/NAME, vsock/CID, vsock-mux/PATH, unix/PATH) and no Host block names it; `libvirt-ssh-proxy ssh-config` writes aliases"
		}
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.SSHConfig, "no ProxyCommand applies to %s", d.Host).WithHint("%s", hint)})
		return cfg, false, Helper{}
	}
	h, prog, err := d.readProxyCommand(pc, cfg)
	switch {
	case errors.Is(err, errNotOurs):
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.SSHConfig, "ProxyCommand %q applies to %s, not the helper's", pc, d.Host).WithHint("%s", shadow)})
		return cfg, false, Helper{}
	case err != nil:
		add(Check{Status: Fail, Text: what, Err: failure.Wrap(failure.SSHConfig, err, "cannot read the ProxyCommand %q", pc).
			WithHint("write it as the drop-in does: PATH/libvirt-ssh-proxy '%%n' %%p")})
		return cfg, false, Helper{}
	}
	if st, err := os.Stat(prog); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.SSHConfig, "the ProxyCommand runs %s, which is not an executable file", prog).
			WithHint("install the helper there (make install), or fix the path in the drop-in")})
		return cfg, false, Helper{}
	}
	if strings.Contains(pc, "%h") && strings.ToLower(d.Host) != d.Host {
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.SSHConfig, "the ProxyCommand passes %%h, which ssh lowercases: %s becomes %s", d.Host, strings.ToLower(d.Host)).
			WithHint("pass '%%n', the name as typed, as the drop-in does")})
		return cfg, false, Helper{}
	}
	add(Check{Status: OK, Text: fmt.Sprintf("%s: ssh runs the helper: ProxyCommand %s", what, pc)})
	return cfg, true, h
}

var errNotOurs = errors.New("not this helper")

// readProxyCommand expands ssh's tokens in the ProxyCommand pc, as ssh
// does before handing it to the shell, and reads it back as this helper's
// command line. It returns the helper's request and the program path.
func (d *Doctor) readProxyCommand(pc string, cfg sshconfig.Config) (Helper, string, error) {
	expanded, err := sshconfig.ExpandTokens(pc, map[byte]string{
		'n': d.Host, 'h': cfg.Get("hostname"), 'p': cfg.Get("port"), 'r': cfg.Get("user"),
		'k': cfg.Get("hostkeyalias"),
	})
	if err != nil {
		return Helper{}, "", err
	}
	words, err := sshconfig.SplitCommand(expanded)
	if err != nil {
		if strings.Contains(pc, "libvirt-ssh-proxy") {
			return Helper{}, "", err
		}
		return Helper{}, "", errNotOurs
	}
	if !d.isHelper(words[0]) {
		return Helper{}, "", errNotOurs
	}
	h, err := d.ParseHelper(words[1:])
	return h, words[0], err
}

// isHelper says whether prog is this helper: by its name, or because it
// is this very program.
func (d *Doctor) isHelper(prog string) bool {
	if filepath.Base(prog) == "libvirt-ssh-proxy" {
		return true
	}
	a, err1 := os.Stat(prog)
	b, err2 := os.Stat(d.Self)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func applied(a []sshconfig.Applied) string {
	if len(a) == 0 {
		return "none"
	}
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}

// checkSystemConfig checks that the system ssh_config includes
// ssh_config.d and that the drop-in is there. Either missing fails only
// when ssh does not run the helper anyway (an alias block, or -F with its
// own Include).
func (d *Doctor) checkSystemConfig(routed bool, add func(Check)) {
	sys := d.SystemConfig
	if sys == "" {
		sys = DefaultSystemConfig
	}
	dropIn := filepath.Join(filepath.Dir(sys), "ssh_config.d", DropIn)
	what := fmt.Sprintf("%s includes %s", sys, filepath.Join(filepath.Dir(sys), "ssh_config.d", "*.conf"))
	lines, err := sshconfig.Includes(sys, dropIn)
	_, missing := os.Stat(dropIn)
	switch {
	case err == nil && len(lines) > 0 && (missing == nil || routed):
		add(Check{Status: OK, Text: fmt.Sprintf("%s (line %d)", what, lines[0])})
		return
	case err == nil && len(lines) > 0:
		add(Check{Status: Fail, Text: fmt.Sprintf("%s (line %d)", what, lines[0]), Err: failure.New(failure.SSHConfig, "but %s is not there", dropIn).
			WithHint("install it: make install, or config/%s with @BINDIR@ set to the helper's directory", DropIn)})
		return
	case routed:
		add(Check{Status: OK, Text: what + ": it does not, but ssh runs the helper for this host anyway"})
		return
	}
	if err == nil {
		err = failure.New(failure.SSHConfig, "no Include line there matches %s", dropIn)
	}
	add(Check{Status: Fail, Text: what, Err: failure.Wrap(failure.SSHConfig, err, "the drop-in is not read").
		WithHint("add `Include %s` as the first line of %s (upstream OpenSSH's stock file has no such line)",
			filepath.Join(filepath.Dir(sys), "ssh_config.d", "*.conf"), sys)})
}

// checkTarget resolves the host the helper is asked for, one line per
// step the lookup passed, and the failing step with its fix. On failure
// the target still names the domain when the lookup found it (for the IP
// fallback).
func (d *Doctor) checkTarget(ctx context.Context, h Helper, add func(Check)) (target.Target, error) {
	steps := []string{"libvirt daemon answers", "domain exists", "domain is running", "domain has a vsock device with a CID"}
	skipRest := func(from int, why string) {
		for _, s := range steps[from:] {
			add(Check{Status: Skip, Text: s + ": " + why})
		}
	}
	spec, err := host.Parse(h.Host)
	if err != nil {
		err = failure.Wrap(failure.Usage, err, "bad host name")
		add(Check{Status: Fail, Text: fmt.Sprintf("host name %q", h.Host), Err: err})
		skipRest(0, "no host to look up")
		return target.Target{}, err
	}
	port, err := host.ParsePort(h.Port)
	if err != nil {
		err = failure.Wrap(failure.Usage, err, "bad port")
		add(Check{Status: Fail, Text: "guest port", Err: err})
		skipRest(0, "no port to connect to")
		return target.Target{}, err
	}
	if spec.Kind != host.Domain {
		skipRest(0, h.Host+" names no libvirt domain")
		return d.Resolver.Resolve(ctx, spec, port)
	}
	r := *d.Resolver
	r.URIs = h.URIs
	t, err := r.Resolve(ctx, spec, port)
	// How far the lookup got, by the class of its failure: the steps
	// before it passed.
	reached := map[failure.Class]int{failure.Unreachable: 0, failure.Timeout: 0, failure.NotFound: 1, failure.NotRunning: 2, failure.NoVsock: 3, failure.NoCID: 3}
	n, known := reached[failure.ClassOf(err)]
	if err == nil {
		n = len(steps)
	} else if !known {
		n = 0
	}
	// A failed lookup returns no domain: its error names it instead.
	found, running, cid := h.Host, "yes", ""
	if t.Domain != nil {
		found = fmt.Sprintf("%q on %s (uuid %s)", t.Domain.Name, t.Domain.URI, t.Domain.UUID)
		running = fmt.Sprintf("%s (id %d)", t.Domain.State, t.Domain.ID)
		cid = fmt.Sprintf("CID %d", t.CID)
	}
	passed := []string{d.answered(r, t, spec.Scope), found, running, cid}
	for i := range n {
		add(Check{Status: OK, Text: steps[i] + ": " + passed[i]})
	}
	if err == nil {
		return t, nil
	}
	add(Check{Status: Fail, Text: steps[n], Err: err})
	skipRest(n+1, "the step before failed")
	return t, err
}

// answered says which daemon answered, for the OK line.
func (d *Doctor) answered(r lookup.Resolver, t target.Target, scope host.Scope) string {
	uri := ""
	if t.Domain != nil {
		uri = t.Domain.URI
	}
	if uri == "" {
		uris, _ := r.SearchURIs(scope) // the lookup that reached them expanded them
		return "reached (" + strings.Join(uris, ", ") + ")"
	}
	if sock, _ := r.Socket(uri); sock != "" {
		return fmt.Sprintf("%s on %s", uri, sock)
	}
	return uri
}

// checkPort connects to the guest port and closes the connection at once.
func (d *Doctor) checkPort(ctx context.Context, t target.Target, add func(Check)) error {
	what := "guest port accepts a connection"
	conn, err := d.Dialer.Dial(ctx, t)
	if err != nil {
		add(Check{Status: Fail, Text: what, Err: err})
		return err
	}
	conn.Close()
	switch t.Network {
	case target.Unix:
		add(Check{Status: OK, Text: fmt.Sprintf("%s: %s", what, t.Path)})
	case target.Mux:
		// A multiplexer's guest has no CID of its own on this host.
		add(Check{Status: OK, Text: fmt.Sprintf("%s: vsock port %d through %s", what, t.Port, t.Path)})
	default:
		add(Check{Status: OK, Text: fmt.Sprintf("%s: vsock CID %d port %d", what, t.CID, t.Port)})
	}
	return nil
}

// checkFallback lists, without dialing any, the IP addresses the helper
// falls back to when vsock failed the way that makes it fall back (see the
// command's ipFallback): no vsock device, no CID, nothing listening. ssh may
// work then, but vsock does not, so the exit code stays vsock's.
func (d *Doctor) checkFallback(ctx context.Context, h Helper, t target.Target, err error, add func(Check)) {
	switch c := failure.ClassOf(err); {
	case err == nil || t.Domain == nil || d.Addresses == nil || h.NoIPFallback:
		return
	case c != failure.NoVsock && c != failure.NoCID && c != failure.NotListening:
		return
	}
	what := fmt.Sprintf("IP fallback to port %d (listed, not dialed)", t.Port)
	tcp := d.Addresses(ctx, t, h.LeaseDir)
	if len(tcp.Addrs) == 0 {
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.ClassOf(err), "found no IP address for %q", t.Domain.Name).
			WithHint("libvirt's lease, agent and arp sources and the dnsmasq lease files have none; run the helper with -v to see where it looked")})
		return
	}
	addrs := make([]string, len(tcp.Addrs))
	for i, a := range tcp.Addrs {
		addrs[i] = a.String()
	}
	add(Check{Status: OK, Text: fmt.Sprintf("%s: the helper tries %s", what, strings.Join(addrs, ", "))})
}

// checkFdpass checks that ssh asks the helper for the connected socket.
func (d *Doctor) checkFdpass(cfg sshconfig.Config, routed bool, add func(Check)) {
	what := "fd passing (ProxyUseFdpass)"
	switch {
	case !routed:
		add(Check{Status: Skip, Text: what + ": ssh does not run the helper"})
	case cfg.Get("proxyusefdpass") == "yes":
		add(Check{Status: OK, Text: what + ": yes"})
	default:
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.HandOff, "ProxyUseFdpass is %q for %s", cfg.Get("proxyusefdpass"), d.Host).
			WithHint("add ProxyUseFdpass yes beside the ProxyCommand: without it the helper stays between ssh and the guest, copying every byte")})
	}
}

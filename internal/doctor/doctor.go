// Package doctor walks every step between `ssh HOST` and the guest's sshd
// and says, for each, whether it works and what to do when it does not:
// ssh's configuration, the system ssh_config's Include, the libvirt daemon,
// the domain, its vsock CID, the guest port, and fd passing.
package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/plainname"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/route"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
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
	// Plain (--plain): Host is a plain name, resolved by the plain-names
	// rules (internal/plainname) before the road.
	Plain bool
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
	// Road is the helper's road from the host to the guest, which doctor
	// takes as far as a vsock connect (route.Probe), telling each step.
	// Its URIs are replaced by the ProxyCommand's --connect URIs when it
	// names some, as the helper that ssh runs would search those; its IP
	// fallback is off when either command line turns it off, and the
	// fallback's candidates are listed, never dialed.
	Road route.Road
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

	target := Helper{Host: d.Host, Port: d.Port, URIs: d.Road.URIs}
	if routed {
		target.Host = helper.Host
		if len(helper.URIs) > 0 {
			target.URIs = helper.URIs
		}
		if target.Port == "" {
			target.Port = helper.Port
		}
		target.NoIPFallback, target.LeaseDir, target.Plain = helper.NoIPFallback, helper.LeaseDir, helper.Plain
	} else if _, err := host.Parse(d.Host); err != nil {
		// No form of the helper's: say what the plain-names rules make of
		// it, which is what ssh would do with them turned on.
		target.Plain = true
	}
	if target.Port == "" {
		target.Port = cfg.Get("port")
	}
	if target.Port == "" {
		target.Port = "22"
	}
	d.checkRoad(ctx, target, cfg.Get("hostname"), add)
	d.checkFdpass(cfg, routed, target.Plain, add)
	return out
}

// Failed is the report's verdict: nil when no check failed, else a
// failure of the first failing check's class (the exit code) that counts
// the failures and names the first, without its hint, which the report
// printed.
func Failed(checks []Check) error {
	var first error
	failed := 0
	for _, c := range checks {
		if c.Status != Fail {
			continue
		}
		if failed == 0 {
			first = c.Err
		}
		failed++
	}
	if first == nil {
		return nil
	}
	return failure.Wrap(failure.ClassOf(first), nil, "%d of %d checks failed; the first: %s", failed, len(checks), firstLine(first))
}

// firstLine is err's message without its hint.
func firstLine(err error) string {
	if fe := (*failure.Error)(nil); errors.As(err, &fe) {
		return fe.Message()
	}
	return err.Error()
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
			hint = "HOST is none of the helper's forms (qemu/NAME, vsock/CID, vsock-mux/PATH, unix/PATH) and no Host block names it; `libvirt-ssh-proxy ssh-config` writes aliases, " +
				d.plainNamesHint()
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
	sys := d.systemConfig()
	dropIn := filepath.Join(d.sshConfigD(), DropIn)
	what := fmt.Sprintf("%s includes %s", sys, filepath.Join(d.sshConfigD(), "*.conf"))
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
			filepath.Join(d.sshConfigD(), "*.conf"), sys)})
}

// sshConfigD is the ssh_config.d beside the system ssh_config doctor
// checks, where the drop-ins go.
func (d *Doctor) sshConfigD() string {
	return filepath.Join(filepath.Dir(d.systemConfig()), "ssh_config.d")
}

// systemConfig is the system ssh_config doctor checks.
func (d *Doctor) systemConfig() string {
	return cmp.Or(d.SystemConfig, DefaultSystemConfig)
}

// lookupSteps are the lookup's lines, in the order the lookup passes them.
var lookupSteps = []string{"libvirt daemon answers", "domain exists", "domain is running", "domain has a vsock device with a CID"}

// noPort is the port line when there is no target to connect to.
var noPort = Check{Status: Skip, Text: "guest port accepts a connection: no target to connect to"}

// checkRoad goes the road the helper is asked for (h) as far as a vsock
// connect, and reports each step the road tells: which plain-names rule
// matched a plain name (sshHost is ssh's %h for it), one line per step the
// lookup passed and the failing step with its fix, the guest port, and
// the IP fallback's candidates.
func (d *Doctor) checkRoad(ctx context.Context, h Helper, sshHost string, add func(Check)) {
	spec, err := (&route.Road{Plain: h.Plain}).Spec(h.Host)
	if err != nil {
		add(Check{Status: Fail, Text: fmt.Sprintf("host name %q", h.Host), Err: err})
		skipSteps(0, "no host to look up", add)
		add(noPort)
		return
	}
	port, err := route.Port(h.Port)
	if err != nil {
		add(Check{Status: Fail, Text: "guest port", Err: err})
		skipSteps(0, "no port to connect to", add)
		add(noPort)
		return
	}
	r := d.road(h, spec)
	obs := route.Observer{
		Resolved: func(t target.Target, err error) {
			if spec.Kind != host.Domain {
				skipSteps(0, h.Host+" names no libvirt domain", add)
			} else {
				d.reportLookup(r, t, err, spec.Scope, h.Host, add)
			}
			if err != nil {
				add(noPort)
			}
		},
		Dialed:     func(t target.Target, err error) { add(portCheck(t, err)) },
		Candidates: func(tcp target.Target, vsockErr error) { add(fallbackCheck(tcp, vsockErr)) },
	}
	if !h.Plain {
		r.Go(ctx, spec, port, route.Probe, obs)
		return
	}
	// The plain-names rules make the lookup, as for the helper (--plain),
	// and the road goes on from their answer.
	m, err := checkPlain(ctx, r, h.Host, sshHost, port, add)
	if m.Rule == 0 {
		skipSteps(0, "no domain to look up", add)
		add(noPort)
		return
	}
	spec = m.Spec
	r.From(ctx, m.Target, err, route.Probe, obs)
}

// checkPlain reports which plain-names rule matches name (sshHost is
// ssh's %h for it), or why none does, and returns the match with the
// lookup's error, for the road to go on from.
func checkPlain(ctx context.Context, r route.Road, name, sshHost string, port uint32, add func(Check)) (plainname.Match, error) {
	what := "plain name " + name
	m, err := plainname.Rules{Resolver: &r.Resolver, LeaseDir: r.LeaseDir}.Check(ctx, name, sshHost, port)
	if m.Rule == 0 {
		add(Check{Status: Fail, Text: what + ": no rule matches", Err: err})
		return m, err
	}
	add(Check{Status: OK, Text: fmt.Sprintf("%s: the %s rule: domain %q on %s", what, m.Rule, m.Target.Domain.Name, m.Target.Domain.URI)})
	return m, err
}

// plainNamesHint is the end of the hint for a plain name ssh does not run
// the helper for: how to turn the plain-names drop-in on (the link to
// make, from where this helper's prefix installs it when it is there), or,
// when the link is there, that the plain-name line says why no rule takes
// the name. A link that dangles (ln -s takes any target: the package's path
// after make install, or a file uninstalled since) ssh skips without a
// word, so it is named with the command that points it at the file.
func (d *Doctor) plainNamesHint() string {
	conf := filepath.Join(filepath.Dir(filepath.Dir(d.Self)), "share", "libvirt-ssh-proxy", "plain-names.conf")
	if _, err := os.Stat(conf); d.Self == "" || err != nil {
		conf = "PREFIX/share/libvirt-ssh-proxy/plain-names.conf"
	}
	link := filepath.Join(d.sshConfigD(), PlainDropIn)
	const man = " (man libvirt-ssh-proxy, Plain names)"
	to, err := os.Readlink(link)
	switch _, serr := os.Stat(link); {
	case err == nil && serr != nil:
		return fmt.Sprintf("or turn plain names on: %s links to %s, which does not exist, so ssh skips it: ln -sfn %s",
			shquote.Quote(link), shquote.Quote(to), shquote.Join(conf, link)) + man
	case serr == nil:
		return "plain names are on (" + shquote.Quote(link) + "): the plain name line below says why none of their rules takes it"
	}
	return "or turn plain names on: ln -s " + shquote.Join(conf, link) + man
}

// PlainDropIn is the name the plain-names drop-in is linked under in
// ssh_config.d to turn it on.
const PlainDropIn = "90-libvirt-ssh-proxy-plain-names.conf"

// road is the road the helper asked for h takes for spec: the
// ProxyCommand's URIs for a domain, its fallback settings over doctor's.
func (d *Doctor) road(h Helper, spec host.Spec) route.Road {
	r := d.Road
	if spec.Kind == host.Domain {
		r.URIs = h.URIs
	}
	r.NoIPFallback = r.NoIPFallback || h.NoIPFallback
	r.LeaseDir = cmp.Or(h.LeaseDir, r.LeaseDir)
	return r
}

func skipSteps(from int, why string, add func(Check)) {
	for _, s := range lookupSteps[from:] {
		add(Check{Status: Skip, Text: s + ": " + why})
	}
}

// reportLookup reports how far the lookup of a domain got, by the class of
// its failure: the steps before it passed.
func (d *Doctor) reportLookup(r route.Road, t target.Target, err error, scope host.Scope, name string, add func(Check)) {
	reached := map[failure.Class]int{failure.Unreachable: 0, failure.Timeout: 0, failure.NotFound: 1, failure.NotRunning: 2, failure.NoVsock: 3, failure.NoCID: 3}
	n, known := reached[failure.ClassOf(err)]
	if err == nil {
		n = len(lookupSteps)
	} else if !known {
		n = 0
	}
	// A failed lookup returns no domain: its error names it instead.
	found, running, cid := name, "yes", ""
	if t.Domain != nil {
		found = fmt.Sprintf("%q on %s (uuid %s)", t.Domain.Name, t.Domain.URI, t.Domain.UUID)
		running = fmt.Sprintf("%s (id %d)", t.Domain.State, t.Domain.ID)
		cid = fmt.Sprintf("CID %d", t.CID)
	}
	passed := []string{answered(r.Search, t, scope), found, running, cid}
	for i := range n {
		add(Check{Status: OK, Text: lookupSteps[i] + ": " + passed[i]})
	}
	if err == nil {
		return
	}
	add(Check{Status: Fail, Text: lookupSteps[n], Err: err})
	skipSteps(n+1, "the step before failed", add)
}

// answered says which daemon answered, for the OK line.
func answered(r libvirturi.Search, t target.Target, scope host.Scope) string {
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

// portCheck is the guest port's line: the connect's answer.
func portCheck(t target.Target, err error) Check {
	what := "guest port accepts a connection"
	if err != nil {
		return Check{Status: Fail, Text: what, Err: err}
	}
	switch t.Network {
	case target.Unix:
		return Check{Status: OK, Text: fmt.Sprintf("%s: %s", what, t.Path)}
	case target.Mux:
		// A multiplexer's guest has no CID of its own on this host.
		return Check{Status: OK, Text: fmt.Sprintf("%s: vsock port %d through %s", what, t.Port, t.Path)}
	}
	return Check{Status: OK, Text: fmt.Sprintf("%s: vsock CID %d port %d", what, t.CID, t.Port)}
}

// fallbackCheck is the IP fallback's line, when the road falls back after
// vsockErr (route.Road.FallsBack): the addresses the helper would try,
// listed, not dialed. ssh may work then, but vsock does not, so a failure
// keeps vsock's exit code.
func fallbackCheck(tcp target.Target, vsockErr error) Check {
	what := fmt.Sprintf("IP fallback to port %d (listed, not dialed)", tcp.Port)
	if len(tcp.Addrs) == 0 {
		return Check{Status: Fail, Text: what, Err: failure.New(failure.ClassOf(vsockErr), "found no IP address for %q", tcp.Domain.Name).
			WithHint("libvirt's lease, agent and arp sources and the dnsmasq lease files have none; run the helper with -v to see where it looked")}
	}
	addrs := make([]string, len(tcp.Addrs))
	for i, a := range tcp.Addrs {
		addrs[i] = a.String()
	}
	return Check{Status: OK, Text: fmt.Sprintf("%s: the helper tries %s", what, strings.Join(addrs, ", "))}
}

// checkFdpass checks that ssh asks the helper for the connected socket;
// for a plain name (plain) relaying is the plain-names drop-in's design.
func (d *Doctor) checkFdpass(cfg sshconfig.Config, routed, plain bool, add func(Check)) {
	what := "fd passing (ProxyUseFdpass)"
	switch {
	case !routed:
		add(Check{Status: Skip, Text: what + ": ssh does not run the helper"})
	case cfg.Get("proxyusefdpass") == "yes":
		add(Check{Status: OK, Text: what + ": yes"})
	case plain:
		add(Check{Status: OK, Text: what + ": no, the helper relays: the plain-names drop-in sets none, as ssh would apply it to a ProxyCommand of yours for the name too"})
	default:
		add(Check{Status: Fail, Text: what, Err: failure.New(failure.HandOff, "ProxyUseFdpass is %q for %s", cfg.Get("proxyusefdpass"), d.Host).
			WithHint("add ProxyUseFdpass yes beside the ProxyCommand: without it the helper stays between ssh and the guest, copying every byte")})
	}
}

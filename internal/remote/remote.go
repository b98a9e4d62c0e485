// Package remote reaches a guest on another hypervisor: it runs the
// system's ssh to that host, with the helper there on the same host form
// (--relay), and hands the ssh session to the client: the inner ssh's end
// of a socketpair when the client takes an fd, else the client's own
// stdin and stdout, with ssh's hang-up passed on.
package remote

import (
	"cmp"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/verbose"
)

// Hop is one ssh to a hypervisor that runs the helper there: for HV/FORM,
// or for a --connect URI on another host (libvirturi.Hop).
type Hop struct {
	HV   string   // the ssh destination
	SSH  []string // ssh's options for it: -oUser=USER, -oPort=PORT
	Form []string // the helper's arguments there before PORT: [--connect URI] HOST
}

// ForSpec is the hop of HV/FORM: ssh HV, the helper there on FORM.
func ForSpec(spec host.Spec) Hop {
	return Hop{HV: spec.Hypervisor, Form: []string{spec.Inner}}
}

// ForURI is the hop of a domain whose search list is a daemon on another
// host: ssh there as the URI says, the helper there on the same daemon
// (--connect, which wins over whatever that host's environment says) and
// the same domain.
func ForURI(h libvirturi.Hop, domain string) Hop {
	var ssh []string
	if h.User != "" {
		ssh = append(ssh, "-oUser="+h.User)
	}
	if h.Port != "" {
		ssh = append(ssh, "-oPort="+h.Port)
	}
	return Hop{HV: h.Host, SSH: ssh, Form: []string{"--connect", h.URI, "qemu/" + domain}}
}

// Argv is the ssh command line that runs the helper on h's hypervisor:
// ssh [-F FILE] [-oUser=USER] [-oPort=PORT] -oRequestTTY=no -- HV HELPER
// --relay FORM... PORT. sshd hands the command words to the remote user's
// shell joined by spaces, so each is shell-quoted. helper is the helper's
// path there (--remote-command); "" is this binary's path (defaultHelper).
func Argv(sshConfig, helper string, h Hop, port string) []string {
	helper = cmp.Or(helper, defaultHelper())
	argv := []string{"ssh"}
	if sshConfig != "" {
		argv = append(argv, "-F", sshConfig)
	}
	argv = append(argv, h.SSH...)
	argv = append(argv, "-oRequestTTY=no", "--", h.HV)
	for _, w := range append(append([]string{helper, "--relay"}, h.Form...), port) {
		argv = append(argv, shquote.Quote(w))
	}
	return argv
}

// defaultHelper is the helper's path on a hypervisor when --remote-command
// names none: this binary's own path, as hypervisors usually share the
// install layout.
func defaultHelper() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "/usr/libexec/libvirt-ssh-proxy"
}

// Session is one run of ssh to a hypervisor on behalf of the client.
type Session struct {
	Stdin, Stdout, Stderr *os.File
	// FD hands the client an fd (pipe.WantFD); else the inner ssh reads
	// and writes the client's stdin and stdout.
	FD bool
	// Logf, when set, is told each step (-v).
	Logf verbose.Logf
}

// Run runs argv (Argv), whose destination is hv. Under fd passing the ssh
// runs on its own with one end of a socketpair as stdin and stdout, the
// other end goes to the client, and Run returns; the inner ssh ends when
// the client closes its end. Otherwise Run waits for it. It returns nil for
// every clean end of a session.
func (s *Session) Run(hv string, argv []string) error {
	sshPath, err := exec.LookPath(argv[0])
	if err != nil {
		return failure.Wrap(failure.Usage, err, "reach hypervisor %s", hv).
			WithHint("install the OpenSSH client (ssh) on this machine")
	}
	cmd := exec.Command(sshPath, argv[1:]...)
	cmd.Stderr = s.Stderr // the hypervisor's errors reach the user
	s.Logf.Printf("running %s", shquote.Join(argv...))
	if s.FD {
		return s.passSession(cmd, hv)
	}
	return s.relaySession(cmd, hv)
}

// passSession starts cmd on one end of a socketpair and passes the other
// end to the client.
func (s *Session) passSession(cmd *exec.Cmd, hv string) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return failure.Wrap(failure.HandOff, err, "socketpair")
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ssh"), os.NewFile(uintptr(fds[1]), "ssh-inner")
	defer ours.Close()
	cmd.Stdin, cmd.Stdout = theirs, theirs
	// Its own session: the terminal's signals are not for it; it ends
	// when our ssh closes its end of the socketpair.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		return failure.Wrap(failure.Internal, err, "run ssh %s", hv)
	}
	// Not waited for: it outlives us and is reparented.
	cmd.Process.Release()
	s.Logf.Printf("passing the ssh session to %s to ssh", hv)
	return pipe.SendFDToSSH(s.Stdout, ours)
}

// relaySession runs cmd on the client's stdin and stdout until it ends.
func (s *Session) relaySession(cmd *exec.Cmd, hv string) error {
	cmd.Stdin, cmd.Stdout = s.Stdin, s.Stdout
	// ssh ends its ProxyCommand with SIGHUP; pass that (and SIGTERM) on so
	// that no inner ssh is left behind. The handler goes in before the
	// inner ssh starts: a signal in between would otherwise end us and
	// leave it running. SIGPIPE is left alone: an ignored signal stays
	// ignored across exec, and the inner ssh, not we, writes to stdout.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return failure.Wrap(failure.Internal, err, "run ssh %s", hv)
	}
	done := make(chan struct{})
	var hup atomic.Bool
	go func() {
		for {
			select {
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					hup.Store(true)
				}
				cmd.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if err == nil {
		return nil
	}
	// Our ssh ends the session by hanging up (SIGHUP, closed pipes), which
	// ends the inner ssh with a signal or, when it noticed the closed pipes
	// first, with exit 255: neither is a failure anyone needs to hear of.
	if hup.Load() || pipe.ClientGone(s.Stdin) {
		s.Logf.Printf("ssh hung up: %v", err)
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return failure.New(failure.Relay, "ssh to hypervisor %s: %v", hv, ee)
	}
	return failure.Wrap(failure.Relay, err, "ssh to hypervisor %s", hv)
}

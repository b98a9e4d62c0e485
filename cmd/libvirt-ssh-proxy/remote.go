package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/pipe"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
	"golang.org/x/sys/unix"
)

// hop is one ssh to a hypervisor that runs the helper there: for HV/FORM,
// or for a --connect URI on another host (libvirturi.Hop).
type hop struct {
	hv   string   // the ssh destination
	ssh  []string // ssh's options for it: -l USER, -p PORT
	form []string // the helper's arguments there before PORT: [--connect URI] HOST
}

// hvHop is the hop of HV/FORM: ssh HV, the helper there on FORM.
func hvHop(spec host.Spec) hop {
	return hop{hv: spec.Hypervisor, form: []string{spec.Inner}}
}

// uriHop is the hop of a domain spec whose search list is a daemon on
// another host: ssh there as the URI says, the helper there on the same
// daemon (--connect, which wins over whatever that host's environment
// says) and the same domain.
func uriHop(h *libvirturi.Hop, spec host.Spec) hop {
	var ssh []string
	if h.User != "" {
		ssh = append(ssh, "-oUser="+h.User)
	}
	if h.Port != "" {
		ssh = append(ssh, "-oPort="+h.Port)
	}
	return hop{hv: h.Host, ssh: ssh, form: []string{"--connect", h.URI, "qemu/" + spec.Domain}}
}

// remoteArgv is the ssh command line that runs the helper on h's
// hypervisor: ssh [-F FILE] [-oUser=USER] [-oPort=PORT] -oRequestTTY=no -- HV
// HELPER --relay FORM... PORT. sshd hands the command words to the remote
// user's shell joined by spaces, so each is shell-quoted.
func remoteArgv(sshConfig, remoteCommand string, h hop, port string) []string {
	argv := []string{"ssh"}
	if sshConfig != "" {
		argv = append(argv, "-F", sshConfig)
	}
	argv = append(argv, h.ssh...)
	argv = append(argv, "-oRequestTTY=no", "--", h.hv)
	for _, w := range append(append([]string{remoteCommand, "--relay"}, h.form...), port) {
		argv = append(argv, shquote.Quote(w))
	}
	return argv
}

// defaultRemoteCommand is the helper's path on a hypervisor: this binary's
// own path, as hypervisors usually share the install layout.
func defaultRemoteCommand() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "/usr/libexec/" + prog
}

// remote is the ProxyCommand form for HV/FORM, or a URI on another host: ssh
// to the hypervisor and run the helper there on FORM, relaying (--relay) over the ssh session. Under fd passing
// the ssh runs on its own with one end of a socketpair as stdin and stdout,
// the other end goes to our ssh, and the helper exits; the inner ssh ends
// when our ssh closes its end. Otherwise the helper waits for it.
func remote(c *invocation, h hop) int {
	port := "22"
	if len(c.args) > 1 {
		if _, err := host.ParsePort(c.args[1]); err != nil {
			return c.fail(failure.Wrap(failure.Usage, err, "bad port"))
		}
		port = c.args[1]
	}
	rc := c.remoteCommand
	if rc == "" {
		rc = defaultRemoteCommand()
	}
	argv := remoteArgv(c.sshConfig, rc, h, port)
	sshPath, err := exec.LookPath(argv[0])
	if err != nil {
		return c.fail(failure.Wrap(failure.Usage, err, "reach hypervisor %s", h.hv).
			WithHint("install the OpenSSH client (ssh) on this machine"))
	}
	cmd := exec.Command(sshPath, argv[1:]...)
	cmd.Stderr = c.stderr // the hypervisor's errors reach the user
	c.logf("running %s", strings.Join(argv, " "))

	if c.passFD() {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return c.fail(failure.Wrap(failure.HandOff, err, "socketpair"))
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
			return c.fail(failure.Wrap(failure.Internal, err, "run ssh %s", h.hv))
		}
		// Not waited for: it outlives us and is reparented.
		cmd.Process.Release()
		c.logf("passing the ssh session to %s to ssh", h.hv)
		if err := pipe.SendFD(c.stdout, ours); err != nil {
			return c.fail(failure.Wrap(failure.HandOff, err, "pass the connection to ssh").
				WithHint("stdout must be ssh's socket: set ProxyUseFdpass yes, or use --relay"))
		}
		return 0
	}

	cmd.Stdin, cmd.Stdout = c.stdin, c.stdout
	// ssh ends its ProxyCommand with SIGHUP; pass that (and SIGTERM) on so
	// that no inner ssh is left behind. The handler goes in before the
	// inner ssh starts: a signal in between would otherwise end us and
	// leave it running. SIGPIPE is left alone: an ignored signal stays
	// ignored across exec, and the inner ssh, not we, writes to stdout.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "run ssh %s", h.hv))
	}
	done := make(chan struct{})
	var hup atomic.Bool
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGHUP {
					hup.Store(true)
				}
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	if err == nil {
		return 0
	}
	// Our ssh ends the session by hanging up (SIGHUP, closed pipes), which
	// ends the inner ssh with a signal or, when it noticed the closed pipes
	// first, with exit 255: neither is a failure anyone needs to hear of.
	if hup.Load() || c.clientGone() {
		c.logf("ssh hung up: %v", err)
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return c.fail(failure.New(failure.Relay, "ssh to hypervisor %s: %v", h.hv, ee))
	}
	return c.fail(failure.Wrap(failure.Relay, err, "ssh to hypervisor %s", h.hv))
}

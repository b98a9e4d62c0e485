package main

import (
	"os"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
)

// usage is --help's text; helpText puts this binary's path for @SELF@.
const usage = `usage: libvirt-ssh-proxy [options] HOST PORT
       libvirt-ssh-proxy resolve [options] HOST [PORT]
       libvirt-ssh-proxy list [-c URI]... [--json]
       libvirt-ssh-proxy doctor [-F FILE] [--system-config FILE] HOST [PORT]
       libvirt-ssh-proxy ssh-config [-c URI]... [HOST...]
       libvirt-ssh-proxy complete-hosts [options] [WORD]
       libvirt-ssh-proxy plain-name [options] NAME [SSH_HOST]
       libvirt-ssh-proxy help | --help

An ssh ProxyCommand that reaches libvirt guests over AF_VSOCK. The ssh_config
drop-in runs it for you: ssh user@qemu/myvm. Manual: man libvirt-ssh-proxy.

HOST forms ('%' spellings are for scp and rsync, which read "a/b:path" as a local path):
  qemu/NAME          qemu:///system, then qemu:///session (root: system only)
  qemu:system/NAME   qemu:///system only        (also qemu%system%NAME)
  qemu:session/NAME  qemu:///session only       (also qemu%session%NAME)
  qemu%NAME          same as qemu/NAME
  vsock/CID          vsock CID directly         (also vsock%CID)
  unix/PATH          a unix socket; PATH is taken from / unless it starts
                     with / or ./                (also unix%PATH)
  unix%%P%A%T%H      for scp and rsync: the absolute path with % for every
                     /, e.g. unix%%run%fc%vm1.vsock is /run/fc/vm1.vsock
  vsock-mux/PATH     hybrid vsock (Firecracker, Cloud Hypervisor,
                     vhost-device-vsock): the VMM's socket, then
                     "CONNECT PORT"; PATH as for unix/ (also vsock-mux%PATH,
                     vsock-mux%%P%A%T%H)
  HV/FORM            any form above on hypervisor HV (a host name or ssh
                     Host alias): ssh HV runs the helper there with --relay
                     FORM (also HV%FORM, e.g. hv1%qemu%web01)
NAME is tried as a domain name, then a UUID, then a numeric ID.
PORT is the guest's vsock port (ssh's %p; 22 by default for resolve).

IP fallback: when the domain has no vsock device (or no CID), or nothing
listens on its vsock port, the helper connects over TCP to the same port on
the domain's IP addresses: libvirt's lease, agent and arp sources, then the
dnsmasq lease files. -v says which address and source; resolve lists them.

Commands:
  (none)             connect and hand the connection to ssh
  resolve            print what HOST resolves to; connect to nothing
  list               every domain on the searched URIs: state, vsock CID and
                     the host name that reaches it with ssh (and scp/rsync)
  doctor             check each step from ssh HOST to the guest's sshd, one
                     OK/FAIL line each with the fix; exit code of the first FAIL
  ssh-config         Host blocks for ~/.ssh/config: a short alias per running
                     domain with a vsock CID (or per HOST given)
  complete-hosts     print qemu host names of running domains starting with
                     WORD, for shell completion
  plain-name         the opt-in plain-names drop-in's check: exit 0 when ssh
                     should hand NAME (%n) to the helper: a running domain's
                     name or UUID, else one guest's DHCP hostname, and
                     SSH_HOST (%h) shows no HostName of the user's; else 1,
                     silently (-v says why)

Options (before or after the command and its arguments):
  -c, --connect URI  search this libvirt URI instead of the defaults; repeat
                     to search several in order; every qemu form then searches
                     exactly these (e.g. qemu:///system,
                     test+unix:///path/host.xml?socket=/path/libvirt-sock)
                     URI may be an alias from uri_aliases in libvirt.conf;
                     a URI with a host (qemu+ssh://[USER@]HV[:PORT]/system,
                     +tcp, +tls, ...) must be the only one: the ProxyCommand
                     form runs ssh HV and the helper there (as HV/FORM),
                     other commands refuse it (exit 2)
  -t, --timeout D    bound lookup and connect (Go duration or seconds; default 5s);
                     with --wait, each attempt; several URIs each get an
                     even share of the time left
      --wait[=D]     retry while the guest boots (not found, shut off or
                     shutting down, nothing listening, not ready, no
                     socket/CID yet) with backoff up to D (default 2m); a
                     domain paused by a person, crashed or pmsuspended
                     fails at once; -v shows each retry
      --fdpass       pass the connection to ssh (ProxyUseFdpass yes)
      --relay        relay stdin/stdout to the connection
                     (default: fd passing when stdin/stdout is one socket
                     and ssh is at its other end)
  -v, --verbose      explain each step on stderr
      --plain        HOST is a plain name (ProxyCommand form, resolve): a
                     domain's name or UUID, else one guest's DHCP hostname
      --no-ip-fallback
                     never fall back to the domain's IP addresses
      --lease-dir DIR
                     the dnsmasq lease files the fallback reads
                     (default /var/lib/libvirt/dnsmasq)
      --json         resolve, list: print JSON
  -F, --ssh-config FILE   doctor: the ssh_config ssh -G reads (ssh's -F);
                     HV/FORM, a URI with a host: the -F of the ssh to HV
      --remote-command PATH
                     HV/FORM: the helper's path on HV (default: this
                     binary's own path)
      --system-config FILE
                     doctor: the system ssh_config that must include
                     ssh_config.d (default /etc/ssh/ssh_config)
  -V, --version      print the version
  -h, --help         print this help

Environment:
  LIBVIRT_SSH_PROXY_CONNECT  URIs or aliases, space- or comma-separated, for
                     the qemu forms when no --connect is given
  Aliases come from /etc/libvirt/libvirt.conf (root) or
  $XDG_CONFIG_HOME/libvirt/libvirt.conf (~/.config/...), read only when a
  --connect entry can be an alias. LIBVIRT_DEFAULT_URI and uri_default are
  not used: qemu/ keeps its meaning (system, then session).

Examples:
  libvirt-ssh-proxy resolve -c hv1 qemu/web01          (hv1: an alias)
  LIBVIRT_SSH_PROXY_CONNECT=qemu:///session ssh qemu/dev
  ssh -o "ProxyCommand=@SELF@ --wait '%n' %p" qemu/vm
  ssh user@vsock-mux/run/firecracker/vm1.vsock
  ssh alice@hv1/qemu/web01     scp f alice@hv1%qemu%web01:/tmp/

Exit codes:
   0 ok                         8 nothing listening on the port
   1 internal error             9 --timeout expired
   2 usage                     10 guest not ready (vsock timed out)
   3 libvirt unreachable       11 no such VM/CID or socket
   4 domain not found          12 fd hand-off to ssh failed
   5 domain not running        13 relayed connection lost
   6 no vsock device           14 ssh's configuration does not run the
   7 vsock without a CID          helper (doctor)
plain-name: 0 when NAME matches, 1 when not, 2 usage.
`

// helpText is usage with this binary's own path in its examples, so that
// they run as printed wherever it is installed.
func helpText() string {
	self, err := os.Executable()
	if err != nil {
		self = prog
	}
	return strings.ReplaceAll(usage, "@SELF@", shquote.Quote(self))
}

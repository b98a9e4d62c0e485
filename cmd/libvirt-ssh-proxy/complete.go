package main

import (
	"fmt"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

// hostForm is a spelling of the qemu host prefix and the scope it searches.
type hostForm struct {
	prefix string
	scope  host.Scope
}

// hostForms are the qemu spellings, in the order a partly typed prefix
// picks them: "" and "qemu" get the default qemu/, "qemu:s" qemu:system/.
var hostForms = []hostForm{
	{"qemu/", host.Any},
	{"qemu%", host.Any},
	{"qemu:system/", host.System},
	{"qemu:session/", host.Session},
	{"qemu%system%", host.System},
	{"qemu%session%", host.Session},
}

// completeHosts prints the qemu host names of running domains that start
// with WORD, one a line, for shell completion. WORD may carry "user@"; its
// spelling (qemu/, qemu%, qemu:system/, ...) is kept, and without one the
// names come as qemu/NAME. It asks libvirt only when WORD can still become
// a qemu host name.
func completeHosts(c *invocation) int {
	word := ""
	if len(c.args) > 0 {
		word = c.args[0]
	}
	at := strings.LastIndex(word, "@") + 1
	user, typed := word[:at], word[at:]
	forms := formsOf(typed)
	if len(forms) == 0 {
		return 0
	}
	ctx, cancel := c.context()
	defer cancel()
	var b strings.Builder
	for _, form := range forms {
		listed, err := c.resolver().Running(ctx, form.scope)
		if err != nil {
			return c.fail(err)
		}
		names, errs := lookup.RunningNames(listed)
		for _, err := range errs {
			c.logf("%v", err)
		}
		if len(errs) > 0 && len(errs) == len(listed) {
			return c.fail(errs[0])
		}
		for _, h := range candidates(user, typed, form, names) {
			b.WriteString(h + "\n")
		}
	}
	if _, err := fmt.Fprint(c.out, b.String()); err != nil {
		return c.fail(failure.Wrap(failure.Internal, err, "print"))
	}
	return 0
}

// candidates spells each name in form, after user, keeping those that start
// with what was typed and that can be completed.
func candidates(user, typed string, form hostForm, names []string) []string {
	var out []string
	for _, n := range names {
		if h := form.prefix + n; completable(n, form) && strings.HasPrefix(h, typed) {
			out = append(out, user+h)
		}
	}
	return out
}

// formsOf returns the spellings to complete typed in: the one typed starts
// with (the longest, so that "qemu%system%" wins over "qemu%"), and, when
// typed goes on past it or starts with none, the first one that typed is
// the start of ("qemu%s": qemu% for a domain "sales", and qemu%system%).
// None when typed can no longer become a qemu host name.
func formsOf(typed string) []hostForm {
	best := -1
	for i, f := range hostForms {
		if strings.HasPrefix(typed, f.prefix) && (best < 0 || len(f.prefix) > len(hostForms[best].prefix)) {
			best = i
		}
	}
	var forms []hostForm
	if best >= 0 {
		forms = append(forms, hostForms[best])
		if len(typed) == len(hostForms[best].prefix) {
			return forms
		}
	}
	for _, f := range hostForms {
		if strings.HasPrefix(f.prefix, typed) {
			return append(forms, f)
		}
	}
	return forms
}

// completable says whether a domain name can be offered in that spelling:
// not when ssh refuses the host name (sshname.Refused), nor when a shell
// would expand or split the completed word, nor with ':' in a '%' spelling
// (scp and rsync split the host at the first ':'). Such domains are still
// reachable by UUID or ID.
func completable(name string, f hostForm) bool {
	if sshname.Refused(f.prefix+name) != nil || strings.ContainsAny(name, "[]*?!#~=") {
		return false
	}
	return !strings.Contains(f.prefix, "%") || !strings.Contains(name, ":")
}

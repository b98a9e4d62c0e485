package main

import (
	"fmt"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

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
	forms := sshname.FormsOf(typed)
	if len(forms) == 0 {
		return 0
	}
	ctx, cancel := c.context()
	defer cancel()
	var b strings.Builder
	for _, form := range forms {
		listed, err := c.resolver().Running(ctx, form.Scope)
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
		for _, h := range sshname.Candidates(user, typed, form, names) {
			b.WriteString(h + "\n")
		}
	}
	_, err := fmt.Fprint(c.out, b.String())
	return c.printed(err)
}

package main

import (
	"fmt"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/sshname"
)

// completeHosts prints the qemu host names of running domains that start
// with WORD, one a line, for shell completion (sshname.Complete).
func completeHosts(c *invocation) int {
	ctx, cancel := c.context()
	defer cancel()
	hosts, err := sshname.Complete(ctx, c.resolver(), c.arg(0))
	if err != nil {
		return c.fail(err)
	}
	var b strings.Builder
	for _, h := range hosts {
		b.WriteString(h + "\n")
	}
	_, err = fmt.Fprint(c.out, b.String())
	return c.printed(err)
}

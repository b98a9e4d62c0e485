package main

import "strings"

// connectEnv names the environment's --connect: URIs or URI aliases,
// separated by spaces or commas, used when no --connect is given.
const connectEnv = "LIBVIRT_SSH_PROXY_CONNECT"

// connectList returns the URIs every qemu form searches instead of the
// defaults: --connect's, else LIBVIRT_SSH_PROXY_CONNECT's, else none.
// --connect wins whole, so one command line never mixes the two lists.
func (c *invocation) connectList() []string {
	if len(c.connect) > 0 {
		return c.connect
	}
	return strings.FieldsFunc(c.env.Getenv(connectEnv), func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}

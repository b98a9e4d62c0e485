package libvirturi

import "strings"

// ConnectEnv names the environment's --connect: URIs or URI aliases,
// separated by spaces or commas, used when no --connect is given.
const ConnectEnv = "LIBVIRT_SSH_PROXY_CONNECT"

// ConnectList returns the URIs every qemu form searches instead of the
// defaults: --connect's (flags), else LIBVIRT_SSH_PROXY_CONNECT's, else
// none. --connect wins whole, so one command line never mixes the two
// lists.
func ConnectList(flags []string, getenv func(string) string) []string {
	if len(flags) > 0 {
		return flags
	}
	return strings.FieldsFunc(getenv(ConnectEnv), func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}

package main

import (
	_ "embed"
	"os"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/shquote"
)

// usage is --help's text; helpText puts this binary's path for @SELF@.
//
//go:embed usage.txt
var usage string

// helpText is usage with this binary's own path in its examples, so that
// they run as printed wherever it is installed.
func helpText() string {
	self, err := os.Executable()
	if err != nil {
		self = prog
	}
	return strings.ReplaceAll(usage, "@SELF@", shquote.Quote(self))
}

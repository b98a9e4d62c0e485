//go:build linux

package main

import "golang.org/x/sys/unix"

const (
	auditArch     = unix.AUDIT_ARCH_AARCH64
	hasX32        = false
	x32SyscallBit = 0
)

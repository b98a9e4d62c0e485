//go:build linux

package main

import "golang.org/x/sys/unix"

const (
	auditArch     = unix.AUDIT_ARCH_X86_64
	hasX32        = true
	x32SyscallBit = 0x40000000 // __X32_SYSCALL_BIT
)

package main

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"qemu/web01", "qemu/web01"},
		{"qemu/a*b?c[d]!e#f~g", "qemu/a*b?c[d]!e#f~g"},
		{"qemu/日本語", "qemu/日本語"},
		{"qemu/a\nb", `"qemu/a\nb"`},
		{"qemu/\x1b[2J", `"qemu/\x1b[2J"`},
		{"qemu/\u009b2J", `"qemu/\u009b2J"`}, // C1 CSI
		{"qemu/\xff", `"qemu/\xff"`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

package printable

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
		{"qemu/a\u202eb", `"qemu/a\u202eb"`}, // bidi override
		{"qemu/a\u00a0b", `"qemu/a\u00a0b"`}, // no-break space
		{"qemu/a\u200bb", `"qemu/a\u200bb"`}, // zero-width space
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

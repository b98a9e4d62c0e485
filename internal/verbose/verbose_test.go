package verbose

import (
	"fmt"
	"testing"
)

// TestPrintf: a Logf is told the step as given; a nil one (no -v) is
// not called, and Printf on it does not panic.
func TestPrintf(t *testing.T) {
	var got []string
	tests := []struct {
		name string
		l    Logf
		want []string
	}{
		{"nil", nil, nil},
		{"set", func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) }, []string{"listing qemu:///system: 3"}},
	}
	for _, tt := range tests {
		got = nil
		tt.l.Printf("listing %s: %d", "qemu:///system", 3)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: told %q, want %q", tt.name, got, tt.want)
		}
	}
}

package failure

import (
	"errors"
	"strings"
	"testing"
)

// TestClassString: every class has its own name, one word scripts can
// match (resolve --json's "class"); an unknown class says its number.
func TestClassString(t *testing.T) {
	seen := map[string]Class{}
	for c := Internal; c <= SSHConfig; c++ {
		n := c.String()
		if n == "" || strings.ContainsAny(n, " \t") || strings.HasPrefix(n, "class ") {
			t.Errorf("class %d is named %q", int(c), n)
		}
		if o, ok := seen[n]; ok {
			t.Errorf("classes %d and %d are both named %q", int(o), int(c), n)
		}
		seen[n] = c
	}
	if got := Class(99).String(); got != "class 99" {
		t.Errorf("Class(99) = %q, want %q", got, "class 99")
	}
}

// TestMessage: the line is the message, the cause and the hint; Message
// is the same without the hint.
func TestMessage(t *testing.T) {
	tests := []struct {
		err       *Error
		line, msg string
	}{
		{New(NotFound, "no domain %q", "web01"), `no domain "web01"`, `no domain "web01"`},
		{New(NotFound, "no domain").WithHint("virsh list --all"), "no domain (virsh list --all)", "no domain"},
		{Wrap(Unreachable, errors.New("refused"), "connect").WithHint("start it"), "connect: refused (start it)", "connect: refused"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.line {
			t.Errorf("Error() = %q, want %q", got, tt.line)
		}
		if got := tt.err.Message(); got != tt.msg {
			t.Errorf("Message() = %q, want %q", got, tt.msg)
		}
	}
}

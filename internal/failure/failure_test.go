package failure

import (
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

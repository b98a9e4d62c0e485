// Package verbose is -v's explanations: the Logf each step of the road is
// handed, which says nothing when the command runs without -v (nil), so
// that no step has to ask.
package verbose

// Logf explains a step on stderr (-v); nil explains nothing.
type Logf func(format string, args ...any)

// Printf explains a step through l, when there is one.
func (l Logf) Printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}

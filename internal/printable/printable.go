// Package printable is the one rule for what the helper prints of others'
// text (HOST, a domain's name): as typed when a terminal shows it as
// itself, else quoted.
package printable

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s (HOST, a name) as typed, or quoted with Go's escapes
// when it holds invalid UTF-8 or a rune a terminal does not show as itself:
// control characters, format characters such as a bidi override, blanks
// other than ' '. A hostile name must neither break the one-line message
// or a table row, nor send escape sequences, nor reorder what is shown.
// list's cells add blanks (listing).
func String(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	return strconv.Quote(s)
}

// Package shquote quotes words for a POSIX shell: the one quoting the
// project uses wherever it prints or builds a command line (hints, ssh
// remote commands, ssh_config ProxyCommands).
package shquote

import "strings"

// safe are the bytes a word may hold and still need no quotes: none of
// them is special to a POSIX shell anywhere in a word ('=' is left out,
// since a first word holding it is an assignment).
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@+,"

// Quote returns s as one shell word: unchanged when it is non-empty and
// holds only safe bytes, else in single quotes, with each ' in it
// written as quote, backslash, quote, quote.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces: a command line to
// copy and paste.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

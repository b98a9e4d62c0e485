// Package libvirtconf reads libvirt's client configuration, libvirt.conf:
// where it lives, its syntax (libvirt's virconf: `key = "string"`,
// `key = 42`, `key = [ "a", "b" ]` over several lines, `#` comments), and
// the one setting the helper takes from it, uri_aliases, with libvirt's own
// rules. uri_default is not used: qemu/ keeps its meaning (--help).
package libvirtconf

import (
	"fmt"
	"strconv"
)

// Kind is the type of a Value.
type Kind int

// The kinds of value libvirt's syntax has.
const (
	String Kind = iota + 1
	Number
	List
)

// String names the kind as messages use it: "a string", "a list".
func (k Kind) String() string {
	switch k {
	case String:
		return "a string"
	case Number:
		return "a number"
	case List:
		return "a list"
	}
	return "nothing"
}

// Value is one parsed value and the line it starts on.
type Value struct {
	Kind Kind
	Str  string  // String
	Num  int64   // Number
	List []Value // List
	Line int
}

// File is a parsed configuration file.
type File struct {
	Name    string // for messages
	entries []entry
}

type entry struct {
	key string
	val Value
}

// Get returns the value of key. Like libvirt, the first assignment wins
// when a key is assigned twice.
func (f *File) Get(key string) (Value, bool) {
	for _, e := range f.entries {
		if e.key == key {
			return e.val, true
		}
	}
	return Value{}, false
}

// SyntaxError is a line of the file that libvirt's syntax does not allow.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

// Error reads "FILE:LINE: what is wrong", as libvirt's own messages do.
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// maxDepth bounds list nesting: libvirt has no use for nested lists, and
// unbounded recursion on hostile input would exhaust the stack.
const maxDepth = 16

// Parse parses data, the content of the file called name. It accepts what
// libvirt's parser accepts, except that a file of blank lines is fine and
// numbers must fit in 64 bits; every other input is a *SyntaxError naming
// name and the line.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{name: name, data: data, line: 1}
	f := &File{Name: name}
	for {
		p.skipSpace(true)
		if p.eof() {
			return f, nil
		}
		if p.cur() == '#' {
			p.skipComment()
			continue
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.skipSpace(false)
		if p.eof() || p.cur() != '=' {
			return nil, p.errorf("expecting '=' after %q", key)
		}
		p.pos++
		v, err := p.value(0)
		if err != nil {
			return nil, err
		}
		p.skipSpace(false)
		if !p.eof() && p.cur() == '#' {
			p.skipComment()
		}
		switch {
		case p.eof(), p.cur() == '\n', p.cur() == '\r':
		case p.cur() == ';':
			p.pos++
		default:
			return nil, p.errorf("expecting a new line or ';' after the value of %q, found %q", key, p.cur())
		}
		f.entries = append(f.entries, entry{key, v})
	}
}

type parser struct {
	name string
	data []byte
	pos  int
	line int
}

func (p *parser) eof() bool { return p.pos >= len(p.data) }
func (p *parser) cur() byte { return p.data[p.pos] }

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{File: p.name, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// skipSpace skips blanks and, with newlines, line ends too.
func (p *parser) skipSpace(newlines bool) {
	for !p.eof() {
		switch c := p.cur(); {
		case c == ' ' || c == '\t':
		case newlines && c == '\r':
		case newlines && c == '\n':
			p.line++
		default:
			return
		}
		p.pos++
	}
}

// skipComment skips from '#' to the end of the line, leaving the newline.
func (p *parser) skipComment() {
	for !p.eof() && p.cur() != '\n' && p.cur() != '\r' {
		p.pos++
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// key reads a setting's name: a letter, then letters, digits and '_'.
func (p *parser) key() (string, error) {
	start := p.pos
	if !isLetter(p.cur()) {
		return "", p.errorf("expecting a setting name, found %q", p.cur())
	}
	for !p.eof() && (isLetter(p.cur()) || isDigit(p.cur()) || p.cur() == '_') {
		p.pos++
	}
	return string(p.data[start:p.pos]), nil
}

func (p *parser) value(depth int) (Value, error) {
	p.skipSpace(false)
	v := Value{Line: p.line}
	if p.eof() {
		return v, p.errorf("expecting a value")
	}
	switch c := p.cur(); {
	case c == '"' || c == '\'':
		s, err := p.str()
		v.Kind, v.Str = String, s
		return v, err
	case c == '[':
		if depth >= maxDepth {
			return v, p.errorf("lists nested more than %d deep", maxDepth)
		}
		l, err := p.list(depth)
		v.Kind, v.List = List, l
		return v, err
	case isDigit(c) || c == '-' || c == '+':
		n, err := p.number()
		v.Kind, v.Num = Number, n
		return v, err
	default:
		return v, p.errorf(`expecting a value ("string", number or [ list ]), found %q`, c)
	}
}

// str reads '...' or "..." (one line, no escapes) or """...""" (any lines).
func (p *parser) str() (string, error) {
	q := p.cur()
	if q == '"' && p.pos+3 <= len(p.data) && string(p.data[p.pos:p.pos+3]) == `"""` {
		line := p.line
		p.pos += 3
		start := p.pos
		for p.pos+3 <= len(p.data) {
			if string(p.data[p.pos:p.pos+3]) == `"""` {
				s := string(p.data[start:p.pos])
				p.pos += 3
				return s, nil
			}
			if p.cur() == '\n' {
				p.line++
			}
			p.pos++
		}
		return "", &SyntaxError{File: p.name, Line: line, Msg: `unterminated """ string`}
	}
	p.pos++
	start := p.pos
	for !p.eof() && p.cur() != q && p.cur() != '\n' && p.cur() != '\r' {
		p.pos++
	}
	if p.eof() || p.cur() != q {
		return "", p.errorf("unterminated string (it must close on the line it opens)")
	}
	s := string(p.data[start:p.pos])
	p.pos++
	return s, nil
}

func (p *parser) number() (int64, error) {
	start := p.pos
	if c := p.cur(); c == '-' || c == '+' {
		p.pos++
	}
	digits := p.pos
	for !p.eof() && isDigit(p.cur()) {
		p.pos++
	}
	if p.pos == digits {
		return 0, p.errorf("a sign without digits")
	}
	n, err := strconv.ParseInt(string(p.data[start:p.pos]), 10, 64)
	if err != nil {
		return 0, p.errorf("number %s does not fit in 64 bits", p.data[start:p.pos])
	}
	return n, nil
}

// list reads [ v, v, ... ] with line breaks anywhere between items and an
// optional trailing comma. libvirt allows no comments inside a list.
func (p *parser) list(depth int) ([]Value, error) {
	line := p.line
	p.pos++ // '['
	var items []Value
	afterValue := false
	for {
		p.skipSpace(true)
		switch {
		case p.eof():
			return nil, &SyntaxError{File: p.name, Line: line, Msg: "list is not closed with ]"}
		case p.cur() == ']': // at the start, after a value, or after a trailing comma
			p.pos++
			return items, nil
		case afterValue && p.cur() != ',':
			return nil, p.errorf("expecting ',' or ']' in the list, found %q", p.cur())
		case afterValue:
			p.pos++
			afterValue = false
			continue
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		afterValue = true
	}
}

// Package domainxml reads the two things the helper needs from a libvirt
// domain XML, its vsock CID and its MAC addresses, with a purpose-built
// scanner (see below). It does no I/O.
package domainxml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The domain XML is read by a purpose-built scanner rather than a general
// XML library: on the ProxyCommand path the live XML of the domain is
// parsed once, and a DOM parser (etree on encoding/xml) took about 0.5 ms
// for a 5 KB QEMU domain where this takes 0.04 ms (BenchmarkCIDFromXML),
// and linked encoding/xml and its initialisation. It reads the whole document and accepts a subset of
// XML that holds everything libvirt writes: elements, attributes, text,
// comments, CDATA, the five predefined entities and character references,
// ASCII names with at most one prefix. It refuses what encoding/xml (in its
// strict mode, which etree used) refuses, and, to stay simple, some things
// it accepts but libvirt never writes: processing instructions (the XML
// declaration included), DOCTYPE, duplicate attributes, non-ASCII names,
// nesting deeper than maxXMLDepth. Paths match local names, whatever the
// prefix, as etree's paths did. FuzzDomainXMLAgainstEtree holds it to
// that: whatever it accepts, etree accepted with the same answer.

// maxXMLDepth bounds element nesting; libvirt's domain XML stays under 10.
const maxXMLDepth = 256

// xmlAttr is one attribute of a start tag, its value with entities decoded
// and line ends normalised as XML says.
type xmlAttr struct {
	name, value string // name as written, prefix included
}

// local is the name without its prefix.
func local(name string) string {
	if _, l, ok := strings.Cut(name, ":"); ok {
		return l
	}
	return name
}

// attr returns the value of the first attribute whose local name is l.
func attr(attrs []xmlAttr, l string) (string, bool) {
	for _, a := range attrs {
		if local(a.name) == l {
			return a.value, true
		}
	}
	return "", false
}

// elemVisit is told each start tag: the local names from the top-level
// element down to this one, a number per element on that path (unique in
// the document, so that two siblings of one name tell apart), and its
// attributes. The slices are reused for the next call.
type elemVisit func(path []string, ids []int, attrs []xmlAttr)

// scanXML checks that doc is XML of the subset described above and calls
// visit for each start tag in document order.
//
// It is one loop with a case per kind of markup, longer than the project's
// usual function, on purpose: the cases share the position, the stack of
// open elements and the path slices, which split into functions would be
// passed around for every tag on the ProxyCommand path (BenchmarkCIDFromXML).
func scanXML(doc string, visit elemVisit) error {
	if !utf8.ValidString(doc) {
		return errors.New("invalid UTF-8")
	}
	var (
		path  []string // raw names of the open elements
		names []string // their local names
		ids   []int
		attrs []xmlAttr
		next  int
	)
	for i := 0; i < len(doc); {
		lt := strings.IndexByte(doc[i:], '<')
		if lt < 0 {
			lt = len(doc) - i
		}
		if _, err := xmlText(doc[i:i+lt], true); err != nil {
			return err
		}
		i += lt
		if i == len(doc) {
			break
		}
		rest := doc[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return errors.New("unterminated comment")
			}
			if body := rest[4 : 4+end]; strings.Contains(body, "--") || strings.HasSuffix(body, "-") {
				return errors.New(`"--" in a comment`)
			}
			if err := xmlChars(rest[4 : 4+end]); err != nil {
				return err
			}
			i += 4 + end + 3
		case strings.HasPrefix(rest, "<![CDATA["):
			end := strings.Index(rest[9:], "]]>")
			if end < 0 {
				return errors.New("unterminated CDATA section")
			}
			if err := xmlChars(rest[9 : 9+end]); err != nil {
				return err
			}
			i += 9 + end + 3
		case strings.HasPrefix(rest, "</"):
			name, n := xmlName(rest[2:])
			j := 2 + n
			for j < len(rest) && isXMLSpace(rest[j]) {
				j++
			}
			if n == 0 || j == len(rest) || rest[j] != '>' {
				return errors.New("malformed end tag")
			}
			if len(path) == 0 || path[len(path)-1] != name {
				return fmt.Errorf("unexpected end tag </%s>", name)
			}
			path, names, ids = path[:len(path)-1], names[:len(names)-1], ids[:len(ids)-1]
			i += j + 1
		case strings.HasPrefix(rest, "<?"), strings.HasPrefix(rest, "<!"):
			return errors.New("processing instruction or declaration (not written by libvirt)")
		default:
			name, n := xmlName(rest[1:])
			if n == 0 {
				return errors.New("malformed start tag")
			}
			j := 1 + n
			attrs = attrs[:0]
			empty := false
			for {
				sp := j
				for j < len(rest) && isXMLSpace(rest[j]) {
					j++
				}
				if j == len(rest) {
					return fmt.Errorf("unterminated start tag <%s>", name)
				}
				if rest[j] == '>' {
					j++
					break
				}
				if strings.HasPrefix(rest[j:], "/>") {
					j += 2
					empty = true
					break
				}
				a, m, err := xmlAttribute(rest[j:])
				if err != nil {
					return fmt.Errorf("start tag <%s>: %w", name, err)
				}
				if sp == j {
					return fmt.Errorf("start tag <%s>: no space before attribute %s", name, a.name)
				}
				for _, b := range attrs {
					if b.name == a.name {
						return fmt.Errorf("start tag <%s>: attribute %s repeated", name, a.name)
					}
				}
				attrs = append(attrs, a)
				j += m
			}
			if len(path) == maxXMLDepth {
				return errors.New("elements nested too deep")
			}
			path, names, ids = append(path, name), append(names, local(name)), append(ids, next)
			next++
			visit(names, ids, attrs)
			if empty {
				path, names, ids = path[:len(path)-1], names[:len(names)-1], ids[:len(ids)-1]
			}
			i += j
		}
	}
	if len(path) > 0 {
		return fmt.Errorf("element <%s> not closed", path[len(path)-1])
	}
	return nil
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isNameByte(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// xmlName reads an ASCII name at the start of s, with at most one prefix
// ("a" or "p:a"), and returns it and its length; 0 when there is none.
func xmlName(s string) (string, int) {
	n := 0
	for part := 0; part < 2; part++ {
		if n >= len(s) || !isNameStart(s[n]) {
			return "", 0
		}
		for n < len(s) && isNameByte(s[n]) {
			n++
		}
		if part == 1 || n == len(s) || s[n] != ':' {
			break
		}
		n++
	}
	if n < len(s) && (s[n] == ':' || s[n] >= utf8.RuneSelf) {
		return "", 0 // a second colon, or a name this subset does not read
	}
	return s[:n], n
}

// xmlAttribute reads name="value" or name='value' (spaces around '=' are
// allowed) at the start of s.
func xmlAttribute(s string) (xmlAttr, int, error) {
	name, n := xmlName(s)
	if n == 0 {
		return xmlAttr{}, 0, errors.New("malformed attribute")
	}
	for n < len(s) && isXMLSpace(s[n]) {
		n++
	}
	if n == len(s) || s[n] != '=' {
		return xmlAttr{}, 0, fmt.Errorf("attribute %s without a value", name)
	}
	n++
	for n < len(s) && isXMLSpace(s[n]) {
		n++
	}
	if n == len(s) || s[n] != '\'' && s[n] != '"' {
		return xmlAttr{}, 0, fmt.Errorf("attribute %s: unquoted value", name)
	}
	end := strings.IndexByte(s[n+1:], s[n])
	if end < 0 {
		return xmlAttr{}, 0, fmt.Errorf("attribute %s: unterminated value", name)
	}
	raw := s[n+1 : n+1+end]
	if strings.IndexByte(raw, '<') >= 0 {
		return xmlAttr{}, 0, fmt.Errorf("attribute %s: '<' in the value", name)
	}
	v, err := xmlText(raw, false)
	if err != nil {
		return xmlAttr{}, 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return xmlAttr{name, v}, n + 1 + end + 1, nil
}

// xmlText decodes character data or an attribute value: entities and
// character references replaced, "\r\n" and "\r" made "\n", every
// character one XML allows. In character data (text), "]]>" is refused.
func xmlText(s string, text bool) (string, error) {
	if text && strings.Contains(s, "]]>") {
		return "", errors.New(`"]]>" outside CDATA`)
	}
	if strings.IndexByte(s, '&') < 0 {
		if err := xmlChars(s); err != nil {
			return "", err
		}
		if strings.IndexByte(s, '\r') < 0 {
			return s, nil
		}
		return normalizeCR(s), nil
	}
	var b strings.Builder
	for {
		amp := strings.IndexByte(s, '&')
		if amp < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:amp])
		semi := strings.IndexByte(s[amp:], ';')
		if semi < 0 {
			return "", errors.New("unterminated entity reference")
		}
		ref := s[amp+1 : amp+semi]
		switch {
		case ref == "lt":
			b.WriteByte('<')
		case ref == "gt":
			b.WriteByte('>')
		case ref == "amp":
			b.WriteByte('&')
		case ref == "apos":
			b.WriteByte('\'')
		case ref == "quot":
			b.WriteByte('"')
		case strings.HasPrefix(ref, "#x") && len(ref) > 2 && strings.Trim(ref[2:], "0123456789abcdefABCDEF") == "",
			strings.HasPrefix(ref, "#") && len(ref) > 1 && strings.Trim(ref[1:], "0123456789") == "":
			base, digits := 10, ref[1:]
			if ref[1] == 'x' {
				base, digits = 16, ref[2:]
			}
			n, err := strconv.ParseUint(digits, base, 32)
			if err != nil || n > utf8.MaxRune {
				return "", fmt.Errorf("character reference &%s; out of range", ref)
			}
			b.WriteRune(rune(n))
		default:
			return "", fmt.Errorf("unknown entity &%s;", ref)
		}
		s = s[amp+semi+1:]
	}
	v := b.String()
	if err := xmlChars(v); err != nil {
		return "", err
	}
	return normalizeCR(v), nil
}

// xmlChars refuses the characters XML does not allow anywhere (control
// characters but tab and line ends, surrogates, U+FFFE, U+FFFF).
func xmlChars(s string) error {
	for _, r := range s {
		if !(r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
			r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return fmt.Errorf("character %U not allowed in XML", r)
		}
	}
	return nil
}

func normalizeCR(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// pathIs says whether path is exactly want.
func pathIs(path []string, want ...string) bool {
	if len(path) != len(want) {
		return false
	}
	for i := range want {
		if path[i] != want[i] {
			return false
		}
	}
	return true
}

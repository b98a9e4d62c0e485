package libvirtconf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Path is the client configuration file libvirt itself reads for a user:
// /etc/libvirt/libvirt.conf for root, else $XDG_CONFIG_HOME/libvirt/libvirt.conf
// ($XDG_CONFIG_HOME defaulting to ~/.config). libvirt reads only the one
// file: root does not read a per-user file, a user does not read /etc.
func Path(euid int, getenv func(string) string, home string) string {
	if euid == 0 {
		return "/etc/libvirt/libvirt.conf"
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "libvirt", "libvirt.conf")
}

// maxSize is libvirt's own limit on a configuration file.
const maxSize = 10 << 20

// Load reads and parses the file at path. A file that does not exist is no
// error: it is an empty configuration, as for libvirt.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{Name: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read libvirt client configuration: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read libvirt client configuration %s: %w", path, err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("%s: larger than libvirt's limit of %d bytes", path, maxSize)
	}
	return Parse(path, data)
}

// aliasChars is libvirt's URI_ALIAS_CHARS.
const aliasChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// IsAlias reports whether s can name an alias: non-empty and made of
// libvirt's alias characters only (letters, digits, '_', '-'). No URI is,
// since a URI has a ':'; so only such strings need the file at all.
func IsAlias(s string) bool {
	return s != "" && strings.Trim(s, aliasChars) == ""
}

// Alias returns the URI the uri_aliases setting gives name, as libvirt
// resolves it: entries "alias=URI" in order, the first with that alias
// wins, and an entry met before it that is malformed is an error.
func (f *File) Alias(name string) (string, bool, error) {
	v, ok := f.Get("uri_aliases")
	if !ok {
		return "", false, nil
	}
	if v.Kind != List {
		return "", false, &SyntaxError{File: f.Name, Line: v.Line, Msg: fmt.Sprintf("uri_aliases must be a list of strings, not %s", v.Kind)}
	}
	for _, e := range v.List {
		bad := func(why string) error {
			return &SyntaxError{File: f.Name, Line: e.Line, Msg: fmt.Sprintf("uri_aliases entry %s", why)}
		}
		if e.Kind != String {
			return "", false, bad(fmt.Sprintf("is %s, not a string", e.Kind))
		}
		alias, uri, ok := strings.Cut(e.Str, "=")
		switch {
		case !ok:
			return "", false, bad(fmt.Sprintf("%q has no '=' (want \"alias=URI\")", e.Str))
		case !IsAlias(alias):
			return "", false, bad(fmt.Sprintf("%q: an alias may only contain letters, digits, '_' and '-'", e.Str))
		case alias == name:
			return uri, true, nil
		}
	}
	return "", false, nil
}

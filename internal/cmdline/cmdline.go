// Package cmdline reads a command line the way ssh users write one:
// options anywhere, before or after the command and its arguments; "--"
// ends them; a value as --name=V or as the next word. The command says
// which options there are (a table of Option); this package only reads
// them, and the values that are durations.
package cmdline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Option is one option of a command line that sets a field of a T. It is
// a flag when Flag is set, else it takes a value (Set).
type Option[T any] struct {
	Short, Long string // "-c", "--connect"; Short may be ""
	// Flag is the field a flag turns on; a flag takes no value.
	Flag func(*T) *bool
	// Set takes the value v of the option spelled name (for messages):
	// written --name=V, or the next word.
	Set func(o *T, name, v string) error
	// Bare, when set, makes the value optional: only --name=V gives one,
	// and a bare --name calls Bare, so that the next word stays an
	// argument (a bare --wait is followed by HOST).
	Bare func(*T)
}

// Scan reads argv into o by opts and returns the positional arguments in
// order: the words that are no option (a lone "-" is none), and all after
// "--".
func Scan[T any](argv []string, o *T, opts []Option[T]) ([]string, error) {
	var pos []string
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			return append(pos, argv[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		opt := find(opts, name)
		var err error
		switch {
		case opt == nil:
			err = fmt.Errorf("unknown option %s", name)
		case opt.Flag != nil && hasVal:
			err = fmt.Errorf("option %s takes no value", name)
		case opt.Flag != nil:
			*opt.Flag(o) = true
		case opt.Bare != nil && !hasVal:
			opt.Bare(o)
		case hasVal:
			err = opt.Set(o, name, val)
		case i+1 >= len(argv):
			err = fmt.Errorf("option %s needs a value", name)
		default:
			i++
			err = opt.Set(o, name, argv[i])
		}
		if err != nil {
			return pos, err
		}
	}
	return pos, nil
}

// find returns the option spelled name (never "": it starts with a -),
// nil for none.
func find[T any](opts []Option[T], name string) *Option[T] {
	for i := range opts {
		if opts[i].Long == name || opts[i].Short == name {
			return &opts[i]
		}
	}
	return nil
}

// Duration reads option opt's value: a Go duration ("2s", "1m30s") or
// plain seconds ("2", "0.5"), more than zero.
func Duration(opt, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != f || f > 1e6 {
			return 0, fmt.Errorf("%s %q is not a duration (2s, 500ms) or a number of seconds", opt, s)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s %q must be more than zero", opt, s)
	}
	return d, nil
}

package sshname

import (
	"context"
	"strings"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/lookup"
)

// Complete returns the qemu host names of r's running domains that start
// with word, for shell completion. word may carry "user@"; its spelling
// (qemu/, qemu%, qemu:system/, ...) is kept, and without one the names
// come as qemu/NAME. It asks libvirt only when word can still become a
// qemu host name. A daemon that does not answer is told to r's Logf (-v);
// the error is a bad URI list, or the first daemon's failure when none of
// a spelling's daemons answered.
func Complete(ctx context.Context, r *lookup.Resolver, word string) ([]string, error) {
	at := strings.LastIndex(word, "@") + 1
	user, typed := word[:at], word[at:]
	var out []string
	for _, form := range FormsOf(typed) {
		listed, err := r.Running(ctx, form.Scope)
		if err != nil {
			return nil, err
		}
		names, errs := lookup.RunningNames(listed)
		for _, err := range errs {
			r.Logf.Printf("%v", err)
		}
		if len(errs) > 0 && len(errs) == len(listed) {
			return nil, errs[0]
		}
		out = append(out, Candidates(user, typed, form, names)...)
	}
	return out, nil
}

// Form is a spelling of the qemu host prefix and the scope it searches.
type Form struct {
	Prefix string
	Scope  host.Scope
}

// hostForms are the qemu spellings, in the order a partly typed prefix
// picks them: "" and "qemu" get the default qemu/, "qemu:s" qemu:system/.
var hostForms = []Form{
	{"qemu/", host.Any},
	{"qemu%", host.Any},
	{"qemu:system/", host.System},
	{"qemu:session/", host.Session},
	{"qemu%system%", host.System},
	{"qemu%session%", host.Session},
}

// Candidates spells each name in form, after user, keeping those that start
// with what was typed and that can be completed.
func Candidates(user, typed string, form Form, names []string) []string {
	var out []string
	for _, n := range names {
		if h := form.Prefix + n; completable(n, form) && strings.HasPrefix(h, typed) {
			out = append(out, user+h)
		}
	}
	return out
}

// FormsOf returns the spellings to complete typed in: the one typed starts
// with (the longest, so that "qemu%system%" wins over "qemu%"), and, when
// typed goes on past it or starts with none, the first one that typed is
// the start of ("qemu%s": qemu% for a domain "sales", and qemu%system%).
// None when typed can no longer become a qemu host name.
func FormsOf(typed string) []Form {
	best := -1
	for i, f := range hostForms {
		if strings.HasPrefix(typed, f.Prefix) && (best < 0 || len(f.Prefix) > len(hostForms[best].Prefix)) {
			best = i
		}
	}
	var forms []Form
	if best >= 0 {
		forms = append(forms, hostForms[best])
		if len(typed) == len(hostForms[best].Prefix) {
			return forms
		}
	}
	for _, f := range hostForms {
		if strings.HasPrefix(f.Prefix, typed) {
			return append(forms, f)
		}
	}
	return forms
}

// completable says whether a domain name can be offered in that spelling:
// not when ssh refuses the host name (Refused), nor when a shell
// would expand or split the completed word, nor with ':' in a '%' spelling
// (scp and rsync split the host at the first ':'). Such domains are still
// reachable by UUID or ID.
func completable(name string, f Form) bool {
	if Refused(f.Prefix+name) != nil || strings.ContainsAny(name, "[]*?!#~=") {
		return false
	}
	return !strings.Contains(f.Prefix, "%") || !strings.Contains(name, ":")
}

package lookup

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/digitalocean/go-libvirt"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
)

func TestRunningNames(t *testing.T) {
	down := errors.New("down")
	names, errs := RunningNames([]Listed{
		{URI: "a", Domains: []libvirt.Domain{{Name: "web02"}, {Name: "Dev"}}},
		{URI: "b", Err: down},
		{URI: "c", Domains: []libvirt.Domain{{Name: "web02"}, {Name: "db"}}},
	})
	if want := []string{"Dev", "db", "web02"}; !slices.Equal(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	if len(errs) != 1 || errs[0] != down {
		t.Errorf("errs = %v, want [down]", errs)
	}
}

// A URI that is not a libvirt URI, or a context already over, is reported
// per URI without dialing anything.
func TestRunningErrors(t *testing.T) {
	r := &Resolver{Env: Env{Getenv: func(string) string { return "" }}}
	got := r.Running(context.Background(), []string{"not a uri"})
	if len(got) != 1 || failure.ClassOf(got[0].Err) != failure.Usage {
		t.Errorf("Running(bad URI) = %+v, want a usage error", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got = r.Running(ctx, []string{"qemu:///system", "qemu:///session"})
	for _, l := range got {
		if failure.ClassOf(l.Err) != failure.Timeout {
			t.Errorf("Running(done ctx) %s: %v, want a timeout", l.URI, l.Err)
		}
	}
}

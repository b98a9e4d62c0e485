package lookup

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
)

func TestRunningNames(t *testing.T) {
	down := errors.New("down")
	names, errs := RunningNames([]Listed{
		{URI: "a", Domains: []libvirtrpc.Domain{{Name: "web02"}, {Name: "Dev"}}},
		{URI: "b", Err: down},
		{URI: "c", Domains: []libvirtrpc.Domain{{Name: "web02"}, {Name: "db"}}},
	})
	if want := []string{"Dev", "db", "web02"}; !slices.Equal(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	if len(errs) != 1 || errs[0] != down {
		t.Errorf("errs = %v, want [down]", errs)
	}
}

// A URI that is not a libvirt URI is a usage error, and a context already
// over is reported per URI, without dialing anything.
func TestRunningErrors(t *testing.T) {
	r := &Resolver{Search: libvirturi.Search{URIs: []string{"not a uri"}, Euid: 1000, Env: libvirturi.Env{Getenv: func(string) string { return "" }}}}
	got, err := r.Running(context.Background(), host.Any)
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "not a uri") {
		t.Errorf("Running(bad URI) = %+v, %v; want a usage error for the URI", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.URIs = nil
	got, err = r.Running(ctx, host.Any)
	if err != nil || len(got) != 2 { // non-root: system and session
		t.Fatalf("Running(done ctx) = %+v, %v; want two URIs", got, err)
	}
	for _, l := range got {
		if failure.ClassOf(l.Err) != failure.Timeout {
			t.Errorf("Running(done ctx) %s: %v, want a timeout", l.URI, l.Err)
		}
	}
}

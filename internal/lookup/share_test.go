package lookup

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/failure"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/host"
	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirturi"
)

// TestShare: each of n daemons gets an even part of the time left, the
// last all of it, and a context without a deadline stays without one.
func TestShare(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	pd, _ := parent.Deadline()
	for _, n := range []int{1, 2, 3, 10} {
		ctx, cancel := share(parent, n)
		d, ok := ctx.Deadline()
		cancel()
		left := time.Until(pd)
		want := time.Now().Add(left / time.Duration(n))
		if !ok || d.After(pd) || d.Sub(want).Abs() > time.Minute {
			t.Errorf("share(1h, %d): deadline in %v, want about %v", n, time.Until(d), left/time.Duration(n))
		}
	}
	ctx, cancel := share(context.Background(), 3)
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Error("share of a context without deadline has one")
	}
}

// hung is a unix socket that accepts and never answers: a stuck daemon.
func hung(t *testing.T, name string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), name)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return sock
}

// TestHungDaemonsEachGetAShare: with two daemons that never answer, each
// is asked in its share of the time and each is named in the failure, by
// its socket: the first does not eat the budget and the blame is right.
// Resolve, List and Running alike.
func TestHungDaemonsEachGetAShare(t *testing.T) {
	a, b := hung(t, "a-sock"), hung(t, "b-sock")
	r := &Resolver{Search: libvirturi.Search{
		URIs: []string{"test+unix:///h.xml?socket=" + a, "test+unix:///h.xml?socket=" + b},
		Env:  libvirturi.Env{Getenv: func(string) string { return "" }},
	}}
	within := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 400*time.Millisecond)
	}
	check := func(what string, err error) {
		t.Helper()
		if failure.ClassOf(err) != failure.Timeout {
			t.Errorf("%s: want a timeout, got %v", what, err)
		}
		for _, s := range []string{a, b} {
			if err == nil || !strings.Contains(err.Error(), "timed out waiting for the libvirt daemon at "+s) {
				t.Errorf("%s: the failure does not name %s as not answering: %v", what, s, err)
			}
		}
	}
	ctx, cancel := within()
	_, err := r.Resolve(ctx, host.Spec{Kind: host.Domain, Domain: "vm"}, 22)
	cancel()
	check("Resolve", err)
	if err != nil && !strings.Contains(err.Error(), `virsh -c 'test+unix:///h.xml?socket=`+a+`' list`) {
		t.Errorf("Resolve: no virsh command to check the daemon with: %v", err)
	}
	ctx, cancel = within()
	_, err = r.List(ctx, host.Any)
	cancel()
	check("List", err)
	ctx, cancel = within()
	listed, err := r.Running(ctx, host.Any)
	cancel()
	if err != nil || len(listed) != 2 {
		t.Fatalf("Running: %v, %v", listed, err)
	}
	check("Running", errors.Join(listed[0].Err, listed[1].Err))
}

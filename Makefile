# libvirt-ssh-proxy — build, install, test.
#   make && sudo make install     build, then install the helper and the ssh drop-in
#   make check                    every test (as root): lint, unit, fuzz-short, host integration,
#                                 packages, the nested-VM tiers 1-3; installs the Debian packages it needs first
#   make check-quick              lint, unit tests and fuzz-short only: no root, no packages
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BASHCOMPATDIR ?= $(SYSCONFDIR)/bash_completion.d
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
DESTDIR    ?=
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

# Go from PATH, else where go.dev's tarball puts it (root's PATH under sudo lacks it)
GO          ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# The scripts and tests run go by name: that same go, first on PATH.
ifneq ($(findstring /,$(GO)),)
export PATH := $(patsubst %/,%,$(dir $(GO))):$(PATH)
endif
# staticcheck and nfpm are pinned in go.mod (tool directives): not imported
# by the helper, so not in its binary
STATICCHECK ?= $(GO) tool staticcheck
BIN         ?= bin/libvirt-ssh-proxy
DROPIN      := $(SYSCONFDIR)/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf
# The opt-in plain-names drop-in: installed off, outside ssh_config.d; a
# link into ssh_config.d turns it on (README, "Plain names").
PLAINDROPIN := $(DATADIR)/libvirt-ssh-proxy/plain-names.conf
SOURCES     := $(shell find cmd internal -name '*.go' ! -name '*_test.go') cmd/libvirt-ssh-proxy/usage.txt go.mod go.sum

.PHONY: install-check install-data deb rpm package-test check-go
.PHONY: all build install uninstall check check-quick lint unit race integration vm e2e e2e-vhost e2e-real fuzz fuzz-short load bench bench-more clean

all: build
build: $(BIN)

# STRIP: no symbol table or DWARF, a smaller binary; STRIP= keeps them (the
# test that stops the helper in gdb builds it so).
STRIP ?= -s -w
$(BIN): $(SOURCES)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(STRIP) -X main.version=$(VERSION)' -o $@ ./cmd/libvirt-ssh-proxy

install: install-check $(BIN) install-data
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/libvirt-ssh-proxy
	install -d $(DESTDIR)$(SYSCONFDIR)/ssh/ssh_config.d
	$(SUBST) config/30-libvirt-ssh-proxy.conf > $(DESTDIR)$(DROPIN)
	chmod 0644 $(DESTDIR)$(DROPIN)

# install-check: the drop-in and the bash file in /etc are a package's
# conffiles when libvirt-ssh-proxy-go (or libvirt's libvirt-ssh-proxy) is
# installed; overwriting them would leave dpkg or rpm asking about, or
# removing, a file make install wrote (and make uninstall would delete the
# package's). Refuse before touching anything.
install-check:
	@[ -n "$(DESTDIR)" ] || for f in $(DROPIN) $(BASHCOMPATDIR)/libvirt-ssh-proxy; do \
	  p=$$(dpkg-query -S "$$f" 2>/dev/null | sed -n '1s/: .*//p'); \
	  [ -n "$$p" ] || p=$$(rpm -qf --qf '%{NAME}' "$$f" 2>/dev/null) || p=; \
	  [ -z "$$p" ] || { echo "make: $$f belongs to the package $$p: remove it first (apt remove $$p, or dnf remove $$p), or install the package, not both"; exit 1; }; \
	done

uninstall: install-check
	rm -f $(DESTDIR)$(BINDIR)/libvirt-ssh-proxy $(DESTDIR)$(DROPIN)
	rm -f $(DESTDIR)$(PLAINDROPIN)
	-rmdir $(DESTDIR)$(DATADIR)/libvirt-ssh-proxy
	rm -f $(DESTDIR)$(MANDIR)/man1/libvirt-ssh-proxy.1 $(DESTDIR)$(BASHCOMPDIR)/libvirt-ssh-proxy \
	  $(DESTDIR)$(BASHCOMPATDIR)/libvirt-ssh-proxy $(DESTDIR)$(ZSHCOMPDIR)/_libvirt-ssh-proxy

# install-data: the manual and the bash and zsh completions, each with the
# helper's real path. The bash file goes to bash-completion's completions/
# (the helper's own arguments, loaded on first use) and to its compat
# directory (sourced at start: the qemu/ hosts for ssh, scp, sftp, rsync).
SUBST := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g'
install-data: install-check
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(BASHCOMPATDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	  $(DESTDIR)$(DATADIR)/libvirt-ssh-proxy
	$(SUBST) config/plain-names.conf > $(DESTDIR)$(PLAINDROPIN)
	chmod 0644 $(DESTDIR)$(PLAINDROPIN)
	$(SUBST) docs/libvirt-ssh-proxy.1 > $(DESTDIR)$(MANDIR)/man1/libvirt-ssh-proxy.1
	$(SUBST) completion/libvirt-ssh-proxy.bash > $(DESTDIR)$(BASHCOMPDIR)/libvirt-ssh-proxy
	$(SUBST) completion/libvirt-ssh-proxy.bash > $(DESTDIR)$(BASHCOMPATDIR)/libvirt-ssh-proxy
	$(SUBST) completion/_libvirt-ssh-proxy > $(DESTDIR)$(ZSHCOMPDIR)/_libvirt-ssh-proxy
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/libvirt-ssh-proxy.1 $(DESTDIR)$(BASHCOMPDIR)/libvirt-ssh-proxy \
	  $(DESTDIR)$(BASHCOMPATDIR)/libvirt-ssh-proxy $(DESTDIR)$(ZSHCOMPDIR)/_libvirt-ssh-proxy

# check runs everything, as root: it first installs the Debian packages the
# tests need (test/deps.sh, the one list), and fails rather than skips what
# cannot run. check-quick is the smaller run that needs neither. Each part can
# also be run alone. test/check.sh prints each part's time and test count.
CHECK_PARTS := lint unit race fuzz-short integration package-test vm e2e-vhost e2e-real
check: check-go
	@[ "$$(id -u)" = 0 ] || { echo "make check: run it as root (sudo make check): it installs the packages the tests need, the package test installs the .debs, and some tests run the helper as another user; make check-quick needs no root"; exit 1; }
	@test/deps.sh build unit integration package vm vm-stock
	@MAKE='$(MAKE)' test/check.sh $(CHECK_PARTS)

check-quick: check-go
	@test/deps.sh build unit
	@MAKE='$(MAKE)' test/check.sh lint unit fuzz-short

check-go:
	@command -v $(GO) >/dev/null || { echo "make: no Go at '$(GO)': install Go 1.26 or later (go.dev/dl) into /usr/local/go, or set GO=/path/to/go"; exit 1; }

lint:
	@out=$$(gofmt -l cmd internal test); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags integration ./test/...

# testsum: go test's usual output plus "NAME: N passed, N failed"; a skipped test fails.
TESTSUM := $(GO) run ./test/testsum

unit:
	$(TESTSUM) unit $(GO) test -json -count=1 ./...

# race: the unit tests again under the race detector (it needs cgo: gcc),
# every package, so that one that starts goroutines later is not missed.
race:
	$(TESTSUM) race $(GO) test -race -json -count=1 ./...

integration:
	$(TESTSUM) integration $(GO) test -json -count=1 -tags integration ./test/integration/

vm: $(BIN)
	VM_HELPER=$(BIN) test/vm/run.sh tier1

# The nested-VM tiers beyond tier 1, each a part of check and runnable alone:
# e2e-vhost is tier 2 (a real vhost-vsock guest, libvirt's test driver),
# e2e-real tier 3 (a stock Debian 13 hypervisor, libvirt's QEMU driver, the
# product from its .debs, libvirt's own C helper beside it; builds and caches
# its rootfs on first use). e2e runs both.
e2e: e2e-vhost e2e-real

e2e-vhost: $(BIN)
	VM_HELPER=$(BIN) test/vm/run.sh tier2

e2e-real:
	test/vm/run.sh tier3

# Every fuzz target, as package:Target. `make fuzz` runs each until 10 million
# inputs or FUZZTIME (default 10m), FUZZJOBS targets at a time (default: one
# per core, one worker each) and prints a table; `make fuzz-short` (part of
# check) runs 20000 inputs each. test/fuzz.sh says why the time limit is its
# own SIGINT rather than -fuzztime.
FUZZ_TARGETS := internal/host:FuzzParse internal/host:FuzzParsePort \
	internal/domainxml:FuzzCIDFromXML internal/lookup:FuzzParseUUID \
	internal/lookup:FuzzParseID internal/libvirturi:FuzzEndpointFor \
	internal/domainxml:FuzzMACsFromXML \
	cmd/libvirt-ssh-proxy:FuzzParseArgs internal/cmdline:FuzzDuration \
	internal/sshconfig:FuzzParse internal/sshconfig:FuzzSplitCommand \
	internal/sshconfig:FuzzQuoteArg internal/sshconfig:FuzzParseApplied \
	internal/sshname:FuzzAlias internal/leases:FuzzParseStatus \
	internal/leases:FuzzParseMACs internal/vsockmux:FuzzParseReply \
	internal/libvirtconf:FuzzParse \
	internal/libvirtrpc:FuzzReadMessage internal/libvirtrpc:FuzzDecodeReply \
	internal/domainxml:FuzzDomainXMLAgainstEtree \
	internal/leases:FuzzOwners internal/plainname:FuzzEligible \
	internal/plainname:FuzzListed
FUZZTIME ?= 10m

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) test/fuzz.sh $(FUZZ_TARGETS)

fuzz-short:
	@GO=$(GO) FUZZEXECS=20000 FUZZTIME= FUZZLOG=build/fuzz-short test/fuzz.sh $(FUZZ_TARGETS)

# load: the long form of the load and integrity tests (1 GiB each way,
# 200 concurrent sessions); the default integration run uses the short form.
load:
	LSP_LOAD=long $(GO) test -count=1 -timeout 60m -tags integration -run '^TestLoad' -v ./test/integration/

# bench: one table with every figure of the performance goals (README,
# "Performance"), ours beside its yardstick, medians and spread
# (test/bench/table): start-up to the vsock step at 10 and 10,000 domains,
# libvirt calls and peak RSS against libvirt's own C helper, through the
# reference rig in BENCHREF (the bench-reference kit, set up with its
# setup.sh; root; BENCHREF_BUILD where setup.sh built the rig's tools, its
# LSP_BUILD, when not BENCHREF/.build, as for a read-only rig) -- without it
# those rows say it is absent; the exit on a
# bad host name against a minimal static Go binary; the relay against an
# io.Copy pair (BenchmarkRelay) and, behind real ssh and sshd, against fd
# passing (BenchmarkSSH); ssh -G for a host that is no domain with the
# plain-names drop-in on against off, without and with a daemon
# (BenchmarkPlainNames). BENCHRUNS timed runs per start-up figure,
# BENCHCOUNT repeats of each Go benchmark.
# bench-more: the other measurements: every Go micro-benchmark, the lookup
# latency against a private libvirtd, what each libvirt round trip costs
# (BenchmarkLibvirtCalls), the fd hand-off, the connect, relay
# and RSS table (test/bench) on a unix socket, and the same table over real
# vsock loopback inside the nested-VM rig (test/vm/run.sh bench, ~4 min
# under TCG).
BENCHREF   ?=
BENCHREF_BUILD ?=
BENCHRUNS  ?= 50
BENCHCOUNT ?= 6
bench: $(BIN)
	$(GO) run -tags integration ./test/bench/table -helper $(BIN) -ref '$(BENCHREF)' -ref-build '$(BENCHREF_BUILD)' -runs $(BENCHRUNS) -count $(BENCHCOUNT)

bench-more: $(BIN)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/...
	$(GO) test -run '^$$' -bench 'Lookup|Handoff' -benchtime 50x -tags integration ./test/integration/
	$(GO) test -run '^$$' -bench LibvirtCalls -benchtime 500x -tags integration ./test/integration/
	$(GO) run -tags integration ./test/bench -helper $(BIN) $(BENCHFLAGS)
	VM_HELPER=$(BIN) test/vm/run.sh bench

# Packages: .deb and .rpm (host: libvirt-ssh-proxy-go, guest:
# libvirt-ssh-proxy-guest) in build/pkg/, reproducibly; see packaging/README.md.
# package-test builds them twice and compares, then installs, checks and
# purges the .debs (root only; it skips itself otherwise).
deb:
	packaging/build.sh deb
rpm:
	packaging/build.sh rpm
package-test:
	packaging/test.sh

clean:
	rm -rf bin
	rm -rf build

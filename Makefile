# libvirt-ssh-proxy — build, install, test.
#   make && sudo make install     build, then install the helper and the ssh drop-in
#   make check                    every test: lint, unit, host integration, vsock tier 1
PREFIX     ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BASHCOMPATDIR ?= $(SYSCONFDIR)/bash_completion.d
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
DESTDIR    ?=
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin/libvirt-ssh-proxy
DROPIN      := $(SYSCONFDIR)/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf
SOURCES     := $(shell find cmd internal -name '*.go' ! -name '*_test.go') go.mod go.sum

.PHONY: install-data deb rpm package-test
.PHONY: all build install uninstall check lint unit integration vm e2e fuzz fuzz-short load bench clean

all: build
build: $(BIN)

$(BIN): $(SOURCES)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o $@ ./cmd/libvirt-ssh-proxy

install: $(BIN) install-data
	install -D -m 0755 $(BIN) $(DESTDIR)$(LIBEXECDIR)/libvirt-ssh-proxy
	install -d $(DESTDIR)$(SYSCONFDIR)/ssh/ssh_config.d
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' config/30-libvirt-ssh-proxy.conf > $(DESTDIR)$(DROPIN)
	chmod 0644 $(DESTDIR)$(DROPIN)

uninstall:
	rm -f $(DESTDIR)$(LIBEXECDIR)/libvirt-ssh-proxy $(DESTDIR)$(DROPIN)
	rm -f $(DESTDIR)$(MANDIR)/man1/libvirt-ssh-proxy.1 $(DESTDIR)$(BASHCOMPDIR)/libvirt-ssh-proxy \
	  $(DESTDIR)$(BASHCOMPATDIR)/libvirt-ssh-proxy $(DESTDIR)$(ZSHCOMPDIR)/_libvirt-ssh-proxy

# install-data: the manual and the bash and zsh completions, each with the
# helper's real path. The bash file goes to bash-completion's completions/
# (the helper's own arguments, loaded on first use) and to its compat
# directory (sourced at start: the qemu/ hosts for ssh, scp, sftp, rsync).
SUBST := sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'
install-data:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(BASHCOMPATDIR) $(DESTDIR)$(ZSHCOMPDIR)
	$(SUBST) docs/libvirt-ssh-proxy.1 > $(DESTDIR)$(MANDIR)/man1/libvirt-ssh-proxy.1
	$(SUBST) completion/libvirt-ssh-proxy.bash > $(DESTDIR)$(BASHCOMPDIR)/libvirt-ssh-proxy
	$(SUBST) completion/libvirt-ssh-proxy.bash > $(DESTDIR)$(BASHCOMPATDIR)/libvirt-ssh-proxy
	$(SUBST) completion/_libvirt-ssh-proxy > $(DESTDIR)$(ZSHCOMPDIR)/_libvirt-ssh-proxy
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/libvirt-ssh-proxy.1 $(DESTDIR)$(BASHCOMPDIR)/libvirt-ssh-proxy \
	  $(DESTDIR)$(BASHCOMPATDIR)/libvirt-ssh-proxy $(DESTDIR)$(ZSHCOMPDIR)/_libvirt-ssh-proxy

# check runs everything; each part can also be run alone.
check: lint unit fuzz-short integration vm package-test

lint:
	@out=$$(gofmt -l cmd internal test); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./test/...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags integration ./test/...

unit:
	$(GO) test -count=1 ./...

integration:
	$(GO) test -count=1 -tags integration ./test/integration/

vm: $(BIN)
	VM_HELPER=$(BIN) test/vm/run.sh tier1

e2e: $(BIN)
	VM_HELPER=$(BIN) test/vm/run.sh tier2

# Every fuzz target, as package:Target. `make fuzz` runs each until 10 million
# inputs or FUZZTIME (default 10m), FUZZJOBS targets at a time (default: one
# per core, one worker each) and prints a table; `make fuzz-short` (part of
# check) runs 20000 inputs each. test/fuzz.sh says why the time limit is its
# own SIGINT rather than -fuzztime.
FUZZ_TARGETS := internal/host:FuzzParse internal/host:FuzzParsePort \
	internal/lookup:FuzzCIDFromXML internal/lookup:FuzzParseUUID \
	internal/lookup:FuzzParseID internal/lookup:FuzzEndpointFor \
	internal/lookup:FuzzMACsFromXML \
	cmd/libvirt-ssh-proxy:FuzzParseArgs cmd/libvirt-ssh-proxy:FuzzParseDuration \
	internal/sshconfig:FuzzParse internal/sshconfig:FuzzSplitCommand \
	internal/sshconfig:FuzzQuoteArg internal/sshconfig:FuzzParseApplied \
	internal/sshname:FuzzAlias internal/leases:FuzzParseStatus \
	internal/leases:FuzzParseMACs internal/vsockmux:FuzzParseReply \
	internal/libvirtconf:FuzzParse \
	internal/libvirtrpc:FuzzReadMessage internal/libvirtrpc:FuzzDecodeReply \
	internal/lookup:FuzzDomainXMLAgainstEtree
FUZZTIME ?= 10m

fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) test/fuzz.sh $(FUZZ_TARGETS)

fuzz-short:
	@GO=$(GO) FUZZEXECS=20000 FUZZTIME= FUZZLOG=build/fuzz-short test/fuzz.sh $(FUZZ_TARGETS)

# load: the long form of the load and integrity tests (1 GiB each way,
# 200 concurrent sessions); the default integration run uses the short form.
load:
	LSP_LOAD=long $(GO) test -count=1 -timeout 60m -tags integration -run '^TestLoad' -v ./test/integration/

# bench: the Go micro-benchmarks, the lookup latency against a private
# libvirtd (10 and 10,000 domains), the fd hand-off, real ssh sessions relayed
# and fd-passed (BenchmarkSSH: the relay's cost behind ssh), the connect, relay and RSS
# table (test/bench) on a unix socket, and the same table over real vsock
# loopback inside the nested-VM rig (test/vm/run.sh bench, ~4 min under TCG).
bench: $(BIN)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/...
	$(GO) test -run '^$$' -bench 'Lookup|Handoff' -benchtime 50x -tags integration ./test/integration/
	$(GO) test -run '^$$' -bench SSH -benchtime 3x -tags integration ./test/integration/
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

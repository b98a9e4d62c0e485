#!/bin/bash
# packaging/test.sh: build the .deb and .rpm packages twice and compare their
# checksums (reproducible builds); check the .rpms with rpm(8) when it is
# installed (metadata; install, verify and erase in a private root); then, as root on Debian, install the host and guest
# .debs, check what they put in place (ssh -G picks up the ProxyCommand, the
# manual, the completions, the guest socket enabled by its preset), check
# that they take over from libvirt's own libvirt-ssh-proxy package, remove
# and purge them, and check that nothing is left behind.
#
# It changes the system (dpkg -i), so it needs root and fails without it;
# `make check` runs it as root. The helper is only run with --version: nothing
# connects to anything.
set -euo pipefail
cd "$(dirname "$0")/.."

steps=0
fail() {
  echo "packaging/test.sh: FAIL: $*" >&2
  echo "package-test: $steps passed, 1 failed"
  exit 1
}
# step NAME: a new step starts, so the one before passed
step() { [ -z "${stepname:-}" ] || steps=$((steps + 1)); stepname=$*; echo "== $*"; }
[ "$(id -u)" = 0 ] || fail "needs root (it installs the .debs with dpkg -i): run it as root, as make check does"
command -v dpkg >/dev/null || fail "no dpkg: the package test installs the .debs on Debian"
command -v rpm >/dev/null || fail "no rpm to check the .rpms; install with: test/deps.sh package (as root)"

work=$(mktemp -d /tmp/lsp-pkg.XXXXXX)
HOST=libvirt-ssh-proxy-go GUEST=libvirt-ssh-proxy-guest FAKE=libvirt-ssh-proxy
cleanup() {
  dpkg --purge "$HOST" "$GUEST" "$FAKE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "build twice, compare"
# bin/ is the user's own build: the packages' build must leave it alone
userbin() { sha256sum bin/libvirt-ssh-proxy 2>/dev/null || echo none; }
binbefore=$(userbin)
packaging/build.sh deb "$work/a" >/dev/null
packaging/build.sh rpm "$work/a" >/dev/null
packaging/build.sh deb "$work/b" >/dev/null
packaging/build.sh rpm "$work/b" >/dev/null
(cd "$work/a" && sha256sum -- *) > "$work/a.sum"
(cd "$work/b" && sha256sum -- *) > "$work/b.sum"
diff "$work/a.sum" "$work/b.sum" || fail "two builds of the same commit differ"
[ "$(userbin)" = "$binbefore" ] || fail "building the packages changed bin/libvirt-ssh-proxy"
[ "$(wc -l < "$work/a.sum")" = 4 ] || fail "want 4 packages, got: $(cat "$work/a.sum")"
cat "$work/a.sum"
ls -l "$work/a" | sed 1d
deb=$(echo "$work"/a/${HOST}_*.deb) gdeb=$(echo "$work"/a/${GUEST}_*.deb)
rpmf=$(echo "$work"/a/${HOST}-[0-9]*.rpm)

step "rpm metadata"
rpm -K --nosignature "$work"/a/*.rpm >/dev/null || fail "rpm -K"
want="/etc/bash_completion.d/libvirt-ssh-proxy
/etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf
/usr/bin/libvirt-ssh-proxy
/usr/libexec/libvirt-ssh-proxy
/usr/share/bash-completion/completions/libvirt-ssh-proxy
/usr/share/libvirt-ssh-proxy
/usr/share/libvirt-ssh-proxy/plain-names.conf
/usr/share/licenses/libvirt-ssh-proxy-go
/usr/share/licenses/libvirt-ssh-proxy-go/LICENSE
/usr/share/man/man1/libvirt-ssh-proxy.1.gz
/usr/share/zsh/site-functions/_libvirt-ssh-proxy"
[ "$(rpm -qpl "$rpmf" 2>/dev/null)" = "$want" ] || fail "rpm file list: $(rpm -qpl "$rpmf")"
[ "$(rpm -qp --conflicts "$rpmf" 2>/dev/null)" = libvirt-ssh-proxy ] || fail "rpm Conflicts"
[ "$(rpm -qpc "$rpmf" 2>/dev/null | tr '\n' ' ')" = "/etc/bash_completion.d/libvirt-ssh-proxy /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf " ] ||
  fail "rpm config files: $(rpm -qpc "$rpmf")"
# The archive's names are absolute: without --no-absolute-filenames cpio
# would write them into the real root. (rpm 4.18's rpm2cpio exits 1 on
# these packages though it writes the whole archive: the grep below is
# the check.)
mkdir "$work/rpmroot"
{ rpm2cpio "$rpmf" || true; } | (cd "$work/rpmroot" && cpio -idm --quiet --no-absolute-filenames 2>/dev/null)
grep -q "ProxyCommand /usr/bin/libvirt-ssh-proxy '%n' %p" "$work/rpmroot/etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf" ||
  fail "the rpm's drop-in does not name /usr/bin/libvirt-ssh-proxy"
# Install both into a private root (no scripts: no systemd there), verify,
# erase: nothing of ours may be left.
rroot=$work/rpm-installed
mkdir "$rroot"
out=$(rpm --root "$rroot" --initdb 2>&1 && rpm --root "$rroot" -i --nodeps --noscripts "$work"/a/*.rpm 2>&1) ||
  fail "rpm -i into $rroot: $out"
[ -x "$rroot/usr/bin/libvirt-ssh-proxy" ] || fail "rpm -i: no helper in $rroot/usr/bin"
# libvirt's own path on Fedora, for hand-written ProxyCommand lines
[ "$(readlink "$rroot/usr/libexec/libvirt-ssh-proxy")" = ../bin/libvirt-ssh-proxy ] ||
  fail "rpm -i: /usr/libexec/libvirt-ssh-proxy is not a link to ../bin/libvirt-ssh-proxy: $(ls -ld "$rroot/usr/libexec/libvirt-ssh-proxy")"
out=$(rpm --root "$rroot" -V --nodeps "$HOST" "$GUEST" 2>&1) || fail "rpm -V: $out"
out=$(rpm --root "$rroot" -e --noscripts "$HOST" "$GUEST" 2>&1) || fail "rpm -e: $out"
left=$(find "$rroot" -name '*libvirt*')
[ -z "$left" ] || fail "rpm -e left: $left"

# What may change: the places a package can put files, and dpkg's records.
snapshot() { find /etc /usr /var/lib/dpkg/info /var/lib/systemd -xdev 2>/dev/null | LC_ALL=C sort; }
snapshot > "$work/before"

step "install $HOST"
dpkg -i "$deb" >/dev/null
dpkg -s "$HOST" | grep -qx 'Status: install ok installed' || fail "$HOST not installed"
helper=/usr/bin/libvirt-ssh-proxy
[ "$(command -v libvirt-ssh-proxy)" = "$helper" ] || fail "libvirt-ssh-proxy is not on PATH as $helper: $(command -v libvirt-ssh-proxy)"
# Debian's path of libvirt's own helper, for hand-written ProxyCommand lines
for h in "$helper" /usr/lib/libvirt/libvirt-ssh-proxy; do
  "$h" --version | grep -q "^libvirt-ssh-proxy 0" || fail "$h --version: $("$h" --version 2>&1)"
done
g=$(ssh -T -F /etc/ssh/ssh_config -G qemu/x)
grep -qx "proxycommand $helper '%n' %p" <<<"$g" || fail "ssh -G qemu/x: $(grep proxy <<<"$g")"
grep -qx "proxyusefdpass yes" <<<"$g" || fail "ssh -G qemu/x: no proxyusefdpass yes"
ssh -T -F /etc/ssh/ssh_config -G example.com | grep -q "^proxycommand" && fail "ssh -G example.com has a ProxyCommand"
# Plain names: installed off (outside ssh_config.d); one link turns them
# on (the check then runs for web01, and no daemon runs here: no match),
# removing it turns them off, and a link the package leaves dangling is
# skipped by ssh.
plain=/usr/share/libvirt-ssh-proxy/plain-names.conf
link=/etc/ssh/ssh_config.d/90-libvirt-ssh-proxy-plain-names.conf
grep -q "exec \"$helper plain-name " "$plain" || fail "$plain does not run $helper plain-name"
[ -e "$link" ] && fail "the package turned plain names on: $link"
ssh -T -F /etc/ssh/ssh_config -G web01 | grep -q "^proxycommand" && fail "ssh -G web01 has a ProxyCommand before plain names are on"
ln -s "$plain" "$link"
ssh -T -F /etc/ssh/ssh_config -G -v web01 2>&1 | grep -q "Executing command: '$helper plain-name" || fail "ssh -G web01 with plain names on does not run the check"
rm "$link"
[ "$(man -w libvirt-ssh-proxy)" = /usr/share/man/man1/libvirt-ssh-proxy.1.gz ] || fail "man -w: $(man -w libvirt-ssh-proxy)"
MANWIDTH=80 man libvirt-ssh-proxy 2>&1 | grep -q "$helper" || fail "the installed manual does not name $helper"
for f in /usr/share/bash-completion/completions/libvirt-ssh-proxy /etc/bash_completion.d/libvirt-ssh-proxy \
  /usr/share/zsh/vendor-completions/_libvirt-ssh-proxy; do
  grep -q "$helper" "$f" || fail "$f does not name $helper"
done
[ "$(dpkg-query -W -f='${Conffiles}' "$HOST" | awk '{print $1}' | sort | tr '\n' ' ')" = \
  "/etc/bash_completion.d/libvirt-ssh-proxy /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf " ] || fail "conffiles"

step "remove (conffiles stay), purge"
dpkg -r "$HOST" >/dev/null
[ -e "$helper" ] && fail "dpkg -r left $helper"
[ -e /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf ] || fail "dpkg -r removed the drop-in, a conffile"
dpkg --purge "$HOST" >/dev/null
[ -e /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf ] && fail "dpkg --purge left the drop-in"
ln -s "$plain" "$link"
out=$(ssh -T -F /etc/ssh/ssh_config -G web01 2>&1) || fail "ssh -G with a dangling plain-names link: $out"
rm "$link"

step "install $GUEST"
dpkg -i "$gdeb" >/dev/null
unit=/usr/lib/systemd/system/libvirt-sshd-vsock.socket
[ -f "$unit" ] || fail "$unit missing"
[ -L /etc/systemd/system/sockets.target.wants/libvirt-sshd-vsock.socket ] || fail "the preset did not enable libvirt-sshd-vsock.socket"
out=$(systemd-analyze verify --man=no "$unit" /usr/lib/systemd/system/libvirt-sshd-vsock@.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
dpkg --purge "$GUEST" >/dev/null
[ -e /etc/systemd/system/sockets.target.wants/libvirt-sshd-vsock.socket ] && fail "purge left the socket enabled"

step "nothing left behind"
snapshot > "$work/after"
diff "$work/before" "$work/after" || fail "the file lists before install and after purge differ"

step "replace libvirt's own libvirt-ssh-proxy"
# A stand-in for the distribution's package: same name, same drop-in.
fake=$work/fake
mkdir -p "$fake/DEBIAN" "$fake/etc/ssh/ssh_config.d" "$fake/usr/lib/libvirt"
printf 'Package: %s\nVersion: 11.3.0-1\nArchitecture: all\nMaintainer: test <t@example.org>\nDescription: stand-in\n' "$FAKE" > "$fake/DEBIAN/control"
echo /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf > "$fake/DEBIAN/conffiles"
printf 'Host qemu/*\n    ProxyCommand /usr/lib/libvirt/libvirt-ssh-proxy %%h %%p\n' > "$fake/etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf"
printf '#!/bin/sh\nexit 1\n' > "$fake/usr/lib/libvirt/libvirt-ssh-proxy"
chmod 755 "$fake/usr/lib/libvirt/libvirt-ssh-proxy"
dpkg-deb --root-owner-group -b "$fake" "$work/fake.deb" >/dev/null
dpkg -i "$work/fake.deb" >/dev/null
dpkg -i "$deb" >/dev/null 2>&1 || fail "dpkg -i $HOST over $FAKE"
dpkg -s "$FAKE" 2>/dev/null | grep -q '^Status: install ok installed' && fail "$FAKE is still installed"
grep -q "$helper" /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf || fail "the drop-in is not ours after the takeover"
[ "$(readlink /usr/lib/libvirt/libvirt-ssh-proxy)" = ../../bin/libvirt-ssh-proxy ] ||
  fail "after the takeover /usr/lib/libvirt/libvirt-ssh-proxy is not our link: $(ls -ld /usr/lib/libvirt/libvirt-ssh-proxy)"
dpkg --purge "$HOST" "$FAKE" >/dev/null

step "make install and the package refuse each other"
# Both write the drop-in and the bash file in /etc; each refuses, before it
# changes anything, to take over what the other installed.
prefix=$work/prefix
snapshot > "$work/before"
make --no-print-directory install PREFIX="$prefix" >/dev/null || fail "make install PREFIX=$prefix"
made=$(cat /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf)
grep -q "ProxyCommand $prefix/bin/libvirt-ssh-proxy" <<<"$made" || fail "make install's drop-in: $made"
out=$(dpkg -i "$deb" 2>&1) && fail "dpkg -i over make install's files succeeded"
grep -q "libvirt-ssh-proxy-go: /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf belongs to no package (make install wrote it?): run 'sudo make uninstall'" <<<"$out" ||
  fail "dpkg -i over make install's files: $out"
[ "$(cat /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf)" = "$made" ] || fail "the refused dpkg -i changed the drop-in"
[ -e "$helper" ] && fail "the refused dpkg -i installed $helper"
dpkg --purge "$HOST" >/dev/null 2>&1 || true
make --no-print-directory uninstall PREFIX="$prefix" >/dev/null || fail "make uninstall PREFIX=$prefix"
rm -rf "$prefix"
snapshot > "$work/after"
diff "$work/before" "$work/after" || fail "make install, the refused dpkg -i and make uninstall left files behind"
dpkg -i "$deb" >/dev/null
out=$(make --no-print-directory install PREFIX="$prefix" 2>&1) && fail "make install over the package's files succeeded"
grep -q "^make: /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf belongs to the package $HOST: remove it first" <<<"$out" ||
  fail "make install over the package: $out"
[ -e "$prefix" ] && fail "the refused make install wrote $prefix"
grep -q "$helper" /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf || fail "the refused make install changed the drop-in"
dpkg --purge "$HOST" >/dev/null

steps=$((steps + 1))
echo "packaging/test.sh: OK"
echo "package-test: $steps passed, 0 failed"

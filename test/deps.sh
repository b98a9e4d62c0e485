#!/bin/sh
# test/deps.sh: the Debian packages the tests need, in one place, by set.
#
#   test/deps.sh SET...          make sure every package of the SETs is installed:
#                                as root with apt, apt-get update and install what
#                                is missing; otherwise stop at once (exit 1) with
#                                the exact command that installs it
#   test/deps.sh --list SET...   print the SETs' packages, one line, and exit
#
# Sets (make check uses all of them; .ci/run and test/vm/run.sh use theirs):
#   build        make, git and TLS roots for the Go module proxy
#   unit         the manual's render test (man, groff); gcc for go test -race
#   integration  private libvirtd, sshd and OpenSSH clients, rsync, socat,
#                bash-completion, zsh, systemd-analyze, gdb; other clients of
#                the helper: libssh (built with gcc) and paramiko
#   package      the package test: rpm, cpio, systemd-analyze, ssh -G, man
#   vm           the nested-VM rig: QEMU, a static busybox, xz and readelf for
#                the kernel it fetches with apt-get download (which needs the
#                apt lists: they are updated when the kernel package is unknown)
#   vm-stock     the rig's tier 3 on top of vm: mmdebstrap builds its stock Debian
#                rootfs, mke2fs (e2fsprogs) makes it a disk image
#   bench        /usr/bin/time for the RSS benchmark
# Go itself is not a Debian package here (Debian 12's is too old): see README.md.
set -eu

pkgs() {
	case $1 in
	build) echo make git ca-certificates ;;
	unit) echo man-db groff-base gcc libc6-dev ;;
	integration) echo libvirt-daemon libvirt-clients openssh-server openssh-client rsync socat \
		bash-completion zsh systemd man-db groff-base gdb gcc libc6-dev pkg-config libssh-dev \
		python3-paramiko ;;
	package) echo rpm cpio systemd openssh-client man-db groff-base ;;
	vm) echo qemu-system-x86 busybox-static socat openssh-server openssh-client libvirt-daemon \
		libvirt-clients rsync xz-utils binutils ;;
	vm-stock) echo mmdebstrap e2fsprogs ;;
	bench) echo time ;;
	*)
		echo "test/deps.sh: unknown set '$1' (want build, unit, integration, package, vm, vm-stock or bench)" >&2
		exit 2
		;;
	esac
}

list=
if [ "${1:-}" = --list ]; then
	list=1
	shift
fi
[ $# -gt 0 ] || {
	echo "usage: test/deps.sh [--list] SET..." >&2
	exit 2
}
want=
vm=
for s in "$@"; do
	want="$want $(pkgs "$s")"
	[ "$s" != vm ] || vm=1
done
want=$(printf '%s\n' $want | sort -u | tr '\n' ' ')
want=${want% }
if [ -n "$list" ]; then
	echo "$want"
	exit 0
fi

command -v dpkg-query >/dev/null || {
	echo "test/deps.sh: no dpkg-query: the tests are set up for Debian; install the equivalents of: $want" >&2
	exit 1
}
missing=
for p in $want; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing="$missing $p"
done
missing=${missing# }
# The VM rig asks apt which kernel linux-image-amd64 means and downloads it:
# without the apt lists (a fresh machine) it cannot.
lists=
if [ -n "$vm" ] && [ -z "${VM_KERNEL_DIR:-}" ] &&
	! apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-[0-9]'; then
	lists=1
fi
[ -n "$missing$lists" ] || exit 0

cmd="apt-get update"
[ -z "$missing" ] || cmd="$cmd && apt-get install -y --no-install-recommends $missing"
why=
[ -z "$missing" ] || why="missing packages: $missing"
[ -z "$lists" ] || why="${why:+$why; }the apt lists do not know linux-image-amd64 (the VM tier's kernel)"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	echo "test/deps.sh: $why; run as root: $cmd" >&2
	exit 1
fi
echo "test/deps.sh: $why; running: $cmd"
export DEBIAN_FRONTEND=noninteractive
apt-get update
[ -z "$missing" ] || apt-get install -y --no-install-recommends $missing

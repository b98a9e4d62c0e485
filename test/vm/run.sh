#!/bin/bash
# Nested-VM test rig for libvirt-ssh-proxy: real AF_VSOCK end to end.
#
#   test/vm/run.sh tier1    L1 guest (QEMU TCG) with vsock_loopback; ssh/scp/sftp/rsync
#                           through the helper to sshd on vsock CID 1 (~1.5 min)
#   test/vm/run.sh tier2    L1 guest with vhost_vsock running an L2 guest at CID 3,
#                           a private libvirtd (test driver) and the qemu/NAME forms (~4 min)
#   test/vm/run.sh bench    L1 as in tier1; test/bench -vsock: the helper's relay vs socat vs
#                           the socket itself over vsock loopback, then prints its table
#   test/vm/run.sh tier3    the real stack: L1 = stock Debian 13 booted with systemd, libvirt's
#                           QEMU driver starting L2 guests with auto CIDs, libvirt's own C helper
#                           side by side; the product installed by `make install` (~15 min)
#
# The outer host never touches AF_VSOCK: it only builds, boots QEMU and reads the
# results the guest writes into the shared work directory (virtio-9p, read-write).
# See test/vm/README.md for requirements and knobs (VM_* environment variables).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/guest/sshd-config.sh"
TIER=${1:-}
case $TIER in
  tier1|bench) TOTAL=${VM_TIMEOUT:-420} ;;
  tier2) TOTAL=${VM_TIMEOUT:-1200} ;;
  tier3) TOTAL=${VM_TIMEOUT:-3600} ;;
  *) echo "usage: $0 tier1|tier2|tier3|bench" >&2; exit 2 ;;
esac
# bytes each way per relay run, sized for TCG (see test/vm/README.md)
VM_BENCH_SIZE=${VM_BENCH_SIZE:-134217728}
case $VM_BENCH_SIZE in
  ''|*[!0-9]*) echo "VM_BENCH_SIZE: bytes, not '$VM_BENCH_SIZE'" >&2; exit 2 ;;
esac

# paths given relative to the caller's directory
[ -z "${VM_HELPER:-}" ] || VM_HELPER=$(realpath "$VM_HELPER")
[ -z "${VM_DROPIN:-}" ] || VM_DROPIN=$(realpath "$VM_DROPIN")
[ -z "${VM_GUEST_SCRIPT:-}" ] || VM_GUEST_SCRIPT=$(realpath "$VM_GUEST_SCRIPT")

START=$EPOCHREALTIME
DEADLINE=$(( ${START%.*} + TOTAL ))
W=$(mktemp -d "${TMPDIR:-/tmp}/lsp-vm.XXXXXX") || exit 1
chmod 755 "$W"
LOG=$W/log
mkdir -p "$LOG/steps" "$LOG/checks" "$LOG/guest" "$W/results" "$W/bin" "$W/ssh" "$W/data" "$W/guest"
QPID=
VPID=
TAILPID=
FAILED=
STEPS=()

remaining() { local r=$(( DEADLINE - $(date +%s) )); [ $r -gt 1 ] && echo $r || echo 1; }
# tmo CMD...: run CMD under what is left of the overall time budget
tmo() { timeout -k 5 "$(remaining)" "$@"; }
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
say() { echo "vm-$TIER: $*" >&2; }

dump_logs() {
  local f
  say "---- logs in $LOG ----"
  for f in "$LOG"/steps/*.log "$LOG"/guest/*.log "$LOG"/console-*.log "$LOG"/checks/*.log; do
    [ -s "$f" ] || continue
    echo "======== ${f#"$W"/} (last 150 lines) ========" >&2
    tail -n 150 "$f" | tr -d '\r' >&2
  done
  say "---- end of logs; everything is kept in $W ----"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "${TAILPID:-}" ] || kill "$TAILPID" 2>/dev/null
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
    kill -TERM "$QPID" 2>/dev/null
    # qemu exits on SIGTERM at once; wait for it (bounded)
    for _ in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
  fi
  # idlevsock ends with QEMU's connection; this is for a QEMU that never connected
  if [ -n "$VPID" ]; then kill "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null; fi
  if [ -n "$FAILED" ] || [ $rc -ne 0 ]; then
    dump_logs
    say "FAILED ($FAILED) after $(secs "$START") s"
    [ $rc -ne 0 ] || rc=1
  elif [ -z "${VM_KEEP:-}" ]; then
    rm -rf "$W"
  else
    say "work dir kept: $W"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'FAILED="${FAILED:+$FAILED, }interrupted"; exit 130' INT TERM

# step NAME FUNCTION: run FUNCTION (errexit on) with its output in $LOG/steps/NAME.log
step() {
  local name=$1 fn=$2 t0=$EPOCHREALTIME rc
  ( set -e; "$fn" ) > "$LOG/steps/$name.log" 2>&1
  rc=$?
  STEPS+=("$name $(secs "$t0")")
  if [ $rc -ne 0 ]; then
    FAILED="step $name (rc=$rc)"
    exit 1
  fi
}

# ---------------------------------------------------------------- steps

install_deps() {
  # everything the rig runs, host and guest side, and the apt lists the kernel
  # fetch needs: installed as root with apt, else the command to run
  if [ "$TIER" = tier3 ]; then tmo "$ROOT/test/deps.sh" vm vm-stock; else tmo "$ROOT/test/deps.sh" vm; fi
}

KERNEL_PKG= KERNEL_VER= KDIR=
resolve_kernel() {
  if [ -n "${VM_KERNEL_DIR:-}" ]; then KDIR=$VM_KERNEL_DIR; return; fi
  KERNEL_PKG=${VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
  [ -n "$KERNEL_PKG" ] || { say "cannot resolve the kernel package (apt-cache depends linux-image-amd64); set VM_KERNEL_DIR"; exit 1; }
  KERNEL_VER=$(apt-cache show --no-all-versions "$KERNEL_PKG" 2>/dev/null | awk '/^Version:/{print $2; exit}')
  [ -n "$KERNEL_VER" ] || { say "no candidate version for $KERNEL_PKG"; exit 1; }
  local cache=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libvirt-ssh-proxy}
  KDIR=$cache/kernel-${KERNEL_PKG#linux-image-}_$KERNEL_VER
}

# the modules extracted into the kernel cache; a cache made with an older list
# lacks KDIR/ok-$KLAYOUT and is extracted again
KLAYOUT=2

fetch_kernel() {
  # cached per kernel package version; a run that finds $KDIR/ok-$KLAYOUT re-uses it
  local cache tmp deb z off
  cache=$(dirname "$KDIR"); mkdir -p "$cache"
  exec 9> "$cache/.lock"; tmo flock 9
  if [ -f "$KDIR/ok-$KLAYOUT" ]; then echo "cached: $KDIR"; return 0; fi
  tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cd "$tmp"
  tmo apt-get download "$KERNEL_PKG=$KERNEL_VER"
  deb=$(ls ./*.deb)
  dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './boot/vmlinuz-*' \
    './lib/modules/*/kernel/net/vmw_vsock/*' './lib/modules/*/kernel/drivers/vhost/*' \
    './lib/modules/*/kernel/net/9p/*' './lib/modules/*/kernel/fs/9p/*' './lib/modules/*/kernel/fs/netfs/*' \
    './lib/modules/*/kernel/fs/fscache/*' './lib/modules/*/kernel/drivers/virtio/*' \
    './lib/modules/*/kernel/drivers/net/virtio_net.ko' './lib/modules/*/kernel/drivers/net/net_failover.ko' \
    './lib/modules/*/kernel/net/core/failover.ko'
  rm -f "$deb"
  # ELF vmlinux for PVH boot: skips the in-guest decompression (seconds under TCG,
  # ~30x that under nested TCG)
  z=$(ls boot/vmlinuz-*)
  off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$z" | sed -n 1p | cut -d: -f1)
  tail -c +$((off + 1)) "$z" | xz -dc 2>/dev/null > boot/vmlinux || true  # xz: trailing garbage
  readelf -n boot/vmlinux | grep -q 0x00000012 || { echo "vmlinux has no PVH note"; exit 1; }
  echo "$KERNEL_PKG $KERNEL_VER" > version
  touch "ok-$KLAYOUT"
  cd /; rm -rf "$KDIR"; mv "$tmp" "$KDIR"; trap - EXIT
  echo "extracted into $KDIR"
}

# ---- tier 3's L1: a stock Debian rootfs, cached by the files in test/vm/rootfs/

SUITE=${VM_SUITE:-trixie}
ROOTFS=
resolve_rootfs() {
  local cache=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libvirt-ssh-proxy} key
  key=$( { echo "$SUITE"; cat "$HERE"/rootfs/*; } | sha256sum | cut -c1-16)
  ROOTFS=$cache/rootfs-$SUITE-$key
}

# the Debian archive this machine's apt uses (its main suite, not -security)
debian_mirror() {
  local cn
  cn=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  apt-get indextargets --format '$(REPO_URI)' "Codename: $cn" 'Label: Debian' 'Identifier: Packages' 2>/dev/null |
    sed -n 1p
}

fetch_rootfs() {
  # built once per package list (the key in $ROOTFS's name); concurrent runs wait on the lock
  local cache tmp mirror pkgs try ok=
  cache=$(dirname "$ROOTFS"); mkdir -p "$cache"
  exec 8> "$cache/.rootfs.lock"; tmo flock 8
  if [ -f "$ROOTFS/ok" ]; then echo "cached: $ROOTFS"; cat "$ROOTFS/built"; return 0; fi
  mirror=${VM_MIRROR:-$(debian_mirror)}
  mirror=${mirror:-http://deb.debian.org/debian}
  pkgs=$(sed 's/#.*//' "$HERE/rootfs/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
  tmp=$(mktemp -d "$cache/.tmp.rootfs.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "building the $SUITE rootfs from $mirror: $pkgs"
  for try in 1 2 3; do
    rm -rf "$tmp/root"
    if tmo mmdebstrap --variant=apt --aptopt='Acquire::Retries "5"' --include="$pkgs" \
      "$SUITE" "$tmp/root" "$mirror"; then ok=1; break; fi
    echo "mmdebstrap failed (try $try of 3)"; sleep $((try * 15))
  done
  [ -n "$ok" ] || { echo "cannot build the $SUITE rootfs from $mirror (set VM_MIRROR?)"; exit 1; }
  local r=$tmp/root
  install -m 0755 "$HERE/rootfs/lsp-rig" "$r/usr/local/sbin/lsp-rig"
  install -m 0644 "$HERE/rootfs/lsp-rig.service" "$r/etc/systemd/system/lsp-rig.service"
  ln -s ../lsp-rig.service "$r/etc/systemd/system/multi-user.target.wants/lsp-rig.service"
  echo l1 > "$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 l1\n' > "$r/etc/hosts"
  local kver
  kver=$(cd "$r/boot" && ls vmlinuz-*)
  cp "$r/boot/$kver" "$tmp/vmlinuz"; cp "$r"/boot/initrd.img-* "$tmp/initrd.img"
  chroot "$r" dpkg-query -W -f '${Package} ${Version}\n' > "$tmp/packages.txt"
  du -sh "$r"
  mke2fs -q -t ext4 -L l1root -d "$r" "$tmp/disk.img" 4G
  rm -rf "$r"
  echo "$SUITE from $mirror on $(date -u +%F), $(wc -l < "$tmp/packages.txt") packages, $kver" > "$tmp/built"
  grep -E '^(libvirt-daemon|libvirt-ssh-proxy|qemu-system-x86|systemd|openssh-server|linux-image-[0-9]) ' "$tmp/packages.txt" >> "$tmp/built"
  touch "$tmp/ok"
  rm -rf "$ROOTFS"; mv "$tmp" "$ROOTFS"; trap - EXIT
  cat "$ROOTFS/built"
}

build() {
  cd "$ROOT"
  if [ -n "${VM_HELPER:-}" ]; then
    cp "$VM_HELPER" "$W/bin/libvirt-ssh-proxy"
    echo "helper: $VM_HELPER"
  elif [ -d cmd/libvirt-ssh-proxy ]; then
    tmo go build -o "$W/bin/libvirt-ssh-proxy" ./cmd/libvirt-ssh-proxy
    echo "helper: built from ./cmd/libvirt-ssh-proxy"
  else
    echo "no helper: ./cmd/libvirt-ssh-proxy does not exist and VM_HELPER is unset"; exit 1
  fi
  CGO_ENABLED=0 tmo go build -o "$W/bin/vsockrig" ./test/vm/vsockrig
  if [ "$TIER" = tier3 ]; then
    # L1 installs the product the way a user does: its .debs (`make deb`)
    tmo packaging/build.sh deb "$W/pkg"
    ls -la "$W/pkg"
    # runs here, next to L1's QEMU (not in $W/bin, which the guests copy), under
    # the AF_VSOCK guard: nofsock -k kills it if it ever created a vsock socket
    CGO_ENABLED=0 tmo go build -o "$W/host/idlevsock" ./test/vm/idlevsock
    CGO_ENABLED=0 tmo go build -o "$W/host/nofsock" ./test/nofsock
  fi
  if [ "$TIER" = bench ]; then
    # prebuilt: the guest has no fast compiler; the guest script reads the size from a file
    CGO_ENABLED=0 tmo go build -tags integration -o "$W/bin/bench" ./test/bench
    echo "$VM_BENCH_SIZE" > "$W/guest/bench-size"
  fi
  local dropin=${VM_DROPIN:-$ROOT/config/30-libvirt-ssh-proxy.conf}
  [ -f "$dropin" ] || { echo "no drop-in template $dropin (set VM_DROPIN)"; exit 1; }
  # the guest substitutes @BINDIR@ (it runs the helper from its own tmpfs)
  cp "$dropin" "$W/guest/30-libvirt-ssh-proxy.conf.in"
  echo "drop-in: $dropin"; cat "$dropin"
  cp "$HERE"/guest/*.sh "$HERE"/guest/*.xml "$W/guest/"
  # debugging aid: run another guest script in place of the tier's
  [ -z "${VM_GUEST_SCRIPT:-}" ] || cp "$VM_GUEST_SCRIPT" "$W/guest/$TIER.sh"
  ls -la "$W/bin"
}

setup() {
  cd "$W/ssh"
  ssh-keygen -q -t ed25519 -N '' -C rig-host -f hostkey
  ssh-keygen -q -t ed25519 -N '' -C rig-client -f id_ed25519
  cp id_ed25519.pub authorized_keys
  # every rig host name, any port: the guest sshd must present this key
  echo "* $(cat hostkey.pub)" > known_hosts
  chmod 600 hostkey id_ed25519
  cd "$W/data"
  case $TIER in
    tier1)
      head -c 64M /dev/urandom > big     # scp, sftp, rsync: 64 MiB each way
      head -c 8M /dev/urandom > mid ;;   # half-close checks
    tier2|tier3) head -c 1M /dev/urandom > big ;;  # nested TCG: keep it small
  esac
  for f in big mid; do [ ! -f $f ] || sha256sum $f | cut -d' ' -f1 > $f.sha256; done
  if [ "$TIER" = tier3 ]; then
    mk_l2_initrd
    cp "$KDIR/boot/vmlinux" "$W/vmlinux"
    echo "$L1_CID" > "$W/guest/l1-cid"
    return 0
  fi
  mk_l1_initrd
  if [ "$TIER" = tier2 ]; then
    mk_l2_initrd
    # L1 boots L2 with the same kernel (the cache dir is not visible inside L1)
    ln -f "$KDIR/boot/vmlinux" "$W/vmlinux" 2>/dev/null || cp "$KDIR/boot/vmlinux" "$W/vmlinux"
  fi
}

kmods() { # kmods ROOTDIR MOD...: copy modules (paths relative to .../kernel, no .ko) + load order
  local r=$1 m km; shift
  km=$(ls -d "$KDIR"/lib/modules/*/kernel)
  mkdir -p "$r/mod"
  for m in "$@"; do cp "$km/$m.ko" "$r/mod/"; echo "${m##*/}" >> "$r/mod/order"; done
}

VIRTIO="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
 drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci"
VSOCK="net/vmw_vsock/vsock net/vmw_vsock/vmw_vsock_virtio_transport_common"

mk_l1_initrd() {
  local r=$W/l1root a
  mkdir -p "$r"/{bin,proc,sys,dev,mnt/host}
  cp /bin/busybox "$r/bin/"
  for a in sh mount umount insmod poweroff cat mkdir chroot ip cut sync; do ln -s busybox "$r/bin/$a"; done
  # shellcheck disable=SC2086
  kmods "$r" $VIRTIO fs/netfs/netfs fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p $VSOCK
  if [ "$TIER" != tier2 ]; then
    kmods "$r" net/vmw_vsock/vsock_loopback
  else
    # a vhost-vsock host (local CID 2); vmw_vsock_virtio_transport must NOT be loaded
    kmods "$r" drivers/vhost/vhost_iotlb drivers/vhost/vhost drivers/vhost/vhost_vsock net/vmw_vsock/vsock_loopback
  fi
  local gt=$(( $(remaining) - 20 ))
  cat > "$r/init" <<EOI
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in \$(cat /mod/order); do insmod /mod/\$m.ko || echo "L1: insmod \$m failed"; done
H=/mnt/host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot \$H || { echo "L1: 9p root mount failed"; poweroff -f; }
mount -t tmpfs -o size=80% tmp \$H/tmp; mount -t tmpfs run \$H/run; mkdir -p \$H/run/sshd
# an empty root home: the host's dotfiles (.bashrc, .ssh/) must not leak into the tests
mount -t tmpfs roothome \$H/root
mkdir -p \$H$W; mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share \$H$W || { echo "L1: 9p share mount failed"; poweroff -f; }
mount -t proc proc \$H/proc; mount -t sysfs sys \$H/sys; mount -t devtmpfs dev \$H/dev
mkdir -p \$H/dev/pts; mount -t devpts devpts \$H/dev/pts
ip link set lo up
echo "L1: init done at \$(cut -d' ' -f1 /proc/uptime)"
chroot \$H /usr/bin/timeout -k 5 $gt /bin/bash $W/guest/$TIER.sh $W
rc=\$?
echo "GUEST-EXIT: \$rc"
echo \$rc > \$H$W/results/.exit
sync
poweroff -f
EOI
  chmod +x "$r/init"
  (cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null) > "$W/l1-initrd.cpio"
  ls -la "$W/l1-initrd.cpio"
}

mk_l2_initrd() {
  # L2: busybox, the virtio/vsock guest modules, vsockrig, and this machine's own
  # sshd, sftp-server and rsync with their shared libraries
  local r=$W/l2root a l b
  mkdir -p "$r"/{bin,sbin,proc,sys,dev,etc/ssh,run/sshd,root,tmp,usr/sbin,usr/bin,usr/lib/openssh}
  cp /bin/busybox "$r/bin/"
  for a in $(busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  # shellcheck disable=SC2086
  kmods "$r" $VIRTIO drivers/virtio/virtio_mmio $VSOCK net/vmw_vsock/vmw_vsock_virtio_transport
  # tier 3's IP-fallback guest: a virtio NIC on libvirt's NAT network, DHCP by udhcpc
  # shellcheck disable=SC2086
  [ "$TIER" != tier3 ] || kmods "$r" net/core/failover drivers/net/net_failover drivers/net/virtio_net
  cp "$HERE/guest/udhcpc.script" "$r/bin/udhcpc.script"
  cp "$W/bin/vsockrig" "$r/bin/vsockrig"
  for b in /usr/sbin/sshd /usr/lib/openssh/sftp-server /usr/bin/rsync; do
    cp "$b" "$r$b"
    for l in $(ldd "$b" | awk '/=>/{print $3} /ld-linux/{print $1}'); do
      mkdir -p "$r$(dirname "$l")"; cp -Ln "$l" "$r$(dirname "$l")/"
    done
  done
  cp "$W/ssh/hostkey" "$r/etc/ssh/hostkey"; chmod 600 "$r/etc/ssh/hostkey"
  cp "$W/ssh/authorized_keys" "$r/etc/ssh/authorized_keys"
  sshd_config "$r/etc/ssh/sshd_config" /etc/ssh RIG_GUEST=l2
  printf 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  cp "$HERE/guest/l2-init" "$r/init"; chmod +x "$r/init"
  (cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null) > "$W/l2-initrd.cpio"
  ls -la "$W/l2-initrd.cpio"
}

# tier 3: L1's own CID, from its idle vhost-user-vsock device (idlevsock). Far
# above the CIDs libvirt picks for L2 guests (3, 4, 5, ...): vhost_vsock refuses
# an L2 guest the CID of L1's own guest transport.
L1_CID=1000

# start_idlevsock: the back end of L1's vhost-user-vsock device, which gives L1
# a guest transport and CID 1000 and carries nothing (see test/vm/idlevsock);
# its socket path appears once it listens
start_idlevsock() {
  local sock=$1 i
  "$W/host/nofsock" -k -- "$W/host/idlevsock" -cid "$L1_CID" "$sock" > "$LOG/steps/idlevsock.log" 2>&1 &
  VPID=$!
  for i in $(seq 200); do
    [ ! -S "$sock" ] || return 0
    kill -0 "$VPID" 2>/dev/null || break
    sleep 0.05
  done
  FAILED="idlevsock did not listen on $sock (see $LOG/steps/idlevsock.log)"
  exit 1
}

# boot_l1: run L1 (QEMU TCG) until it powers off, booting the tier's disk or
# initramfs; the shared work dir is its only link to this machine
boot_l1() {
  local mem=3072 what boot
  [ "$TIER" = tier1 ] || [ "$TIER" = bench ] || mem=4096
  if [ "$TIER" = tier3 ]; then
    # the stock rootfs on a virtio disk, its own kernel and initramfs, systemd as
    # PID 1 (lsp-rig.service in the image runs the tier's script), no network.
    # No KVM in L1 (its guests are TCG, type='qemu'): TCG's max CPU offers SVM,
    # kvm_amd would load, libvirt's QEMU would probe KVM_CREATE_VM, KVM's first
    # VM turns on the preempt-notifier static key, the kernel patches
    # __schedule with int3 while the other vCPU runs it, and multi-threaded
    # TCG can execute the stale int3: an Oops in __schedule under
    # kvm_dev_ioctl, twice on 2026-12-05 (60 s and 2038 s into tier 3).
    # (-cpu max,svm=off instead left L1's systemd unable to mount anything.)
    what="Debian $SUITE with systemd"
    boot=(-kernel "$ROOTFS/vmlinuz" -initrd "$ROOTFS/initrd.img" -nic none
      -drive "file=$ROOTFS/disk.img,if=virtio,format=raw,snapshot=on,cache=unsafe"
      -append "root=/dev/vda rw console=ttyS0 quiet panic=-1 module_blacklist=kvm_amd,kvm_intel libvirt-ssh-proxy.rig=l1 libvirt-ssh-proxy.share=$W libvirt-ssh-proxy.tier=$TIER libvirt-ssh-proxy.budget=$(( $(remaining) - 30 ))")
    # a virtio-vsock device, so that L1 is a vsock guest too (what
    # systemd-ssh-generator wants): vhost-user, as this machine has no
    # /dev/vhost-vsock; vhost-user hands the back end L1's memory, so it must be
    # shareable (a memfd), or QEMU refuses to start the device
    start_idlevsock "$W/idlevsock.sock"
    boot+=(-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" -machine memory-backend=mem
      -chardev "socket,id=vsock,path=$W/idlevsock.sock" -device vhost-user-vsock-pci,chardev=vsock)
  else
    # a busybox initramfs that chroots into this machine's root (read-only 9p)
    what="the rig's kernel and initramfs"
    boot=(-kernel "$KDIR/boot/vmlinux" -initrd "$W/l1-initrd.cpio"
      -append "console=ttyS0 quiet panic=-1 rdinit=/init libvirt-ssh-proxy.rig=l1"
      -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=fs0)
  fi
  say "booting L1 ($what; QEMU TCG, $(remaining) s left of the ${TOTAL} s budget); console: $LOG/console-l1.log"
  if [ -n "${VM_VERBOSE:-}" ]; then tail -n +1 -F "$LOG/console-l1.log" 2>/dev/null >&2 & TAILPID=$!; fi
  # TMPDIR: where snapshot=on keeps L1's writes (the cached disk image stays untouched)
  TMPDIR=$W timeout -k 5 "$(remaining)" qemu-system-x86_64 -accel tcg,thread=multi -cpu "${VM_L1_CPU:-max}" \
    -smp "${VM_L1_SMP:-2}" -m "$mem" -display none -nodefaults -no-reboot \
    -serial "file:$LOG/console-l1.log" "${boot[@]}" \
    -virtfs "local,path=$W,mount_tag=share,security_model=none,multidevs=remap,id=fs1" \
    < /dev/null > "$LOG/steps/qemu-l1.log" 2>&1 &
  QPID=$!
  local t0=$EPOCHREALTIME rc
  wait "$QPID"; rc=$?
  QPID=
  [ -z "$TAILPID" ] || { kill "$TAILPID" 2>/dev/null; TAILPID=; }
  STEPS+=("guest $(secs "$t0")")
  echo "qemu exit status $rc" >> "$LOG/steps/qemu-l1.log"
  # L1's own kernel dying is the emulator's trouble, not the product's: say
  # so first (the int3 Oops of tier 3, before L1 lost KVM), the checks it
  # cut short show as MISSING
  if grep -qE 'Kernel panic|Oops:' "$LOG/console-l1.log"; then
    FAILED="L1's kernel crashed under QEMU TCG (not a product check; see $LOG/console-l1.log)"
  fi
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then FAILED="overall timeout (${TOTAL} s) while the guest ran"; fi
}

report() {
  local f st t name det n=0 bad=0 gexit
  gexit=$(cat "$W/results/.exit" 2>/dev/null || echo none)
  if [ "$gexit" = 124 ] || [ "$gexit" = 137 ]; then
    FAILED=${FAILED:-"overall timeout (${TOTAL} s): the guest script was stopped"}
  fi
  if [ ! -f "$W/results/.plan" ]; then
    FAILED=${FAILED:-"guest wrote no check plan (guest exit status: $gexit)"}
    return
  fi
  while read -r name; do
    [ -n "$name" ] || continue
    n=$((n + 1))
    f=$W/results/${name//\//_}
    if [ -f "$f" ]; then
      read -r st t det < "$f"
    else
      st=MISSING t=- det="(no result: the guest stopped before this check)"
    fi
    [ "$st" = PASS ] || bad=$((bad + 1))
    printf '%-7s %7ss  %-34s %s\n' "$st" "$t" "$name" "$det"
  done < "$W/results/.plan"
  echo "vm-$TIER: $((n - bad)) passed, $bad failed"
  if [ $bad -ne 0 ]; then FAILED=${FAILED:-"$bad of $n checks"}; fi
  if [ "$gexit" != 0 ] && [ -z "$FAILED" ]; then FAILED="guest script exit status $gexit"; fi
}

# ---------------------------------------------------------------- main

step deps install_deps
resolve_kernel
step kernel fetch_kernel
if [ "$TIER" = tier3 ]; then resolve_rootfs; step rootfs fetch_rootfs; fi
step build build
step setup setup
boot_l1
report
say "steps: ${STEPS[*]}"
if [ -n "$FAILED" ]; then exit 1; fi
# the table is the point of the bench mode (on failure dump_logs shows it)
if [ "$TIER" = bench ]; then tr -d '\r' < "$LOG/checks/bench_vsock-relay.log"; fi
say "PASS: all checks in $(secs "$START") s wall"

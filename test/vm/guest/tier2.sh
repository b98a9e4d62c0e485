#!/bin/bash
# Tier 2, inside L1 (vhost_vsock: L1 is a vsock host, local CID 2). L2 is a real
# QEMU guest at CID 3 running sshd on vsock port 22; a private libvirtd (test
# driver) describes it as domain "vm" with <cid auto='no' address='3'/>. The
# helper looks the domain up through libvirt and dials CID 3: no rewriting.
# usage (by test/vm/run.sh via the L1 init): tier2.sh WORKDIR
. "$(dirname "$0")/lib.sh"

plan t2/libvirtd t2/not-ready-paused t2/no-such-cid t2/not-running t2/no-vsock-device \
  t2/not-ready-booting t2/l2-up t2/port-2222 \
  t2/ssh-qemu/vm-fdpass t2/ssh-qemu/vm-relay t2/scp-qemu%vm-upload t2/rsync-qemu%vm-download

say "tier2: kernel $(uname -r), $(nproc) cpus, local vsock CID $($RIG cid), $(ls /dev/vhost-vsock)"
LV=$O/lv
mkdir -p "$LV/run" "$LV/nodrivers"
cp "$W/guest/tier2-host.xml" "$LV/host.xml"
U="test+unix://$LV/host.xml?socket=$LV/run/libvirt-sock"
cat > "$LV/libvirtd.conf" <<EOC
listen_tls = 0
listen_tcp = 0
unix_sock_dir = "$LV/run"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:stderr"
EOC
# an empty driver dir: only the built-in test driver (see recipes/private-libvirtd.md)
bg libvirtd env LIBVIRT_DRIVER_DIR="$LV/nodrivers" HOME="$LV" XDG_RUNTIME_DIR="$LV" \
  XDG_CONFIG_HOME="$LV" XDG_CACHE_HOME="$LV" libvirtd -f "$LV/libvirtd.conf" -p "$LV/libvirtd.pid"

# the drop-in unchanged; the helper finds the private daemon through
# LIBVIRT_SSH_PROXY_CONNECT (ssh passes its environment to the ProxyCommand)
export LIBVIRT_SSH_PROXY_CONNECT=$U
{ echo "Include $DROPIN"; echo; ssh_common; } > "$CFG"

# L2: microvm + vhost-vsock-device at CID 3, started paused (-S): its CID is
# registered with vhost_vsock at once, but no guest driver answers yet
cp "$W/vmlinux" "$O/vmlinux" && cp "$W/l2-initrd.cpio" "$O/l2-initrd.cpio"
MON=$O/l2-monitor.sock
TSCKHZ=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
# microvm has no HPET/PM timer: under nested TCG the kernel hangs calibrating the
# TSC unless its rate is given
L2APPEND="console=ttyS0 quiet panic=-1 rdinit=/init libvirt-ssh-proxy.rig=l2 tsc_early_khz=$TSCKHZ tsc=reliable
 cryptomgr.notests=1 initcall_blacklist=init_kprobe_trace,crypto_kdf108_init,load_system_certificate_list"
bg qemu-l2 qemu-system-x86_64 -M microvm,acpi=on -accel tcg -smp 1 -m 256 -display none -nodefaults \
  -no-reboot -S -monitor "unix:$MON,server=on,wait=off" -serial "file:$W/log/console-l2.log" \
  -kernel "$O/vmlinux" -initrd "$O/l2-initrd.cpio" -append "$(echo $L2APPEND)" \
  -device vhost-vsock-device,guest-cid=3
hmp() { printf '%s\n' "$@" | timeout 20 socat -t 5 - "UNIX-CONNECT:$MON"; }

c_libvirtd() {
  wait_for "libvirtd answering" 60 virsh -c "$U" version
  virsh -c "$U" list --all | tee "$O/list"
  grep -Eq ' vm +running' "$O/list"
  grep -Eq ' stopped +shut off' "$O/list"
  virsh -c "$U" dumpxml vm | grep -A2 '<vsock'
  echo "resolve (--connect):"; timeout 60 "$HELPER" resolve --connect "$U" qemu/vm 22 | tee "$O/resolve"
  grep -q '^vsock: *cid 3 port 22' "$O/resolve" || { echo "MISMATCH: qemu/vm does not resolve to CID 3"; return 1; }
  echo "resolve (LIBVIRT_SSH_PROXY_CONNECT):"; timeout 60 "$HELPER" resolve qemu%vm 22 | tee "$O/resolve2"
  grep -q '^vsock: *cid 3 port 22' "$O/resolve2" || { echo "MISMATCH: qemu%vm does not resolve to CID 3"; return 1; }
  detail "resolve qemu/vm: $(grep '^vsock:' "$O/resolve")"
}

# the guest's QEMU holds CID 3 (dials get ETIMEDOUT rather than ENODEV)
l2_registered() { timeout 120 "$RIG" wait -registered 3 22 100; }

c_not_ready() {
  want_fail "not ready" sshc root@qemu/vm true
  want_helper_exit 10 "not ready" qemu/vm 22
}

check t2/libvirtd c_libvirtd
l2_registered || say "L2 never registered CID 3"
check t2/not-ready-paused c_not_ready
check t2/no-such-cid eval 'want_fail "no VM" sshc root@qemu/ghost true &&
  want_helper_exit 11 "no VM" qemu/ghost 22'
check t2/not-running eval 'want_fail "not running" sshc root@qemu/stopped true &&
  want_helper_exit 5 "not running" qemu/stopped 22'
check t2/no-vsock-device eval 'want_fail "no vsock device" sshc root@qemu%novsock true &&
  want_helper_exit 6 "no vsock device" qemu%novsock 22'

hmp cont > "$GL/hmp-cont.log" 2>&1
wait_for "L2 running" 30 eval 'hmp "info status" | grep -q "status: running"'
T_CONT=$EPOCHREALTIME
check t2/not-ready-booting c_not_ready

c_l2_up() {
  timeout 900 "$RIG" wait 3 1024 840
  detail "L2 answered $(secs "$T_CONT") s after it was resumed"
}
check t2/l2-up c_l2_up

check t2/port-2222 eval 'want_fail "nothing listening on vsock port 2222" sshc -p 2222 root@qemu/vm true &&
  want_helper_exit 8 "nothing listening on vsock port 2222" qemu/vm 2222'

SHA=$(cat "$W/data/big.sha256")
REPORT="echo \"guest=\$RIG_GUEST user=\$(id -un) kernel=\$(uname -r)\""

# one login, several checks: upload with half-close, remote SHA-256, who answered
c_fdpass() {
  local out
  out=$(SSH_TIMEOUT=300 sshc root@qemu/vm "cat > /tmp/up && sha256sum < /tmp/up && $REPORT && ls /usr/lib/openssh/sftp-server" < "$W/data/big" 2> "$O/$CHECK.err")
  printf '%s\n' "$out"
  want "remote sha256" "$(printf '%s\n' "$out" | sed -n '1s/ .*//p')" "$SHA"
  want "remote report" "$(printf '%s\n' "$out" | sed -n 2p)" "guest=l2 user=root kernel=$(uname -r)"
  quiet "$O/$CHECK.err"
}

c_relay() {
  local out
  out=$(cat "$W/data/big" | SSH_TIMEOUT=300 sshc -o ProxyUseFdpass=no root@qemu/vm "wc -c && $REPORT" 2> "$O/$CHECK.err")
  printf '%s\n' "$out"
  want "remote byte count" "$(printf '%s\n' "$out" | sed -n '1p' | tr -d ' ')" "$(stat -c %s "$W/data/big")"
  want "remote report" "$(printf '%s\n' "$out" | sed -n 2p)" "guest=l2 user=root kernel=$(uname -r)"
  quiet "$O/$CHECK.err"
}

c_scp() { timeout 300 scp -F "$CFG" -q "$W/data/big" "root@qemu%vm:/tmp/scp.up"; }

# downloads what scp uploaded: equal SHA-256 verifies both
c_rsync() {
  timeout 300 rsync -e "ssh -F $CFG" "root@qemu%vm:/tmp/scp.up" "$O/rsync.down"
  want_sha "rsync download of the scp upload" "$O/rsync.down"
}

# the first three sessions at once (each is latency-bound), then the download
pcheck t2/ssh-qemu/vm-fdpass c_fdpass
pcheck t2/ssh-qemu/vm-relay c_relay
pcheck t2/scp-qemu%vm-upload c_scp
pwait
check t2/rsync-qemu%vm-download c_rsync

hmp quit > /dev/null 2>&1
say "tier2 done"

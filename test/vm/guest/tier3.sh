#!/bin/bash
# Tier 3, inside L1: a stock Debian 13 hypervisor booted with systemd (the rootfs
# test/vm/run.sh builds from test/vm/rootfs/). libvirt's QEMU driver starts the L2
# guests (TCG, vhost-vsock, <cid auto='yes'/>); the product is installed from its
# .deb and driven by plain ssh through its drop-in, as root and as the
# unprivileged user alice, next to libvirt's own C helper.
# usage (by lsp-rig.service in L1): tier3.sh WORKDIR
. "$(dirname "$0")/lib.sh"

plan t3/stack t3/guests-boot \
  t3/1-system/root-qemu/vm-fdpass t3/1-system/root-qemu:system/vm-relay t3/1-system/root-scp-qemu%vm \
  t3/1-system/root-qemu/UUID t3/1-system/root-qemu/ID t3/1-system/root-qemu/Mixed-Case \
  t3/1-system/alice-qemu/vm t3/1-system/alice-scp-qemu%Mixed-Case t3/1-system/alice-qemu/ID-relay \
  t3/1-system/modular-sockets \
  t3/2-session/alice-qemu/sess t3/2-session/alice-qemu:session/sess t3/2-session/idle-timeout \
  t3/2-session/daemon-gone \
  t3/3-life/shut-off t3/3-life/no-vsock t3/3-life/paused t3/3-life/restart-new-cid-wait \
  t3/4-ip/fallback t3/5-guest/generator t3/5-guest/guest-deb \
  t3/6-c-helper/logins t3/6-c-helper/handoff-time \
  t3/7-plain-names/names t3/8-rpc/auth-and-calls

say "tier3: kernel $(uname -r), $(nproc) cpus, systemd $(systemctl --version | awk 'NR==1{print $2}')"

# ---------------------------------------------------------------- setup
# libvirt's C helper, kept aside: its package and ours both own the drop-in, so
# installing ours replaces it (Conflicts/Replaces), as it would for a user
C_HELPER=/usr/local/lib/c-helper/libvirt-ssh-proxy
install -D /usr/lib/libvirt/libvirt-ssh-proxy "$C_HELPER"
cp /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf "$GL/c-helper-dropin.conf"
# the product as a user installs it: its .deb (make deb)
dpkg -i "$W"/pkg/libvirt-ssh-proxy-go_*.deb > "$GL/dpkg-host.log" 2>&1 || say "dpkg -i failed: $(tail -n 3 "$GL/dpkg-host.log")"
HELPER=$(ssh -G qemu/x | awk '$1 == "proxycommand" {print $2; exit}')
ALICE=alice
# in group kvm, as the distro wants users who run their own guests: /dev/vhost-vsock
# (like /dev/kvm) is root:kvm 0660, so a session guest with a vsock device needs it
useradd -m -s /bin/bash -G kvm "$ALICE"
AH=/home/$ALICE
# one client key and known_hosts for root and alice: L2's host key and L1's own
# (for alice@localhost and vsock/1, which is L1's stock sshd)
for h in /root "$AH"; do
  mkdir -p "$h/.ssh"
  cp "$W/ssh/id_ed25519" "$W/ssh/authorized_keys" "$h/.ssh/"
  { echo "* $(cat "$W/ssh/hostkey.pub")"; echo "* $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)"; } > "$h/.ssh/known_hosts"
  # the client options of every tier, with the user's own key files and no User
  ssh_common | sed -e "s#$W/ssh/id_ed25519#$h/.ssh/id_ed25519#" -e "s#$W/ssh/known_hosts#$h/.ssh/known_hosts#" \
    -e '/^  User root$/d' > "$h/.ssh/config"
  chmod 700 "$h/.ssh"; chmod 600 "$h/.ssh/id_ed25519"
done
chown -R "$ALICE:$ALICE" "$AH/.ssh"
SHA=$(cat "$W/data/big.sha256")
# what each login runs in the guest: the upload's SHA-256, then who answered
# shellcheck disable=SC2016
REMOTE='sha256sum && echo "guest=$RIG_GUEST user=$(id -un)"'

# as_alice CMD: run CMD in a real login session of alice's (ssh to L1's own sshd:
# pam_systemd gives her XDG_RUNTIME_DIR, as a user has it), with no environment of ours
as_alice() { timeout "${SSH_TIMEOUT:-600}" ssh -o User="$ALICE" localhost "$@"; }
# sshr ARGS: root's ssh, the system config and drop-in as installed
sshr() { timeout "${SSH_TIMEOUT:-600}" ssh "$@"; }

# the L2 kernel and initramfs (tier 2's) where libvirt's QEMU may read them
B=/var/lib/libvirt/boot
mkdir -p "$B" "$AH/l2"
cp "$W/vmlinux" "$W/l2-initrd.cpio" "$B/"
cp "$W/vmlinux" "$W/l2-initrd.cpio" "$AH/l2/"
chown -R "$ALICE:$ALICE" "$AH/l2"

# L2 kernel options that save minutes under nested TCG: L1's TSC rate instead of a
# calibration, no IO-APIC timer check, no crypto self-tests or certificate loading
L2FAST="tsc_early_khz=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo) tsc=reliable no_timer_check
 cryptomgr.notests=1 initcall_blacklist=init_kprobe_trace,crypto_kdf108_init,load_system_certificate_list"
L2FAST=$(echo $L2FAST)

# domxml NAME KIND DIR: a TCG domain; KIND vsock (auto CID) | nic (libvirt's
# default network, no vsock) | bare (no kernel: SeaBIOS finds nothing to boot and
# idles, no vsock) | bare-vsock (the same, holding an auto CID)
domxml() {
  local name=$1 kind=$2 dir=$3 os dev= dhcp=
  # nic's DHCP client names it otherwise than its domain: the plain-names
  # check reaches it by that lease hostname
  [ "$kind" != nic ] || dhcp=" libvirt-ssh-proxy.dhcp-hostname=$NIC_HOSTNAME"
  os="<type arch='x86_64' machine='pc'>hvm</type>"
  case $kind in
    bare*) os="$os<boot dev='hd'/>" ;;
    *) os="$os<kernel>$dir/vmlinux</kernel><initrd>$dir/l2-initrd.cpio</initrd>
      <cmdline>console=ttyS0 quiet panic=-1 rdinit=/init libvirt-ssh-proxy.rig=l2 libvirt-ssh-proxy.guest=$name$dhcp $L2FAST</cmdline>" ;;
  esac
  case $kind in
    vsock | bare-vsock) dev="<vsock model='virtio'><cid auto='yes'/></vsock>" ;;
    nic) dev="<interface type='network'><source network='default'/><model type='virtio'/></interface>" ;;
  esac
  cat <<EOX
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os>$os</os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$dir/$name.console'/></serial>
    $dev
    <memballoon model='none'/>
  </devices>
</domain>
EOX
}

V="virsh -c qemu:///system"
NIC_HOSTNAME=nicbox
cid_of() { $V dumpxml "$1" | sed -n "s/.*<cid auto='yes' address='\([0-9]*\)'.*/\1/p"; }
# up CID: L2's vsock listener answers its readiness banner (the boot is over)
up() { timeout 1300 "$RIG" wait "$1" 1024 1200; }

T_START=$EPOCHREALTIME
for d in vm:vsock Mixed-Case:vsock nic:nic novsock:bare off:vsock holder:bare-vsock; do
  domxml "${d%%:*}" "${d#*:}" "$B" > "$O/${d%%:*}.xml"
  $V define "$O/${d%%:*}.xml" > /dev/null
done
$V net-start default > "$GL/net-start.log" 2>&1 || say "net-start default failed: $(cat "$GL/net-start.log")"
domxml sess vsock "$AH/l2" > "$AH/l2/sess.xml"
chown "$ALICE:$ALICE" "$AH/l2/sess.xml"
# L2 guests boot in parallel; the session one under alice's own session daemon,
# which her first virsh spawns
bg start-vm $V start vm
bg start-mixed $V start Mixed-Case
bg start-nic $V start nic
bg start-novsock $V start novsock
bg start-sess as_alice "virsh -c qemu:///session define l2/sess.xml && virsh -c qemu:///session start sess"
for p in "${BG[@]}"; do wait "$p"; done
BG=()
# the L2 consoles, copied where the host prints them on failure
# (and what runs, and libvirt's log of each system domain: its QEMU command line)
bg consoles bash -c "while :; do for f in $B/*.console $AH/l2/*.console; do [ ! -f \"\$f\" ] || tr -d '\\r' < \"\$f\" > $GL/l2-\$(basename \"\$f\" .console).log; done; ps -eo pid,user,pcpu,time,args --sort=-pcpu | cut -c1-400 | head -n 12 > $GL/ps.log; cp /var/log/libvirt/qemu/*.log $GL/ 2>/dev/null; sleep 15; done"


c_stack() {
  cat "$GL"/start-*.log
  $V list --all
  as_alice virsh -c qemu:///session list --all
  dpkg-query -W libvirt-daemon-system libvirt-ssh-proxy qemu-system-x86 openssh-server systemd dnsmasq-base
  ls -la /run/libvirt/ /dev/vhost-vsock /dev/vsock
  systemctl list-units --no-legend 'libvirtd*' 'virt*' 'sshd*' 'ssh*'
  echo "helper: $HELPER"; "$HELPER" --version
  ssh -G qemu/vm | grep -E '^(proxycommand|proxyusefdpass) '
  local c
  for d in vm Mixed-Case; do
    c=$(cid_of "$d"); echo "$d: auto CID $c"; [ "${c:-0}" -ge 3 ]
  done
  detail "$(dpkg-query -W -f '${Package} ${Version}; ' libvirt-daemon-system qemu-system-x86 systemd) CIDs vm=$(cid_of vm) Mixed-Case=$(cid_of Mixed-Case)"
}
check t3/stack c_stack

# ---------------------------------------------------------------- while L2 boots
c_shut_off() {
  want_fail "not running" sshr root@qemu/off true
  want_helper_exit 5 "not running" qemu/off 22
  local rc=0 err
  err=$(as_alice "$HELPER" --relay qemu/off 22 2>&1 < /dev/null) || rc=$?
  echo "alice: rc=$rc $err"
  want "alice's exit status" "$rc" 5
}
check t3/3-life/shut-off c_shut_off

c_no_vsock() {
  want_fail "no vsock device" sshr root@qemu/novsock true
  want_helper_exit 6 "no vsock device" qemu/novsock 22
  # done with it: its idle firmware would take CPU from the guests still booting
  # (the four system guests share machine.slice's one CPU weight; alice's session
  # guest, in her user slice, gets as much as all of them)
  $V destroy novsock
}
check t3/3-life/no-vsock c_no_vsock

# check 5, the stock guest side. systemd >= 256 puts sshd on vsock::22 in a VM that
# has a local CID (a guest transport). L1 is a vsock host for its L2 guests
# (vhost_vsock) and a vsock guest too: run.sh gives it a virtio-vsock device through
# vhost-user (test/vm/idlevsock: an idle device that carries nothing), so its local
# CID is $L1_CID and systemd-ssh-generator makes sshd-vsock.socket at boot, with no
# unit of ours. vsock/1 (vsock_loopback) reaches L1's stock sshd through it. With
# both transports, CID 1 and L1's own go over loopback, 2 and below to the idle
# device (a connect there times out), 3 and up to the L2 guests: no check dials 2.
L1_CID=$(cat "$W/guest/l1-cid")
GEN=/run/systemd/generator/sshd-vsock.socket
# vsock1_login: ssh root@vsock/1 through the installed drop-in, L1's sshd answers
vsock1_login() {
  local out
  out=$(sshr root@vsock/1 'echo "user=$(id -un) host=$(hostname)"' 2> "$O/$CHECK.err")
  echo "$out"
  want "vsock/1 login" "$out" "user=root host=l1"
  quiet "$O/$CHECK.err"
}
# vsock_listeners PORT: how many sockets listen on vsock PORT (any CID)
vsock_listeners() {
  ss -Hl --vsock > "$O/$CHECK.listen"
  cat "$O/$CHECK.listen" >&2
  awk -v p=":$1" '{for (i = 1; i <= NF; i++) if ($i ~ p"$") {n++; break}} END {print n + 0}' "$O/$CHECK.listen"
}
c_generator() {
  systemd-detect-virt || true
  want "L1's local CID" "$("$RIG" cid)" "$L1_CID"
  # it logs only a failure (at boot and at every daemon-reload)
  journalctl -b --no-pager -o short-monotonic -t systemd-ssh-generator || true
  if [ ! -e "$GEN" ]; then echo "MISMATCH: systemd-ssh-generator made no $GEN"; return 1; fi
  ls -l /run/systemd/generator/ /run/systemd/generator/sockets.target.wants/
  systemctl cat sshd-vsock.socket 'sshd-vsock@.service' || true
  want "sshd-vsock.socket" "$(systemctl is-active sshd-vsock.socket)" active
  if dpkg-query -W libvirt-ssh-proxy-guest 2> /dev/null || systemctl cat libvirt-sshd-vsock.socket > /dev/null 2>&1; then
    echo "MISMATCH: a unit of ours is installed"; return 1
  fi
  want "vsock listeners on port 22" "$(vsock_listeners 22)" 1
  # the client's way to CID 1: vsock_loopback (without it CID 1 would go to the idle device)
  lsmod | grep -E '^(vsock|vmw_vsock|vhost_vsock)' || true
  modprobe vsock_loopback
  vsock1_login
  detail "systemd $(systemctl --version | awk 'NR==1{print $2}') made sshd-vsock.socket at boot (L1's CID $L1_CID, vhost-user device); vsock/1 logs in to L1's stock sshd through it, no unit of ours"
}
check t3/5-guest/generator c_generator

# our guest package under systemd >= 256: installed and enabled, its socket stands
# aside (its ConditionPathExists names the generator's unit), purged clean
c_guest_deb() {
  local deb
  deb=$(ls "$W"/pkg/libvirt-ssh-proxy-guest_*_all.deb)
  dpkg -i "$deb"
  systemctl status --no-pager libvirt-sshd-vsock.socket || true
  systemctl is-enabled libvirt-sshd-vsock.socket
  want "our socket" "$(systemctl show -P ActiveState libvirt-sshd-vsock.socket) condition=$(systemctl show -P ConditionResult libvirt-sshd-vsock.socket)" "inactive condition=no"
  want "the generator's socket" "$(systemctl is-active sshd-vsock.socket)" active
  want "vsock listeners on port 22" "$(vsock_listeners 22)" 1
  vsock1_login
  dpkg --purge libvirt-ssh-proxy-guest
  if systemctl cat libvirt-sshd-vsock.socket > /dev/null 2>&1; then echo "MISMATCH: unit left after purge"; return 1; fi
  if ls /etc/systemd/system/sockets.target.wants/libvirt-sshd-vsock.socket 2> /dev/null; then echo "MISMATCH: enable link left"; return 1; fi
  want "vsock listeners on port 22 after purge (the generator's)" "$(vsock_listeners 22)" 1
  vsock1_login
  detail "installed and enabled, ours stood aside (condition failed, inactive), one listener on port 22, vsock/1 logs in; purged clean"
}
pcheck t3/5-guest/guest-deb c_guest_deb

c_boot() {
  local d c
  for d in vm Mixed-Case; do
    c=$(cid_of "$d")
    up "$c"
    echo "$d up (CID $c) $(secs "$T_START") s after the starts"
  done
  c=$(as_alice virsh -c qemu:///session dumpxml sess | sed -n "s/.*<cid auto='yes' address='\([0-9]*\)'.*/\1/p")
  echo "sess: CID $c"
  up "$c"
  detail "vm, Mixed-Case, sess up $(secs "$T_START") s after virsh start (in parallel; sess CID $c)"
}
check t3/guests-boot c_boot

# ---------------------------------------------------------------- logins
# login WHO HOST [SSH OPTS...]: one session; upload with half-close, SHA-256 in the
# guest, who answered; stderr silent
login() {
  local who=$1 host=$2 want_guest=$3 out rc=0
  shift 3
  if [ "$who" = root ]; then
    out=$(sshr "$@" "root@$host" "$REMOTE" < "$W/data/big" 2> "$O/$CHECK.err") || rc=$?
  else
    out=$(as_alice "ssh $* root@$host $(printf %q "$REMOTE")" < "$W/data/big" 2> "$O/$CHECK.err") || rc=$?
  fi
  if [ $rc -ne 0 ]; then
    echo "MISMATCH: ssh root@$host as $who: exit $rc; stderr:"; sed 's/^/  | /' "$O/$CHECK.err"
    detail "ssh root@$host as $who: exit $rc: $(head -c 200 "$O/$CHECK.err")"
    return 1
  fi
  printf '%s\n' "$out"
  want "remote sha256" "$(printf '%s\n' "$out" | sed -n '1s/ .*//p')" "$SHA"
  want "remote report" "$(printf '%s\n' "$out" | sed -n 2p)" "guest=$want_guest user=root"
  quiet "$O/$CHECK.err"
}

c_scp() {
  local who=$1 host=$2
  if [ "$who" = root ]; then
    timeout 600 scp -q "$W/data/big" "root@$host:/tmp/scp.up"
    timeout 600 scp -q "root@$host:/tmp/scp.up" "$O/$CHECK.down"
  else
    as_alice "cp $W/data/big /tmp/alice.big && scp -q /tmp/alice.big root@$host:/tmp/scp.up && scp -q root@$host:/tmp/scp.up /tmp/alice.down"
    cp /tmp/alice.down "$O/$CHECK.down"
  fi
  want_sha "scp up and down" "$O/$CHECK.down"
}

UUID=$($V domuuid vm)
ID=$($V domid vm)
pcheck t3/1-system/root-qemu/vm-fdpass login root qemu/vm vm
pcheck t3/1-system/root-qemu:system/vm-relay login root qemu:system/vm vm -o ProxyUseFdpass=no
pcheck t3/1-system/root-scp-qemu%vm c_scp root qemu%vm
pcheck t3/1-system/root-qemu/Mixed-Case login root qemu/Mixed-Case Mixed-Case
pcheck t3/1-system/alice-scp-qemu%Mixed-Case c_scp alice qemu%Mixed-Case
pwait
pcheck t3/1-system/root-qemu/UUID login root "qemu/$UUID" vm
pcheck t3/1-system/root-qemu/ID login root "qemu/$ID" vm
pcheck t3/1-system/alice-qemu/vm login alice qemu/vm vm
pcheck t3/1-system/alice-qemu/ID-relay login alice "qemu/$($V domid Mixed-Case)" Mixed-Case -o ProxyUseFdpass=no
pcheck t3/2-session/alice-qemu/sess login alice qemu/sess sess
pwait
pcheck t3/2-session/alice-qemu:session/sess login alice qemu:session/sess sess

# ---------------------------------------------------------------- check 4: IP fallback
c_ip() {
  local ip
  wait_for "nic's DHCP lease" 900 grep -q ip-address /var/lib/libvirt/dnsmasq/virbr0.status
  cat /var/lib/libvirt/dnsmasq/virbr0.status /var/lib/libvirt/dnsmasq/virbr0.macs || true
  $V net-dhcp-leases default
  ip=$(sed -n 's/.*"ip-address": *"\([0-9.]*\)".*/\1/p' /var/lib/libvirt/dnsmasq/virbr0.status | head -n 1)
  wait_for "nic's sshd on $ip:22" 900 timeout 5 bash -c "exec 3<>/dev/tcp/$ip/22"
  "$HELPER" resolve qemu/nic 22 | tee "$O/$CHECK.resolve"
  grep -q "$ip" "$O/$CHECK.resolve"
  login root qemu/nic nic
  detail "$(tr '\n' ' ' < "$O/$CHECK.resolve" | head -c 200)"
}
pcheck t3/4-ip/fallback c_ip

# ---------------------------------------------------------------- check 6: libvirt's C helper
# the same lowercase name through both, fd passing (ssh's ProxyUseFdpass)
c_c_logins() {
  login root qemu/vm vm -o "ProxyCommand=$C_HELPER %h %p"
  login root qemu/vm vm
}
c_handoff() {
  local i a b
  : > "$O/ours"; : > "$O/theirs"
  for i in $(seq 21); do  # the first run of each warms the page cache and is dropped
    # --fdpass: what ssh's ProxyUseFdpass gets; the helper checks that ssh is the
    # socket's other end before passing the fd by itself, and vsockrig is not ssh
    a=$(timeout 120 "$RIG" handoff "$HELPER" --fdpass qemu/vm 22) || { echo "ours failed: $a"; return 1; }
    b=$(timeout 120 "$RIG" handoff "$C_HELPER" qemu/vm 22) || { echo "libvirt's failed: $b"; return 1; }
    echo "run $i: ours $a | libvirt's $b"
    [ "$i" = 1 ] && continue
    echo "${a%% *}" >> "$O/ours"; echo "${b%% *}" >> "$O/theirs"
  done
  a=$(sort -n "$O/ours" | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
  b=$(sort -n "$O/theirs" | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
  echo "median exec -> fd handed over: ours $a ms, libvirt's $b ms (20 interleaved runs each)"
  detail "exec->fd median of 20: ours $a ms, libvirt's C helper $b ms, ratio $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}')"
  # where the two differ on the same input (recorded in this check's log)
  local h
  for h in qemu/off qemu/novsock qemu/nosuch qemu/Mixed-Case qemu/mixed-case qemu/nic; do
    a=0; b=$(timeout 60 "$HELPER" "$h" 22 2>&1 < /dev/null > /dev/null) || a=$?
    echo "DIFF $h ours: exit $a: $b"
    a=0; b=$(timeout 60 "$C_HELPER" "$h" 22 2>&1 < /dev/null > /dev/null) || a=$?
    echo "DIFF $h libvirt's: exit $a: $b"
  done
}

# ---------------------------------------------------------------- check 2: the session daemon
# libvirt's client spawned alice's session daemon (libvirtd --timeout=120: trixie has no
# virtqemud); shorten its idle timeout and let it pass with her guest running
sess_pid() { pgrep -u "$ALICE" -x libvirtd; }
c_session_idle() {
  local pid
  pid=$(sess_pid); ps -o pid,args -p "$pid"
  as_alice virt-admin -c libvirtd:///session daemon-timeout --timeout 5
  sleep 15  # the idle timeout passing is the point
  ps -o pid,args -p "$pid" || { echo "the session daemon exited with a guest running"; }
  login alice qemu/sess sess
  if kill -0 "$pid"; then detail "idle timeout 5 s passed 15 s ago: the daemon (pid $pid) stays while a guest runs; ssh works"; else detail "daemon exited; ssh still works"; fi
}

c_session_gone() {
  local pid rc=0 err
  pid=$(sess_pid)
  ls -la "/run/user/$(id -u "$ALICE")/libvirt/"
  kill -KILL "$pid"
  wait_for "session daemon gone" 30 bash -c "! kill -0 $pid"
  ls -la "/run/user/$(id -u "$ALICE")/libvirt/" || true
  err=$(as_alice "$HELPER --relay qemu:session/sess 22" 2>&1 < /dev/null) || rc=$?
  echo "rc=$rc: $err"
  detail "daemon killed: exit $rc: $err"
  # libvirt's own way back: its client spawns the daemon again, which finds the guest
  as_alice virsh -c qemu:///session list
  login alice qemu:session/sess sess
  printf '%s\n' "$err" | grep -q 'virsh -c qemu:///session'
}

# ---------------------------------------------------------------- check 1: the modular layout
# trixie ships only the monolithic libvirtd; Fedora's modular layout puts the same
# protocol on virtqemud's sockets. Move libvirtd's own socket units to those paths
# (the daemon takes them by name from systemd) and let both rules find them.
layout() {
  systemctl stop libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket
  if [ "$1" = modular ]; then
    mkdir -p /etc/systemd/system/libvirtd.socket.d /etc/systemd/system/libvirtd-ro.socket.d
    printf '[Socket]\nListenStream=\nListenStream=/run/libvirt/virtqemud-sock\n' > /etc/systemd/system/libvirtd.socket.d/modular.conf
    printf '[Socket]\nListenStream=\nListenStream=/run/libvirt/virtqemud-sock-ro\n' > /etc/systemd/system/libvirtd-ro.socket.d/modular.conf
  else
    rm -rf /etc/systemd/system/libvirtd.socket.d /etc/systemd/system/libvirtd-ro.socket.d
  fi
  systemctl daemon-reload
  systemctl start libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket
  ls -la /run/libvirt/
}
c_modular() {
  layout modular
  [ -S /run/libvirt/virtqemud-sock-ro ] && [ ! -e /run/libvirt/libvirt-sock-ro ]
  # the first connection starts the daemon (socket activation), which reconnects
  # to the running guests first: under TCG that takes longer than the helper's
  # default --timeout 5s, so this one gets more, and says how long it took
  local t0=$EPOCHREALTIME
  "$HELPER" -v --timeout 300 resolve qemu/vm 22
  COLD=$(secs "$t0")
  echo "cold start of the socket-activated daemon: $COLD s"
  "$HELPER" -v resolve qemu/vm 22 2>&1 | tee "$O/$CHECK.root"
  grep -q 'at /run/libvirt/virtqemud-sock-ro' "$O/$CHECK.root"
  as_alice "$HELPER -v resolve qemu/Mixed-Case 22" 2>&1 | tee "$O/$CHECK.alice"
  grep -q 'at /run/libvirt/virtqemud-sock-ro' "$O/$CHECK.alice"
  login root qemu/vm vm
  login alice qemu:system/Mixed-Case Mixed-Case
  layout default
  [ -S /run/libvirt/libvirt-sock-ro ]
  "$HELPER" -v --timeout 300 resolve qemu/vm 22 2>&1 | grep 'at /run/libvirt/libvirt-sock-ro'
  detail "virtqemud-sock-ro found by root and alice, both logged in (the daemon's socket-activated cold start: $COLD s); back on libvirt-sock-ro"
}

# ---------------------------------------------------------------- check 3: lifecycle
c_paused() {
  $V suspend Mixed-Case
  want_fail "paused" sshr root@qemu/Mixed-Case true
  want_helper_exit 5 "paused" qemu/Mixed-Case 22
  $V resume Mixed-Case
}

# destroyed and started again while another domain holds its old CID: libvirt picks
# a new one, and ssh with --wait gets in as soon as the new guest's sshd answers
c_restart() {
  local old new t0
  old=$(cid_of Mixed-Case)
  $V destroy Mixed-Case
  $V start --paused holder
  echo "holder took CID $(cid_of holder)"
  t0=$EPOCHREALTIME
  $V start Mixed-Case
  new=$(cid_of Mixed-Case)
  echo "Mixed-Case: CID $old -> $new"
  [ "$new" != "$old" ]
  login root qemu/Mixed-Case Mixed-Case -o "ProxyCommand=$HELPER --wait=15m '%n' %p"
  local took; took=$(secs "$t0")
  $V destroy holder
  detail "CID $old -> $new; ssh --wait logged in $took s after virsh start"
}

pwait
pcheck t3/6-c-helper/logins c_c_logins
pcheck t3/2-session/idle-timeout c_session_idle
pwait
check t3/6-c-helper/handoff-time c_handoff
check t3/2-session/daemon-gone c_session_gone
check t3/1-system/modular-sockets c_modular
check t3/3-life/paused c_paused
check t3/3-life/restart-new-cid-wait c_restart

# ---------------------------------------------------------------- the libvirt conversation
# what trixie's read-only socket asks of root and of alice before it opens a
# connection (AUTH_LIST's answer; CONNECT_OPEN sent without it, and what the
# daemon logs of that), and the helper's calls with their times (-v): the
# real daemon's side of issue 14's round trips
c_rpc() {
  local since
  since=$(date '+%Y-%m-%d %H:%M:%S')
  "$RIG" rpc /run/libvirt/libvirt-sock-ro qemu:///system | tee "$O/$CHECK.root"
  as_alice "$RIG rpc /run/libvirt/libvirt-sock-ro qemu:///system" | tee "$O/$CHECK.alice"
  # what the helper's Open relies on (internal/libvirtrpc/open.go): the
  # socket refuses CONNECT_OPEN before AUTH_LIST, for root too (AUTH_LIST is
  # what authenticates root on a polkit socket), and alice is asked for polkit
  want "root: AUTH_LIST" "$(sed -n 's/^AUTH_LIST: \(\[[a-z ]*\]\) err=<nil>.*/\1/p' "$O/$CHECK.root")" "[none]"
  want "alice: AUTH_LIST" "$(sed -n 's/^AUTH_LIST: \(\[[a-z ]*\]\) err=<nil>.*/\1/p' "$O/$CHECK.alice")" "[polkit]"
  grep -q '^CONNECT_OPEN without AUTH_LIST: err=authentication required' "$O/$CHECK.root"
  grep -q '^CONNECT_OPEN without AUTH_LIST: err=authentication required' "$O/$CHECK.alice"
  sleep 1
  echo "libvirtd's journal since the probes:"
  journalctl -u libvirtd --since "$since" --no-pager -o cat | tee "$O/$CHECK.journal" || true
  "$HELPER" -v resolve qemu/vm 22 2>&1 > /dev/null | grep ': libvirt ' | tee "$O/$CHECK.calls-root"
  as_alice "$HELPER -v resolve qemu/vm 22" 2>&1 > /dev/null | grep ': libvirt ' | tee "$O/$CHECK.calls-alice"
  grep -q CONNECT_OPEN "$O/$CHECK.calls-root"
  grep -q CONNECT_OPEN "$O/$CHECK.calls-alice"
  detail "root: $(sed -n 1p "$O/$CHECK.root" | cut -c1-60); $(sed -n 2p "$O/$CHECK.root" | cut -c1-90) | alice: $(sed -n 1p "$O/$CHECK.alice" | cut -c1-60); $(sed -n 2p "$O/$CHECK.alice" | cut -c1-90) | daemon logged $(grep -c . "$O/$CHECK.journal" || true) lines"
}
check t3/8-rpc/auth-and-calls c_rpc

# ---------------------------------------------------------------- plain names (opt-in drop-in)
# turned on as the README says for the host package, then plain ssh by a
# running domain's name (over vsock) and by a guest's DHCP hostname from
# libvirt's own dnsmasq files (nic: no vsock, so the IP fallback); a host that
# is no domain goes ssh's way untouched; turned off again. Last, and alone:
# the link changes every ssh on L1 while it is there.
c_plain() {
  local link=/etc/ssh/ssh_config.d/90-libvirt-ssh-proxy-plain-names.conf off on row alice
  trap 'rm -f "$link"' EXIT
  off=$(ssh -G nosuchhost.example)
  ln -s /usr/share/libvirt-ssh-proxy/plain-names.conf "$link"
  on=$(ssh -G nosuchhost.example)
  want "ssh -G of a host that is no domain, plain names on = off" "$on" "$off"
  cat /var/lib/libvirt/dnsmasq/virbr0.status /var/lib/libvirt/dnsmasq/virbr0.macs
  login root vm vm
  login root "$NIC_HOSTNAME" nic
  login root Mixed-Case Mixed-Case
  # alice, not root: the system daemon's read-only socket asks her for
  # polkit, which under nested TCG can take longer than the drop-in's
  # --timeout 1 (a bound for a hung daemon); the rule itself must hold for
  # her, and the time her check took is recorded
  as_alice "$HELPER plain-name -v --timeout 60 Mixed-Case Mixed-Case" 2>&1 | tee "$O/$CHECK.alice"
  grep -q 'domain "Mixed-Case"' "$O/$CHECK.alice"
  cat > "$O/alice-plain.sh" <<EOS
s=\$EPOCHREALTIME
"$HELPER" plain-name --timeout 1 Mixed-Case Mixed-Case
awk -v r=\$? -v a=\$s -v b=\$EPOCHREALTIME 'BEGIN{printf "exit %d after %.2f s\\n", r, b-a}'
EOS
  cat "$O/alice-plain.sh"
  alice=$(as_alice "bash $O/alice-plain.sh")
  echo "alice, the drop-in's check: $alice"
  "$HELPER" doctor "$NIC_HOSTNAME" | tee "$O/$CHECK.doctor" || true
  grep -F "plain name $NIC_HOSTNAME: the guest hostname (DHCP lease) rule: domain \"nic\"" "$O/$CHECK.doctor"
  "$HELPER" list | tee "$O/$CHECK.list"
  row=$(awk '$1 == "vm" {print $(NF-1)}' "$O/$CHECK.list")
  want "list's PLAIN for vm" "$row" vm
  rm "$link"
  want "ssh -G vm, plain names off again" "$(ssh -G vm | awk '$1 == "proxycommand" && $2 != "none" {print $2}')" ""
  detail "on: vm over vsock, $NIC_HOSTNAME (nic's DHCP hostname) over the IP fallback, Mixed-Case; alice's check with the drop-in's --timeout 1: $alice; other hosts untouched; off"
}
check t3/7-plain-names/names c_plain

say "tier3 done"

#!/bin/bash
# Tier 1, inside L1 (vsock_loopback: CID 1 is this machine). The project's helper
# and drop-in, a real sshd behind vsock listeners on ports 22 and 2222.
# usage (by test/vm/run.sh via the L1 init): tier1.sh WORKDIR
. "$(dirname "$0")/lib.sh"

plan t1/ssh-config \
  t1/ssh-vsock/1-fdpass t1/ssh-vsock%1-fdpass t1/ssh-vsock/1-relay t1/ssh-vsock%1-relay \
  t1/ssh-port-2222-fdpass t1/ssh-port-2222-relay \
  t1/scp-64M t1/sftp-64M t1/rsync-64M \
  t1/halfclose-upload-fdpass t1/halfclose-upload-relay t1/halfclose-wc-fdpass t1/halfclose-wc-relay \
  t1/not-listening-ssh t1/not-listening-exit

say "tier1: kernel $(uname -r), $(nproc) cpus, local vsock CID $($RIG cid)"
sshd_config "$W/ssh/sshd_config_22" 22
sshd_config "$W/ssh/sshd_config_2222" 2222
bg vsockrig-22 "$RIG" serve -ready "$O/ready-22" 22 /usr/sbin/sshd -i -e -f "$W/ssh/sshd_config_22"
bg vsockrig-2222 "$RIG" serve -ready "$O/ready-2222" 2222 /usr/sbin/sshd -i -e -f "$W/ssh/sshd_config_2222"
{ echo "Include $W/ssh/30-libvirt-ssh-proxy.conf"; echo; ssh_common; } > "$CFG"
cp "$W/data/big" "$O/big"
SHA=$(cat "$W/data/big.sha256")
SIZE=$(stat -c %s "$O/big")
wait_for "vsock listener on port 22" 30 test -f "$O/ready-22" || exit 1
wait_for "vsock listener on port 2222" 30 test -f "$O/ready-2222" || exit 1

mode_opts() { if [ "$1" = relay ]; then echo "-o ProxyUseFdpass=no"; fi; }

c_config() {
  local h g
  for h in vsock/1 vsock%1; do
    g=$(ssh -F "$CFG" -G "root@$h")
    printf '%s\n' "$g" | grep -E '^(proxycommand|proxyusefdpass|checkhostip) '
    printf '%s\n' "$g" | grep -q "^proxycommand $BIN/libvirt-ssh-proxy .*%n.* %p" ||
      { echo "MISMATCH: $h: proxycommand is not the drop-in's (helper '%n' %p)"; return 1; }
    printf '%s\n' "$g" | grep -qx 'proxyusefdpass yes' || { echo "MISMATCH: $h: proxyusefdpass"; return 1; }
    printf '%s\n' "$g" | grep -qx 'checkhostip no' || { echo "MISMATCH: $h: checkhostip"; return 1; }
  done
}

# c_login MODE HOST PORT: a login with a command; the remote side reports which
# listener it came through and how many helper processes are alive (relay mode
# keeps the helper relaying; with fd passing it has exited)
c_login() {
  local mode=$1 host=$2 port=$3 n=0 out
  [ "$mode" = relay ] && n=1
  # shellcheck disable=SC2046
  out=$(sshc $(mode_opts "$mode") -p "$port" "root@$host" "echo \"\$RIG_PORT \$(id -un) helpers=\$($HELPERS_CMD)\"")
  want "remote answer" "$out" "$port root helpers=$n"
}

c_scp() {
  timeout 300 scp -F "$CFG" -q "$O/big" "root@vsock%1:$O/scp.up"
  want_sha upload "$O/scp.up"
  timeout 300 scp -F "$CFG" -q "root@vsock%1:$O/big" "$O/scp.down"
  want_sha download "$O/scp.down"
  rm -f "$O/scp.up" "$O/scp.down"
}

c_sftp() {
  printf 'put %s %s\nget %s %s\n' "$O/big" "$O/sftp.up" "$O/big" "$O/sftp.down" |
    timeout 300 sftp -F "$CFG" -b - "root@vsock%1"
  want_sha upload "$O/sftp.up"
  want_sha download "$O/sftp.down"
  rm -f "$O/sftp.up" "$O/sftp.down"
}

c_rsync() {
  timeout 300 rsync -e "ssh -F $CFG" "$O/big" "root@vsock%1:$O/rsync.up"
  want_sha upload "$O/rsync.up"
  timeout 300 rsync -e "ssh -F $CFG" "root@vsock%1:$O/big" "$O/rsync.down"
  want_sha download "$O/rsync.down"
  rm -f "$O/rsync.up" "$O/rsync.down"
}

# ssh host 'cat > f' < file: EOF must reach the remote side (half-close) while
# the other direction stays open for the answer
c_halfclose_upload() {
  local out
  # shellcheck disable=SC2046
  out=$(sshc $(mode_opts "$1") root@vsock/1 "cat > $O/hc.$1 && sha256sum < $O/hc.$1" < "$O/big")
  want "remote sha256" "${out%% *}" "$SHA"
  rm -f "$O/hc.$1"
}

c_halfclose_wc() {
  local out
  # shellcheck disable=SC2046
  out=$(cat "$O/big" | sshc $(mode_opts "$1") root@vsock/1 wc -c)
  want "remote byte count" "$out" "$SIZE"
}

check t1/ssh-config c_config
check t1/ssh-vsock/1-fdpass c_login fdpass vsock/1 22
check t1/ssh-vsock%1-fdpass c_login fdpass vsock%1 22
check t1/ssh-vsock/1-relay c_login relay vsock/1 22
check t1/ssh-vsock%1-relay c_login relay vsock%1 22
check t1/ssh-port-2222-fdpass c_login fdpass vsock/1 2222
check t1/ssh-port-2222-relay c_login relay vsock%1 2222
check t1/scp-64M c_scp
check t1/sftp-64M c_sftp
check t1/rsync-64M c_rsync
check t1/halfclose-upload-fdpass c_halfclose_upload fdpass
check t1/halfclose-upload-relay c_halfclose_upload relay
check t1/halfclose-wc-fdpass c_halfclose_wc fdpass
check t1/halfclose-wc-relay c_halfclose_wc relay
check t1/not-listening-ssh want_fail "nothing listening on vsock port 4444" sshc -p 4444 root@vsock/1 true
check t1/not-listening-exit want_helper_exit 8 "nothing listening on vsock port 4444" vsock/1 4444
say "tier1 done"

#!/bin/bash
# Tier 1, inside L1 (vsock_loopback: CID 1 is this machine). The project's helper
# and drop-in, a real sshd behind vsock listeners on ports 22 and 2222.
# usage (by test/vm/run.sh via the L1 init): tier1.sh WORKDIR
. "$(dirname "$0")/lib.sh"

plan t1/ssh-config \
  t1/ssh-vsock/1-fdpass-halfclose-upload t1/ssh-vsock%1-fdpass-halfclose-wc \
  t1/ssh-vsock/1-relay-halfclose-wc t1/ssh-vsock%1-relay-halfclose-upload \
  t1/ssh-port-2222 t1/not-listening-ssh t1/not-listening-exit \
  t1/scp-64M t1/sftp-64M t1/rsync-64M

say "tier1: kernel $(uname -r), $(nproc) cpus, local vsock CID $($RIG cid)"
sshd_config "$W/ssh/sshd_config_22" "$W/ssh" RIG_PORT=22
sshd_config "$W/ssh/sshd_config_2222" "$W/ssh" RIG_PORT=2222
bg vsockrig-22 "$RIG" serve -ready "$O/ready-22" 22 /usr/sbin/sshd -i -e -f "$W/ssh/sshd_config_22"
bg vsockrig-2222 "$RIG" serve -ready "$O/ready-2222" 2222 /usr/sbin/sshd -i -e -f "$W/ssh/sshd_config_2222"
{ echo "Include $DROPIN"; echo; ssh_common; } > "$CFG"
# the 64 MiB file pages in over 9p while the login checks run
cp "$W/data/big" "$O/big" & CPBIG=$!
cp "$W/data/mid" "$O/mid"
wait_for "vsock listener on port 22" 30 test -f "$O/ready-22" || exit 1
wait_for "vsock listener on port 2222" 30 test -f "$O/ready-2222" || exit 1

mode_opts() { if [ "$1" = relay ]; then echo "-o ProxyUseFdpass=no"; fi; }
nhelpers() { if [ "$1" = relay ]; then echo 1; else echo 0; fi; }

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

# ssh HOST 'cat > f && sha256sum f' < file: EOF (half-close) must reach the remote
# side while the other direction stays open for the answer
c_upload() { # MODE HOST
  local mode=$1 host=$2 out
  # shellcheck disable=SC2046
  out=$(sshc $(mode_opts "$mode") "root@$host" "cat > $O/hc.$CHECK && sha256sum < $O/hc.$CHECK && $(report_cmd)" < "$O/mid" 2> "$O/$CHECK.err")
  printf '%s\n' "$out"
  want "remote sha256" "$(printf '%s\n' "$out" | sed -n '1s/ .*//p')" "$(cat "$W/data/mid.sha256")"
  want "remote report" "$(printf '%s\n' "$out" | sed -n 2p)" "port=22 user=root helpers=$(nhelpers "$mode")"
  quiet "$O/$CHECK.err"
  rm -f "$O/hc.$CHECK"
}

# cat big | ssh HOST wc -c
c_wc() { # MODE HOST
  local mode=$1 host=$2 out
  # shellcheck disable=SC2046
  out=$(cat "$O/mid" | sshc $(mode_opts "$mode") "root@$host" "wc -c && $(report_cmd)" 2> "$O/$CHECK.err")
  printf '%s\n' "$out"
  want "remote byte count" "$(printf '%s\n' "$out" | sed -n 1p)" "$(stat -c %s "$O/mid")"
  want "remote report" "$(printf '%s\n' "$out" | sed -n 2p)" "port=22 user=root helpers=$(nhelpers "$mode")"
  quiet "$O/$CHECK.err"
}

c_port2222() {
  local out
  out=$(sshc -p 2222 root@vsock/1 "$(report_cmd)" 2> "$O/$CHECK.err")
  want "remote report" "$out" "port=2222 user=root helpers=0"
  quiet "$O/$CHECK.err"
}

SHA=$(cat "$W/data/big.sha256")

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

# two waves of concurrent checks: under TCG a session is largely latency-bound,
# so concurrent ones overlap (measured: three 64 MiB uploads at once take about
# half the time of the same three one after the other)
check t1/ssh-config c_config
pcheck t1/ssh-vsock/1-fdpass-halfclose-upload c_upload fdpass vsock/1
pcheck t1/ssh-vsock%1-fdpass-halfclose-wc c_wc fdpass vsock%1
pcheck t1/ssh-vsock/1-relay-halfclose-wc c_wc relay vsock/1
pcheck t1/ssh-vsock%1-relay-halfclose-upload c_upload relay vsock%1
pcheck t1/ssh-port-2222 c_port2222
pcheck t1/not-listening-ssh want_fail "nothing listening on vsock port 4444" sshc -p 4444 root@vsock/1 true
pcheck t1/not-listening-exit want_helper_exit 8 "nothing listening on vsock port 4444" vsock/1 4444
pwait
wait "$CPBIG"
pcheck t1/scp-64M c_scp
pcheck t1/sftp-64M c_sftp
pcheck t1/rsync-64M c_rsync
pwait
say "tier1 done"

# shellcheck shell=bash
# Sourced by the tier scripts, which run inside the L1 guest, chrooted into the
# host's root filesystem (read-only 9p) with the work dir $W shared read-write.
# Each check writes $W/results/<name> ("PASS|FAIL SECONDS DETAIL") and keeps its
# full output in $W/log/checks/<name>.log; the host prints and judges them.
W=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LC_ALL=C
RES=$W/results CL=$W/log/checks GL=$W/log/guest
CFG=$W/ssh/ssh_config
O=/tmp/rig            # guest-local scratch (tmpfs)
# run the binaries from tmpfs: executables on the uncached 9p share page in slowly
BIN=$O/bin
mkdir -p "$O" "$GL" "$BIN"
cp "$W"/bin/* "$BIN/"
HELPER=$BIN/libvirt-ssh-proxy RIG=$BIN/vsockrig
# the project's drop-in, its @BINDIR@ pointing at the helper just built
DROPIN=$O/30-libvirt-ssh-proxy.conf
sed "s#@BINDIR@#$BIN#g" "$W/guest/30-libvirt-ssh-proxy.conf.in" > "$DROPIN"
BG=()

say() { echo "GUEST $(cut -d' ' -f1 /proc/uptime): $*"; }
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }

# plan NAME...: the checks this tier will report (the host fails missing ones)
plan() { printf '%s\n' "$@" > "$RES/.plan"; }

# check NAME FUNCTION [ARGS...]: run FUNCTION in a subshell with errexit and
# pipefail; its output goes to the check's log; exit status 0 = PASS
check() {
  local name=$1 t0=$EPOCHREALTIME rc st det f
  shift
  f=${name//\//_}
  export CHECK=$f
  rm -f "$O/$f.detail"
  ( set -eo pipefail; "$@" ) > "$CL/$f.log" 2>&1
  rc=$?
  det=$(head -c 300 "$O/$f.detail" 2>/dev/null | tr '\n' ' ')
  if [ $rc -eq 0 ]; then st=PASS; else st=FAIL; det="rc=$rc; ${det:-$(tail -n 1 "$CL/$f.log")}"; fi
  echo "$st $(secs "$t0") $det" > "$RES/$f"
  echo "CHECK $st $name $(secs "$t0")s $det"
  return $rc
}

# pcheck NAME FUNCTION [ARGS...]: check in the background (TCG sessions are
# latency-bound: concurrent ones overlap well); pwait waits for all of them
PCHECKS=()
pcheck() { check "$@" & PCHECKS+=($!); }
pwait() { local p rc=0; for p in "${PCHECKS[@]}"; do wait "$p" || rc=1; done; PCHECKS=(); return $rc; }

# detail TEXT: a short note printed next to the check's PASS/FAIL line
detail() { printf '%s\n' "$*" >> "$O/$CHECK.detail"; }

# wait_for DESC SECONDS CMD...: poll CMD until it succeeds (the condition, not a sleep)
wait_for() {
  local desc=$1 lim=$2 t0=$EPOCHREALTIME
  shift 2
  until "$@" >/dev/null 2>&1; do
    if awk -v a="$t0" -v b="$EPOCHREALTIME" -v l="$lim" 'BEGIN{exit !(b-a > l)}'; then
      say "timed out after ${lim}s waiting for $desc"; return 1
    fi
    sleep 0.05
  done
  say "$desc after $(secs "$t0")s"
}

# bg LOGNAME CMD...: start a background service, remember its pid for cleanup
bg() { local log=$1; shift; "$@" > "$GL/$log.log" 2>&1 & BG+=($!); }
stop_bg() { local p; for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done; for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done; BG=(); }
trap stop_bg EXIT

# the sshd config for the guest's own sshd behind a vsock listener
. "$(dirname "${BASH_SOURCE[0]}")/sshd-config.sh"

# ssh client options common to every tier (after the Host blocks that matter).
# Cipher, MAC and KEX are the cheapest under TCG (AES-NI is emulated, GCM's
# carry-less multiply and sntrup761 are slow); they do not change what the helper sees.
ssh_common() {
  cat <<EOC
Host *
  User root
  Ciphers aes128-ctr
  MACs umac-64-etm@openssh.com
  KexAlgorithms curve25519-sha256
  IdentityFile $W/ssh/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $W/ssh/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 600
EOC
}

sshc() { timeout "${SSH_TIMEOUT:-120}" ssh -F "$CFG" "$@"; }

# want WHAT GOT EXPECTED
want() {
  if [ "$2" = "$3" ]; then echo "ok: $1 = [$2]"; else echo "MISMATCH: $1: got [$2], want [$3]"; return 1; fi
}

# want_sha WHAT FILE: FILE's SHA-256 must equal the source file's
want_sha() { want "sha256 of $1" "$(sha256sum < "$2" | cut -d' ' -f1)" "$SHA"; }

# want_fail SUBSTRING CMD...: CMD must fail and its stderr contain SUBSTRING
# (case-insensitive); the helper's line is recorded as the check's detail
want_fail() {
  local sub=$1 rc=0 err
  shift
  echo "run: $*"
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  echo "rc=$rc stderr:"; printf '%s\n' "$err" | sed 's/^/  | /'
  if [ $rc -eq 0 ]; then echo "MISMATCH: expected a failure"; return 1; fi
  local line
  line=$(printf '%s\n' "$err" | grep -i 'libvirt-ssh-proxy' | head -n 1 || true)
  [ -z "$line" ] || detail "$line"
  if ! printf '%s\n' "$err" | grep -qiF -- "$sub"; then echo "MISMATCH: stderr lacks [$sub]"; return 1; fi
  echo "ok: failed with [$sub]"
}

# want_helper_exit CODE SUBSTRING HOST PORT [OPTS...]: run the helper directly
# (relay mode, stdin closed) and check its exit status and message
want_helper_exit() {
  local code=$1 sub=$2 host=$3 port=$4 rc=0 err
  shift 4
  echo "run: $HELPER $* --relay $host $port"
  err=$(timeout 60 "$HELPER" "$@" --relay "$host" "$port" 2>&1 < /dev/null > /dev/null) || rc=$?
  echo "rc=$rc stderr: $err"
  detail "exit $rc: $err"
  if ! printf '%s\n' "$err" | grep -qiF -- "$sub"; then echo "MISMATCH: stderr lacks [$sub]"; return 1; fi
  want "helper exit status" "$rc" "$code"
}

# report_cmd: a remote command (for when the remote side is this machine) that
# prints the listener's port (sshd SetEnv), the user, and how many helper processes
# the calling check started are alive: relay mode keeps one per session, fd
# passing none. ssh hands its environment, CHECK included, to the ProxyCommand.
# (comm is the name cut to 15 characters: "libvirt-ssh-pro")
report_cmd() {
  printf '{ n=0; for d in /proc/[0-9]*; do c=; { read -r c < $d/comm; } 2>/dev/null; [ "$c" = libvirt-ssh-pro ] && tr "\\0" "\\n" 2>/dev/null < $d/environ | grep -qx "CHECK=%s" && n=$((n+1)); done; echo "port=$RIG_PORT user=$(id -un) helpers=$n"; }' "$CHECK"
}

# quiet ERRFILE: the client side of a successful session must be silent on stderr
quiet() {
  if [ -s "$1" ]; then echo "MISMATCH: unexpected stderr:"; sed 's/^/  | /' "$1"; detail "stderr: $(head -c 200 "$1")"; return 1; fi
}

#!/bin/bash
# Relay benchmark, inside L1 (vsock_loopback: CID 1 is this machine): test/bench
# -vsock times the prebuilt helper's --relay, socat and the socket used directly
# over real AF_VSOCK, and the helper's connect (exec -> fd received). One check;
# its log is the table, which run.sh prints.
# usage (by test/vm/run.sh via the L1 init): bench.sh WORKDIR
. "$(dirname "$0")/lib.sh"

plan bench/vsock-relay
say "bench: kernel $(uname -r), $(nproc) cpus, local vsock CID $($RIG cid)"

c_bench() {
  # transparent huge pages decide much of a Go program's RSS: "always" backs
  # its heap with 2 MiB pages
  echo "guest kernel $(uname -r), transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
  # port 5000: nothing else listens in this guest; fewer samples than on the
  # host, as every exec and every byte is emulated
  "$BIN/bench" -vsock 5000 -helper "$HELPER" -size "$(cat "$W/guest/bench-size")" -runs 20 -reps 3
}
check bench/vsock-relay c_bench
say "bench done"

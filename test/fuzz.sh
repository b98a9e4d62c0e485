#!/usr/bin/env bash
# Run fuzz targets, each until FUZZEXECS inputs or FUZZTIME, whichever comes
# first, FUZZJOBS targets at a time with one worker each, and print a table.
#
#   test/fuzz.sh internal/host:FuzzParse internal/domainxml:FuzzCIDFromXML ...
#
# FUZZTIME is enforced here with SIGINT, which the fuzzing engine treats as a
# clean stop (PASS), rather than with -fuzztime=DURATION: Go 1.26's
# coordinator can fail a duration run at its deadline with a bare "context
# deadline exceeded" and no crasher (go.dev/issue/75804, fixed in Go 1.27).
# FUZZTIME empty means no time limit. Logs: $FUZZLOG/<pkg>_<Target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${GO:=go}"
: "${FUZZEXECS:=10000000}"
: "${FUZZTIME=10m}"
: "${FUZZJOBS:=$(nproc)}"
: "${FUZZLOG:=build/fuzz}"
module=$($GO list -m)
cache=$($GO env GOCACHE)/fuzz
mkdir -p "$FUZZLOG"
FUZZLOG=$(cd "$FUZZLOG" && pwd)

# logbase PKG:TARGET: where the target's log and result go (minus .log)
logbase() {
	local pkg=${1%%:*}
	echo "$FUZZLOG/${pkg//\//_}_${1#*:}"
}

# shellcheck disable=SC2317 # run is called through xargs bash -c
# one target: build the instrumented test binary, run it in its package
# directory (for testdata/), and leave a result line in its log's .result.
run() {
	local pkg=${1%%:*} target=${1#*:} base
	base=$(logbase "$1")
	local bin=$base.test log=$base.log
	local rc=0 start end
	if ! $GO test -c -fuzz "^$target\$" -o "$bin" "./$pkg" >"$log" 2>&1; then
		printf '%-44s build failed: see %s\n' "$1" "$log" >"$log.result"
		return 1
	fi
	start=$(date +%s)
	(
		cd "$pkg"
		# shellcheck disable=SC2086 # FUZZTIME empty: no timeout wrapper
		${FUZZTIME:+timeout --preserve-status -s INT $FUZZTIME} \
			"$bin" -test.run '^$' -test.fuzz "^$target\$" \
			-test.fuzztime "${FUZZEXECS}x" -test.parallel 1 \
			-test.fuzzcachedir "$cache/$module/$pkg"
	) >>"$log" 2>&1 || rc=$?
	end=$(date +%s)
	rm -f "$bin"
	# the engine's last progress line: "fuzz: elapsed: 10m0s, execs: N (R/sec), new interesting: K (total: T)"
	local last execs interesting
	last=$(grep '^fuzz: elapsed' "$log" | tail -n 1 || true)
	execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
	interesting=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' <<<"$last")
	local verdict=ok
	if [ "$rc" -ne 0 ] || grep -q -e '^--- FAIL' -e '^FAIL' "$log"; then
		verdict="FAIL (exit $rc): see $log"
	fi
	printf '%-44s %6ss %10s %5s  %s\n' "$1" "$((end - start))" "${execs:-?}" "${interesting:-0}" "$verdict" >"$log.result"
	[ "$verdict" = ok ]
}
export -f run logbase
export GO FUZZEXECS FUZZTIME FUZZLOG module cache

echo "fuzzing $# targets: up to $FUZZEXECS inputs${FUZZTIME:+ or $FUZZTIME} each, $FUZZJOBS at a time"
status=0
# shellcheck disable=SC2016 # $1 is for the inner bash
printf '%s\n' "$@" | xargs -P "$FUZZJOBS" -I{} bash -c 'run "$1"' _ {} || status=1
printf '%-44s %7s %10s %5s  %s\n' target time execs new result
ok=0
for t in "$@"; do
	cat "$(logbase "$t").log.result"
	if grep -q ' ok$' "$(logbase "$t").log.result"; then ok=$((ok + 1)); fi
done
echo "fuzz: $ok passed, $(($# - ok)) failed"
exit $status

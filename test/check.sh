#!/usr/bin/env bash
# test/check.sh PART...: make check's runner. Runs `make PART` for each PART
# in order, every one even when an earlier one failed (so that one run shows
# every failure), and prints each part's wall time and how many tests it ran
# (from the "NAME: N passed, N failed" lines the parts print), then the total
# in the same form. Exit status 1 when any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
logs=$(mktemp -d "${TMPDIR:-/tmp}/lsp-check.XXXXXX")
trap 'rm -rf "$logs"' EXIT
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}'; }

start=$EPOCHREALTIME
rows=() passed=0 failed=0 status=0
for part in "$@"; do
	t0=$EPOCHREALTIME
	"$MAKE" --no-print-directory "$part" 2>&1 | tee "$logs/$part"
	rc=${PIPESTATUS[0]}
	# the parts' own closing lines: "NAME: N passed, N failed"
	read -r p f < <(sed -nE 's/^[A-Za-z0-9_-]+: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$logs/$part" |
		awk '{p+=$1; f+=$2; n++} END{if (n) print p, f; else print "-", "-"}')
	[ "$p" = - ] || { passed=$((passed + p)); failed=$((failed + f)); }
	verdict=ok
	[ "$rc" = 0 ] || { verdict="FAILED (exit $rc)"; status=1; }
	rows+=("$(printf '%-14s %8s %8s %7ss  %s' "$part" "$p" "$f" "$(secs "$t0")" "$verdict")")
done

echo
printf '%-14s %8s %8s %8s\n' part passed failed time
printf '%s\n' "${rows[@]}"
printf '%-14s %8s %8s %7ss\n' total "$passed" "$failed" "$(secs "$start")"
echo "check: $passed passed, $failed failed"
exit $status

#!/usr/bin/env bash
# make bench: clp against pacman on the same data, timed side by side in one
# run (interleaved, medians), printing the ratio. Everything under a temp dir.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
clp=${CLP:-$here/clp}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/benchcmp" "$here/testkit/benchcmp"
go build -o "$work/mksynth" "$here/testkit/sandbox/mksynth"
# clp keeps an unvouched pacman binary's version in the user's cache
# directory: this run's own, filled by the first (untimed) run. Set after
# the builds: go keeps its build cache there too.
export XDG_CACHE_HOME=$work/cache
runs=${BENCH_RUNS:-30}

root=$work/synth
"$work/mksynth" "$root" 2000
P=(--root "$root" --dbpath "$root/var/lib/pacman" --config "$root/etc/pacman.conf")

echo "== clp status vs pacman -Qq, local database of 2,000 packages (goal: at most 1.0x)"
"$work/benchcmp" -n "$runs" \
	"@pacman -Qq" pacman "${P[@]}" -Qq ::: \
	"@clp status" "$clp" --root "$root" status ::: \
	"@clp status --json" "$clp" --root "$root" status --json

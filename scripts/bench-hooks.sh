#!/usr/bin/env bash
# make bench: the cost of clp's pacman hooks. On a synthesized local
# database of 2,000 packages, `clp hook pre` and `clp hook post` (targets on
# stdin, as pacman gives them) against `pacman -Qq` on the same database,
# interleaved run by run (goal: each hook at most 1.5x pacman -Qq); then the
# disk used by 1,000 successive snapshots of such a database with small
# changes between them (goal: under 5 MB). Everything under a temp dir.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench-hooks.XXXXXX")
trap 'rm -rf "$work"' EXIT
clp=${CLP:-}
if [[ -z $clp ]]; then
	clp=$work/clp
	go build -o "$clp" "$here/cmd/clp"
fi
go build -o "$work/benchcmp" "$here/internal/benchcmp"
go build -o "$work/mksynth" "$here/internal/sandbox/mksynth"
runs=${BENCH_RUNS:-30}

root=$work/synth
"$work/mksynth" "$root" 2000
printf 'synth-pkg-00001\nsynth-pkg-00002\n' >"$work/targets"
# Fill the store first, so the hooks run against a realistic history.
for _ in $(seq 50); do
	"$clp" --root "$root" hook pre <"$work/targets"
	"$clp" --root "$root" hook post <"$work/targets"
done

# Every command goes through sh -c, so each side pays the same shell start.
q="pacman --root '$root' --dbpath '$root/var/lib/pacman' --config '$root/etc/pacman.conf' -Qq >/dev/null"
echo "== clp hook pre / post vs pacman -Qq, local database of 2,000 packages (goal: each at most 1.5x)"
"$work/benchcmp" -n "$runs" \
	"@pacman -Qq" sh -c "$q" ::: \
	"@clp hook pre" sh -c "'$clp' --root '$root' hook pre <'$work/targets'" ::: \
	"@clp hook post" sh -c "'$clp' --root '$root' hook post <'$work/targets'" ::: \
	"@clp hook guard (no pins)" sh -c "'$clp' --root '$root' hook guard <'$work/targets'"

echo "== disk used by 1,000 snapshots of 2,000 packages, 1 to 6 changes apart (goal: under 5 MB)"
(cd "$here" && go test -count=1 -run '^TestDiskUsage1000$' -v ./snapshot/) | grep -E 'snapshots of|^(ok|FAIL|---)'

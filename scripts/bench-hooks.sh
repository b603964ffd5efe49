#!/usr/bin/env bash
# make bench: the cost of clp's pacman hooks. On a synthesized local
# database of 2,000 packages, what the hook files run (clp-hook pre, post
# and guard, targets on stdin as pacman gives them) against `pacman -Qq` on
# the same database, interleaved run by run (goals: pre and post each at
# most 0.6x pacman -Qq, the guard with no pins at most 0.4x), and `clp hook
# pre` (the full binary) for comparison; then the disk used by 1,000
# successive snapshots of such a database with small changes between them
# (goal: under 5 MB). Everything under a temp dir.
#
# CLP=path and CLP_HOOK=path time those binaries instead of building them;
# CLP_BASE=path also times an older binary's `hook pre|post` in the same
# interleaved run, on a root of its own (formats may differ), to compare
# before and after under the same load.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench-hooks.XXXXXX")
trap 'rm -rf "$work"' EXIT
clp=${CLP:-}
if [[ -z $clp ]]; then
	clp=$work/clp
	go build -o "$clp" "$here/cmd/clp"
fi
hook=${CLP_HOOK:-}
if [[ -z $hook ]]; then
	hook=$work/clp-hook
	(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$hook" ./cmd/clp-hook)
fi
go build -o "$work/benchcmp" "$here/testkit/benchcmp"
go build -o "$work/mksynth" "$here/testkit/sandbox/mksynth"
runs=${BENCH_RUNS:-30}

root=$work/synth
printf 'synth-pkg-00001\nsynth-pkg-00002\n' >"$work/targets"
# Fill the store first, so the hooks run against a realistic history: 100
# snapshots, clp.conf's default SnapshotKeep, so every timed hook also
# prunes one, as on a system in use.
# ReadLocalDB reuses the previous snapshot's entry for a package only when
# its desc is over 2 s older than that snapshot, so the descs age first: the
# timed hooks then run as they would between transactions.
prepare() { # binary root
	"$work/mksynth" "$2" 2000
	sleep 2.1
	for _ in $(seq 50); do
		"$1" --root "$2" hook pre <"$work/targets" >/dev/null
		"$1" --root "$2" hook post <"$work/targets" >/dev/null
	done
}
prepare "$clp" "$root"
base=()
if [[ -n ${CLP_BASE:-} ]]; then
	prepare "$CLP_BASE" "$work/synth-base"
	base=(::: "@base: clp hook pre" sh -c "'$CLP_BASE' --root '$work/synth-base' hook pre <'$work/targets'"
		::: "@base: clp hook post" sh -c "'$CLP_BASE' --root '$work/synth-base' hook post <'$work/targets'")
fi

# Every command goes through sh -c, so each side pays the same shell start.
q="pacman --root '$root' --dbpath '$root/var/lib/pacman' --config '$root/etc/pacman.conf' -Qq >/dev/null"
echo "== clp's hooks (clp-hook, what the hook files run) vs pacman -Qq, local database of 2,000 packages (goals: pre/post at most 0.6x, guard with no pins at most 0.4x)"
"$work/benchcmp" -n "$runs" \
	"@pacman -Qq" sh -c "$q" ::: \
	"@clp-hook pre" sh -c "'$hook' --root '$root' pre <'$work/targets'" ::: \
	"@clp-hook post" sh -c "'$hook' --root '$root' post <'$work/targets'" ::: \
	"@clp-hook guard (no pins)" sh -c "'$hook' --root '$root' guard <'$work/targets'" ::: \
	"@clp hook pre (full binary)" sh -c "'$clp' --root '$root' hook pre <'$work/targets'" "${base[@]}"

echo "== disk used by 1,000 snapshots of 2,000 packages, 1 to 6 changes apart (goal: under 5 MB)"
(cd "$here" && go test -count=1 -run '^TestDiskUsage1000$' -v ./snapshot/) | grep -E 'snapshots of|^(ok|FAIL|---)'

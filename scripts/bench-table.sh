#!/usr/bin/env bash
# make bench's table: reads what the bench scripts and the Go benchmarks
# printed in one `make bench` run (LOG) and prints issue 14's table, each
# figure beside its goal, every ratio taken against its baseline in the same
# interleaved run. A row whose figure or baseline is missing from LOG fails
# the table loudly (exit 1) instead of leaving a gap.
#
#   scripts/bench-table.sh LOG          the table
#   scripts/bench-table.sh --check      only checks that the baselines exist
set -euo pipefail
baselines=(pacman bsdtar sync b2sum sha256sum curl find)
if [[ ${1:-} == --check ]]; then
	missing=()
	for b in "${baselines[@]}"; do command -v "$b" >/dev/null || missing+=("$b"); done
	if ((${#missing[@]})); then
		echo "make bench: baseline missing: ${missing[*]} (make deps installs them); no figure is comparable without it" >&2
		exit 1
	fi
	exit 0
fi
log=${1:?usage: bench-table.sh LOG}
# The rows run in command substitutions (subshells): a missing figure is
# marked in this file, read at the end.
failmark=$(mktemp)
trap 'rm -f "$failmark"' EXIT
# ratio NAME: the ratio benchcmp printed for the row NAME.
ratio() {
	local r
	r=$(grep -E "^$1 +median" "$log" | tail -n1 | sed -E 's/.*ratio ([0-9.]+)x.*/\1/')
	if [[ -z $r ]]; then
		echo "make bench: no figure for '$1' in $log" >&2
		echo x >>"$failmark"
		echo "MISSING"
		return
	fi
	echo "${r}x"
}
# nsop NAME: a Go benchmark's ns/op.
nsop() {
	grep -E "^$1(-[0-9]+)? " "$log" | tail -n1 | awk '{for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") print $i}'
}
# gometric NAME UNIT: the figure a Go benchmark reported in UNIT (b.ReportMetric).
gometric() {
	local v
	v=$(grep -E "^$1(-[0-9]+)? " "$log" | tail -n1 | awk -v u="$2" '{for (i = 1; i < NF; i++) if ($(i+1) == u) print $i}')
	if [[ -z $v ]]; then
		echo "make bench: no $2 in Go benchmark $1 in $log" >&2
		echo x >>"$failmark"
		echo "MISSING"
		return
	fi
	printf '%.2fx' "$v"
}
# mbs NAME: MB/s printed by bench-verify.sh, or by a Go benchmark.
mbs() {
	local v
	v=$(grep -E "^$1(-[0-9]+)? " "$log" | grep -E "MB/s" | tail -n1 | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "MB/s") print $i}')
	if [[ -z $v ]]; then
		echo "make bench: no MB/s for '$1' in $log" >&2
		echo x >>"$failmark"
		echo "MISSING"
		return
	fi
	printf '%.0f MB/s' "$v"
}

cat <<TABLE
| what | baseline | measured | goal |
|---|---|---|---|
| \`clp-hook pre\` / \`post\` (the hook files) | \`pacman -Qq\` | $(ratio "clp-hook pre") / $(ratio "clp-hook post") | at most 0.6x each |
| \`clp-hook guard\`, no pins | \`pacman -Qq\` | $(ratio "clp-hook guard \(no pins\)") | at most 0.4x |
| \`clp hook pre\` (full binary, by hand) | \`pacman -Qq\` | $(ratio "clp hook pre \(full binary\)") | — |
| \`clp status\` / \`status --json\` | \`pacman -Qq\` | $(ratio "clp status") / $(ratio "clp status --json") | at most 1.0x both |
| apply 1,000 files / 20 MB | \`bsdtar -xf\` + \`sync\` in apply's conditions (same folders, the previous files just removed) | $(gometric BenchmarkApply1000Files x-bsdtar) | at most 1.3x |
| rollback of the same | the disk-level rollback: the added files removed, \`bsdtar -xf\` of the replaced ones over them, \`sync\` | $(gometric BenchmarkRollback1000Files x-bsdtar) | at most 1.3x |
| apply / rollback, against bsdtar into fresh folders | \`bsdtar -xf\` + \`sync\` into a new folder | $(gometric BenchmarkApply1000Files x-fresh) / $(gometric BenchmarkRollback1000Files x-fresh) | — |
| signature check of a 100 MB patch (Go, VerifyFile) | blake2b-512 alone: $(mbs BenchmarkBlake2b512Floor) | $(mbs BenchmarkVerify100MB) | at least 1 GB/s, or the floor |
| \`clp verify\` of the same patch (signature, copy, archive, payload sha256) | \`b2sum\` $(mbs b2sum), \`sha256sum\` $(mbs sha256sum) | $(mbs "clp verify") | — |
| \`clp update --check\`, nothing new | one curl GET | $(ratio "clp update --check") | at most 1.5x |
| versions of a package among 20,000 cache files | \`find\` | $(ratio "clp downgrade --json") | keep |
TABLE
if [[ -s $failmark ]]; then
	echo "make bench: the table is incomplete (see above)" >&2
	exit 1
fi

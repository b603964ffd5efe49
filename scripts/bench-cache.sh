#!/usr/bin/env bash
# bench-cache.sh: listing the versions of one package in a cache directory
# of 20,000 package files (empty files with realistic names: clp reads names
# only), clp against find(1) on the same directory, interleaved in one run
# (testkit/benchcmp). Goal: at most 2x. Everything under a temp dir.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
clp=${CLP:-$here/clp}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench-cache.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/benchcmp" "$here/testkit/benchcmp"
go build -o "$work/mksynth" "$here/testkit/sandbox/mksynth"
runs=${BENCH_RUNS:-30}
files=${BENCH_CACHE_FILES:-20000}

root=$work/root
"$work/mksynth" "$root" 10 >/dev/null
cachedir=$work/pkg
mkdir -p "$cachedir"
# 20,000 files: nvidia-utils in 12 versions (with an epoch, and the
# nvidia-utils-beta name that shares its prefix), the rest 10 versions each
# of synthetic packages with dashes in their names, in all three extensions.
(
	cd "$cachedir"
	for v in 535.183.01-1 545.29.06-2 550.54.14-1 550.67-1 550.78-1 555.58-1 \
		555.58.02-1 560.28.03-1 560.35.03-1 560.35.03-2 565.57.01-1 1:570.86.16-1; do
		: > "nvidia-utils-$v-x86_64.pkg.tar.zst"
		: > "nvidia-utils-$v-x86_64.pkg.tar.zst.sig"
	done
	: > nvidia-utils-beta-570.1-1-x86_64.pkg.tar.zst
	n=$(ls | wc -l)
	i=0
	while [ "$n" -lt "$files" ]; do
		name=$(printf 'lib-synth-%05d-common' "$i")
		for r in 1 2 3 4 5 6 7 8 9 10; do
			case $((r % 3)) in 0) ext=zst ;; 1) ext=xz ;; 2) ext=gz ;; esac
			: > "$name-1.$r.0-$r-x86_64.pkg.tar.$ext"
		done
		n=$((n + 10))
		i=$((i + 1))
	done
)
printf '[options]\nArchiveServer =\n' > "$work/clp.conf"
mkdir -p "$root/etc/clp" && cp "$work/clp.conf" "$root/etc/clp/clp.conf"

echo "== versions of nvidia-utils in a cache of $(ls "$cachedir" | wc -l) files: clp downgrade --json vs find (goal: at most 2x)"
"$clp" --root "$root" --cachedir "$cachedir" downgrade nvidia-utils --json --cache-only | grep -c '"version"' | sed 's/^/   clp lists versions: /'
"$work/benchcmp" -n "$runs" \
	"@find -name 'nvidia-utils-*'" find "$cachedir" -name 'nvidia-utils-*' ::: \
	"@clp downgrade --json" "$clp" --root "$root" --cachedir "$cachedir" downgrade nvidia-utils --json --cache-only

#!/usr/bin/env bash
# make bench: the signature check of a 100 MB patch. A patch whose payload
# is 100 MB of random bytes (so the archive is 100 MB too) is built and
# signed, then `clp verify` (signature over the whole file, a private copy,
# then the archive and every payload's sha256, as apply checks it) is timed
# interleaved with b2sum and sha256sum of the same file, from the page
# cache: the floors. Prints each one's MB/s. The Go benchmark
# BenchmarkVerify100MB (patch/) times the signature check alone beside
# BenchmarkBlake2b512Floor, the hash on its own. Goal: at least 1 GB/s or
# the floor. Everything under a temp dir.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT
clp=${CLP:-}
if [[ -z $clp ]]; then
	clp=$work/clp
	go build -o "$clp" "$here/cmd/clp"
fi
for c in b2sum sha256sum; do
	command -v "$c" >/dev/null || { echo "bench-verify: baseline $c is missing (coreutils)" >&2; exit 1; }
done
go build -o "$work/benchcmp" "$here/testkit/benchcmp"
runs=${BENCH_RUNS:-10}

src=$work/src
mkdir -p "$src/payload"
head -c $((100 << 20)) /dev/urandom >"$src/payload/big.bin"
cat >"$src/PKGINFO.meta" <<'META'
<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPBENCH100</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>100 MB payload, for the signature check benchmark</Description>
  <Files>
    <Add target="/opt/CLP/bench/big.bin" payload="payload/big.bin" sha256="auto" mode="0644" owner="root" group="root"/>
  </Files>
</Package>
META
(cd "$work" && "$clp" build "$src" -o "$work/bench.clp" >/dev/null && "$clp" keygen --no-password -o "$work/k" >/dev/null 2>&1 &&
	"$clp" sign "$work/bench.clp" -k "$work/k.key" >/dev/null)
size=$(stat -c %s "$work/bench.clp")
cat "$work/bench.clp" >/dev/null # into the page cache

echo "== signature check of a $((size >> 20)) MB patch vs b2sum and sha256sum of the same file (goal: at least 1 GB/s, or the floor)"
"$work/benchcmp" -n "$runs" \
	"@b2sum" b2sum "$work/bench.clp" ::: \
	"@sha256sum" sha256sum "$work/bench.clp" ::: \
	"@clp verify" "$clp" verify "$work/bench.clp" --key "$work/k.pub" | tee "$work/out"
awk -v size="$size" '/median/ { for (i = 1; i <= NF; i++) if ($i == "median") { ms = $(i+1); name = $0; sub(/ +median.*/, "", name); printf "%-40s %8.0f MB/s\n", name, size / 1e6 / (ms / 1000) } }' "$work/out"

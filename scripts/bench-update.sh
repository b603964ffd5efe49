#!/usr/bin/env bash
# make bench: 'clp update --check' with nothing new, against one plain HTTP
# GET of the feed's timestamp with curl, timed side by side in one run
# (interleaved, medians), printing the ratio. The feed is made with clp feed
# and served from loopback by scripts/fileserver; everything lives under a
# temp dir, and the server is stopped at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench-update.XXXXXX")
server=
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
clp=${CLP:-}
if [ -z "$clp" ]; then
	go build -o "$work/clp" "$here/cmd/clp"
	clp=$work/clp
fi
go build -o "$work/benchcmp" "$here/testkit/benchcmp"
go build -o "$work/fileserver" "$here/scripts/fileserver"
go build -o "$work/mksynth" "$here/testkit/sandbox/mksynth"
# clp keeps an unvouched pacman binary's version in the user's cache
# directory: this run's own, filled by the first (untimed) run. Set after
# the builds: go keeps its build cache there too.
export XDG_CACHE_HOME=$work/cache
runs=${BENCH_RUNS:-30}

# A feed with one published patch.
mkdir -p "$work/patch/files"
cat >"$work/patch/PKGINFO.meta" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLPB0000001</Name>
  <Version>1</Version>
  <Description>bench patch</Description>
  <Files>
    <Add target="/etc/clp-bench.conf" payload="files/clp-bench.conf" sha256="auto" mode="0644"/>
  </Files>
</Package>
XML
echo bench >"$work/patch/files/clp-bench.conf"
"$clp" build "$work/patch" -o "$work/CLPB0000001.clp" >/dev/null
"$clp" feed init "$work/feed" >/dev/null 2>&1
"$clp" feed add "$work/feed" "$work/CLPB0000001.clp" >/dev/null

"$work/fileserver" "$work/feed/repository" >"$work/url" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
	[ -s "$work/url" ] && break
	sleep 0.05
done
url=$(head -n1 "$work/url")
[ -n "$url" ] || { echo "bench-update: the file server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# A machine (a pacman root of 500 packages) that trusts the feed and has
# applied its patch: nothing new.
root=$work/root
"$work/mksynth" "$root" 500 >/dev/null
mkdir -p "$root/etc/clp" "$root/var/lib/clp"
cp "$work/feed/repository/metadata/1.root.json" "$root/etc/clp/feed-root.json"
printf '[update]\nFeedMirror = %s\n' "$url" >"$root/etc/clp/clp.conf"
printf '1\n' >"$root/var/lib/clp/feed-applied"
"$clp" --root "$root" update --check 2>/dev/null | grep -q 'nothing to do' || {
	echo "bench-update: clp update --check does not see an up-to-date machine" >&2
	"$clp" --root "$root" update --check >&2
	exit 1
}

echo "== clp update --check, nothing new, against one curl GET of timestamp.json (goal: at most 1.5x)"
"$work/benchcmp" -n "$runs" \
	"@curl GET timestamp.json" curl -sf -o /dev/null "$url/metadata/timestamp.json" ::: \
	"@clp update --check" "$clp" --root "$root" update --check

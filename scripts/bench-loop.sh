#!/usr/bin/env bash
# bench-loop.sh CMD [ARG ...]: runs CMD with TMPDIR on a new ext4 file
# system made with mkfs.ext4's defaults (a journal) and mounted with the
# default options (no discard), on a loop device over a file in a temp dir;
# unmounted and removed at the end, whatever happens. It tells whether a
# figure comes from the machine's own mount of TMPDIR (for instance ext4
# without a journal, mounted with discard) or from clp. Needs root.
#
#   scripts/bench-loop.sh go test -run '^$' -bench 1000Files -benchtime 5x ./patch
set -euo pipefail
(($#)) || { echo "usage: bench-loop.sh CMD [ARG ...]" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-bench-loop.XXXXXX")
mnt=$work/mnt
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	rm -rf "$work"
}
trap cleanup EXIT
truncate -s "${BENCH_LOOP_SIZE:-2G}" "$work/ext4.img"
mkfs.ext4 -q -F "$work/ext4.img"
mkdir "$mnt"
mount -o loop "$work/ext4.img" "$mnt"
findmnt -n -o TARGET,FSTYPE,OPTIONS "$mnt" >&2
TMPDIR=$mnt "$@"

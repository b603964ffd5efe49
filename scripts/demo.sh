#!/usr/bin/env bash
# make demo: clp's main job on a throwaway root. Everything happens under a
# fresh temporary directory; nothing on this machine outside it changes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
clp=${CLP:-$here/clp}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-demo.XXXXXX")
root=$work/root
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A Vincent OS machine after the bad driver update (sandbox root $root)"
go run "$here/internal/sandbox/mksandbox" "$root"
run pacman --root "$root" --dbpath "$root/var/lib/pacman" --config "$root/etc/pacman.conf" -Q

say "clp status"
run "$clp" --root "$root" status

say "clp status --json (packages, as pacman -Q reports them)"
"$clp" --root "$root" status --json | head -n 30
say "demo done; the sandbox is removed"

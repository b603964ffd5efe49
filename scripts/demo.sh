#!/usr/bin/env bash
# make demo: clp's main job on a throwaway root. A Vincent OS machine got
# the NVIDIA 560.35.03 driver (the black screen); the distro ships a signed
# patch that brings back 550.78 and holds it; the user applies it, looks,
# and rolls it back. Real makepkg, real pacman, everything under a fresh
# temporary directory; nothing on this machine outside it changes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
clp=${CLP:-$here/clp}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-demo.XXXXXX")
root=$work/root
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
pacq() { pacman --root "$root" --dbpath "$root/var/lib/pacman" --config "$root/etc/pacman.conf" -Q "$@"; }

say "A Vincent OS machine after the bad driver update (sandbox root $root)"
fixtures=$(go run "$here/testkit/sandbox/mksandbox" "$root" | sed -n 's/^fixtures: //p')
run pacq
echo "(550.78 is still in the package cache: $(ls "$root/var/cache/pacman/pkg" | tr '\n' ' '))"

say "The distro signs a fix patch (maintainer side)"
run "$clp" keygen --no-password -o "$work/vincentos" >/dev/null
CLP="$clp" "$here/scripts/mkpatch-nvidia.sh" "$fixtures" "$work/CLP1250601.clp" "$work/vincentos.key" >/dev/null
mkdir -p "$root/etc/clp/keys"
cp "$work/vincentos.pub" "$root/etc/clp/keys/"
echo "patch $work/CLP1250601.clp, signature beside it; the machine trusts $root/etc/clp/keys/vincentos.pub"

say "What the patch will do"
run "$clp" --root "$root" show --diff "$work/CLP1250601.clp"

say "clp apply: verify, plan, downgrade all three packages in one pacman transaction, pin them"
run "$clp" --root "$root" apply --noconfirm "$work/CLP1250601.clp"

say "The machine now"
run "$clp" --root "$root" status
run pacq
run "$clp" --root "$root" pins
run grep -H IgnorePkg "$root/etc/pacman.d/clp-pins.conf"

say "clp rollback: the driver back as it was, the pins lifted"
run "$clp" --root "$root" rollback --noconfirm CLP1250601
run "$clp" --root "$root" status
run pacq
run "$clp" --root "$root" history

say "demo done; the sandbox is removed"

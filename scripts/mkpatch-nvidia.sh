#!/usr/bin/env bash
# mkpatch-nvidia.sh FIXTURE_DIR OUT.clp [SECRET_KEY]
#
# Builds the NVIDIA fix patch (testdata/patches/nvidia-fix) against the
# fixture packages in FIXTURE_DIR: makepkg does not build them byte for byte
# the same twice, so the sha256 of each package file is filled in here
# (each @FILE@ in PKGINFO.meta), then `clp build` makes OUT.clp and, with
# SECRET_KEY, `clp sign` writes OUT.clp.minisig. Used by `make demo`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
clp=${CLP:-$here/clp}
fixtures=${1:?usage: mkpatch-nvidia.sh FIXTURE_DIR OUT.clp [SECRET_KEY]}
out=${2:?usage: mkpatch-nvidia.sh FIXTURE_DIR OUT.clp [SECRET_KEY]}
key=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-mkpatch.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$here/testdata/patches/nvidia-fix" "$work/src"
for f in $(grep -o '@[^@"]*\.pkg\.tar\.[a-z]*@' "$work/src/PKGINFO.meta" | tr -d @ | sort -u); do
	[ -f "$fixtures/$f" ] || { echo "mkpatch-nvidia: $fixtures/$f is missing" >&2; exit 1; }
	sum=$(sha256sum "$fixtures/$f" | cut -d' ' -f1)
	sed -i "s|@$f@|$sum|" "$work/src/PKGINFO.meta"
done
"$clp" build "$work/src" -o "$out"
if [ -n "$key" ]; then
	"$clp" sign "$out" -k "$key"
fi

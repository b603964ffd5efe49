#!/usr/bin/env bash
# Builds the PKGBUILD with the real makepkg as nobody, installs the package
# into a throwaway pacman root, checks it and removes it again; runs the
# install scriptlet; renders the man pages. Needs root (pacman installs only
# as root). The work is done by the Go tests of packaging/ (see
# packaging/doc.go); this runs them, with the go-alpm tag the Makefile picks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
tags=()
major=$(pkg-config --modversion libalpm 2>/dev/null | cut -d. -f1)
if [[ -n $major ]] && ((major >= 14)); then tags=(-tags next); fi
exec go test "${tags[@]}" -count=1 -v ./packaging "$@"

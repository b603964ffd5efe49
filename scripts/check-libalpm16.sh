#!/usr/bin/env bash
# Type-check clp against the libalpm 16 headers (pacman 7.1, what Vincent OS
# runs) with go-alpm's `next` tag. Debian's unstable suite ships
# libalpm-dev 16; fetch it with apt-get through a scratch sources list and
# lists dir, leaving the machine's own apt configuration untouched. Linking
# is not possible here (that libalpm needs a newer glibc), so this vets only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clp-alpm16.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Use the Debian mirror this machine is already configured with.
uri=$({ grep -rhoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
	| awk 'NR==1{print $2}')
if [ -z "$uri" ]; then
	echo "check-libalpm16: no Debian mirror in this machine's apt sources" >&2
	exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial" "$tmp/x"
printf 'Types: deb\nURIs: %s\nSuites: unstable\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" > "$tmp/unstable.sources"
opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp" -o "Dir::State::Lists=$tmp/lists"
	-o "Dir::Cache::Archives=$tmp/archives" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0")
apt-get "${opts[@]}" -qq update
(cd "$tmp" && apt-get "${opts[@]}" -qq download libalpm-dev)
deb=$(ls "$tmp"/libalpm-dev_*.deb)
dpkg -x "$deb" "$tmp/x"
ver=$(dpkg-deb -f "$deb" Version)
inc="$tmp/x/usr/include"
test -f "$inc/alpm.h"
echo "==> go vet -tags next against libalpm-dev $ver headers"
cd "$here"
CGO_CFLAGS="-I$inc" go vet -tags next ./...
# And the default tag must not fit them: proves the headers were really used.
if CGO_CFLAGS="-I$inc" go vet ./alpm/ >/dev/null 2>&1; then
	echo "check-libalpm16: the default build type-checks against libalpm $ver too; were the headers used?" >&2
	exit 1
fi
echo "==> ok: clp type-checks against libalpm $ver with -tags next"

#!/usr/bin/env bash
# Build pacman 7.1.0 / libalpm 16 (what Vincent OS runs) from Debian's source
# package of it into PREFIX, leaving the machine's own pacman and /etc alone.
# Idempotent: when PREFIX already holds a working pacman 7.1, it only prints
# the environment. About 3 minutes on 2 cores the first time.
#
# Usage: scripts/pacman71.sh [PREFIX]        (default /opt/clp-pacman-7.1)
# Prints the variables that select this build (eval-able):
#   CLP_PACMAN_PREFIX, PATH, CGO_CFLAGS, CGO_LDFLAGS, PKG_CONFIG_PATH, MAKEPKG_CONF
# go-alpm ignores pkg-config, so CGO_CFLAGS/CGO_LDFLAGS are what make clp
# compile against libalpm 16 and not Debian's libalpm 13 headers.
set -euo pipefail
PREFIX=${1:-${CLP_PACMAN_PREFIX:-/opt/clp-pacman-7.1}}
VERSION=7.1.0
libdir="$PREFIX/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"

env_out() {
	cat <<E
CLP_PACMAN_PREFIX=$PREFIX
PATH=$PREFIX/bin:\$PATH
CGO_CFLAGS=-I$PREFIX/include
CGO_LDFLAGS=-L$libdir
PKG_CONFIG_PATH=$libdir/pkgconfig
MAKEPKG_CONF=$PREFIX/etc/makepkg.conf
E
}

built() {
	[ -x "$PREFIX/bin/pacman" ] && [ -f "$PREFIX/include/alpm.h" ] && [ -f "$PREFIX/etc/makepkg.conf" ] &&
		"$PREFIX/bin/pacman-conf" DBPath 2>/dev/null | grep -qx /var/lib/pacman/ &&
		"$PREFIX/bin/pacman" --version 2>/dev/null | grep -q "Pacman v$VERSION"
}

if built; then env_out; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "pacman71.sh: run as root (it installs build packages and an ld.so.conf entry)" >&2; exit 1; }

echo "==> building pacman $VERSION into $PREFIX (about 3 minutes)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends meson ninja-build libcurl4-openssl-dev \
	libgpgme-dev libarchive-dev libssl-dev pkg-config gcc xz-utils >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/clp-pacman71.XXXXXX")
chmod 755 "$tmp"  # apt fetches as _apt
trap 'rm -rf "$tmp"' EXIT

# Debian's unstable suite has the source; use the mirror this machine's apt
# already uses, through a scratch sources list so /etc/apt stays untouched.
uri=$({ grep -rhoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } \
	| awk 'NR==1{print $2}')
[ -n "$uri" ] || { echo "pacman71.sh: no Debian mirror in this machine's apt sources" >&2; exit 1; }
mkdir -p "$tmp/lists/partial"
printf 'Types: deb-src\nURIs: %s\nSuites: unstable\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > "$tmp/src.sources"
opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp" -o "Dir::State::Lists=$tmp/lists"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0")
apt-get "${opts[@]}" -qq update
# The .dsc may be missing from the mirror; the upstream orig tarball is all we need.
(cd "$tmp" && apt-get "${opts[@]}" --download-only source pacman-package-manager >/dev/null 2>&1 || true)
tarball=$(ls "$tmp"/pacman-package-manager_"$VERSION".orig.tar.* 2>/dev/null | head -1 || true)
[ -n "$tarball" ] || { echo "pacman71.sh: Debian's source of pacman $VERSION (orig tarball) could not be fetched" >&2; exit 1; }
tar -xf "$tarball" -C "$tmp"
src=$(find "$tmp" -maxdepth 1 -type d -name 'pacman*-'"$VERSION" | head -1)
cd "$src"
# Compiled-in defaults as on Arch (/etc/pacman.conf, /var/lib/pacman/...),
# so this pacman behaves as Vincent OS's does; but installed through a
# staging folder, and only the prefix copied out, so the machine's own
# /etc/pacman.conf and /etc/makepkg.conf stay as they are. makepkg 7.1's
# own makepkg.conf goes to $PREFIX/etc (use it with MAKEPKG_CONF).
meson setup build --prefix="$PREFIX" --sysconfdir=/etc --localstatedir=/var \
	-Ddoc=disabled -Di18n=false -Dbuildtype=release >/dev/null
ninja -C build >/dev/null
DESTDIR="$tmp/stage" ninja -C build install >/dev/null
rm -rf "$PREFIX"
mkdir -p "$(dirname "$PREFIX")"
cp -a "$tmp/stage$PREFIX" "$PREFIX"
mkdir -p "$PREFIX/etc"
cp -a "$tmp/stage/etc/pacman.conf" "$tmp/stage/etc/makepkg.conf" "$PREFIX/etc/"
[ -d "$tmp/stage/etc/makepkg.conf.d" ] && cp -a "$tmp/stage/etc/makepkg.conf.d" "$PREFIX/etc/"
echo "$libdir" > /etc/ld.so.conf.d/clp-pacman-7.1.conf
ldconfig
built || { echo "pacman71.sh: the build did not produce a working pacman $VERSION" >&2; exit 1; }
echo "==> $("$PREFIX/bin/pacman" --version | grep -o 'Pacman v[^ ]*.*')" >&2
env_out

#!/usr/bin/env bash
# libalpm-somajor.sh: the N of libalpm.so.N that the linker takes for
# -lalpm with the given CGO_LDFLAGS (the environment's), read from what it
# records: a tiny program linked with -lalpm, its DT_NEEDED. clp does not
# link libalpm (go-alpm's trampolines dlopen it on first use,
# third_party/go-alpm/load.c); the Makefile and PKGBUILD pass this number
# as -DGO_ALPM_SOMAJOR=N in CGO_CFLAGS so that clp opens the libalpm it was
# compiled against. Fails loudly when there is no libalpm to link.
set -euo pipefail
cc=${CC:-$(go env CC 2>/dev/null || echo gcc)}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-somajor.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086 # CGO_LDFLAGS is a list of flags
printf 'int main(void) { return 0; }\n' | "$cc" -x c - -o "$work/a.out" ${CGO_LDFLAGS:-} -Wl,--no-as-needed -lalpm
soname=$(LC_ALL=C readelf -d "$work/a.out" | sed -n 's/.*(NEEDED).*\[\(libalpm\.so\.[0-9]*\)\].*/\1/p')
if [[ -z $soname ]]; then
	echo "libalpm-somajor.sh: linking with -lalpm recorded no libalpm.so.N" >&2
	exit 1
fi
echo "${soname#libalpm.so.}"

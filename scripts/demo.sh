#!/usr/bin/env bash
# make demo: clp's whole story on a throwaway root. A Vincent OS machine got
# the NVIDIA 560.35.03 driver (the black screen); pacman's hooks snapshot
# every transaction; the distro ships a signed patch that brings back 550.78
# and holds it; the user applies it, looks, and rolls it back; the driver is
# downgraded by hand from the menu and the snapshot taken before it brings
# the machine back; the daily update fetches a patch from a signed feed on
# 127.0.0.1. Real makepkg, real pacman, everything under a fresh temporary
# directory; nothing on this machine outside it changes.
#
# DEMO_KEEP=1 keeps the sandbox and prints how to try the commands by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
clp=${CLP:-$here/clp}
clphook=${CLP_HOOK:-$here/clp-hook}
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-demo.XXXXXX")
root=$work/root
server=
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	if [ "${DEMO_KEEP:-}" = 1 ]; then
		echo "the sandbox stays in $work; try, for example:"
		echo "  $clp --root $root status"
		echo "  $clp --root $root snapshot list"
		echo "  $clp --root $root downgrade nvidia-utils"
		echo "remove it with: rm -rf $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

step=0
say() { step=$((step + 1)); printf '\n\033[1m==> %d. %s\033[0m\n' "$step" "$1"; [ -z "${2:-}" ] || printf '    %s\n' "$2"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
# answer runs a command that asks, typing ANSWER on its stdin, and shows it.
answer() { local a=$1; shift; printf '\033[2m$ %s   # answering: %s\033[0m\n' "$*" "$(printf '%s' "$a" | tr '\n' ' ')"; printf '%s' "$a" | "$@"; }
# pacman run from the host on a root reads its pacman.conf's Include paths
# on the host (a chroot would find them inside): like clp for its own pacman
# runs, give it a copy with them mapped under the root (clp's pins file).
pacman_() {
	sed "s|^\(Include *= *\)/|\1$root/|" "$root/etc/pacman.conf" >"$work/pacman.conf"
	pacman --root "$root" --dbpath "$root/var/lib/pacman" --config "$work/pacman.conf" --hookdir "$root/etc/pacman.d/hooks" "$@"
}
pacq() { pacman_ -Q "$@"; }
lastid() { "$clp" --root "$root" snapshot list | awk -v k="$1" '$4 == k { id = $1 } END { print id }'; }

say "A Vincent OS machine after the bad driver update (sandbox root $root)" \
	"the first run builds the test packages with makepkg (a few minutes); later runs reuse them"
fixtures=$(go run "$here/testkit/sandbox/mksandbox" -chroot "$clp" -install "$clphook:usr/lib/clp/clp-hook" "$root" | sed -n 's/^fixtures: //p')
run pacq
echo "(550.78 is still in the package cache: $(ls "$root/var/cache/pacman/pkg" | grep -c nvidia) NVIDIA package files there)"

say "clp's pacman hooks: every transaction is snapshotted before and after" \
	"an ordinary 'pacman -U' runs clp's hooks among its own (pacman 7 needs --hookdir for a root: it no longer moves HookDir)"
run "$clp" --root "$root" hooks install
run pacman_ -U --noconfirm "$fixtures"/clp-testconf-1.0-1-*.pkg.tar.*
run "$clp" --root "$root" snapshot list

say "The distro signs a fix patch (maintainer side)"
run "$clp" keygen --no-password -o "$work/vincentos" >/dev/null
CLP="$clp" "$here/scripts/mkpatch-nvidia.sh" "$fixtures" "$work/CLP1250601.clp" "$work/vincentos.key" >/dev/null
mkdir -p "$root/etc/clp/keys"
cp "$work/vincentos.pub" "$root/etc/clp/keys/"
echo "patch $work/CLP1250601.clp, signature beside it; the machine trusts $root/etc/clp/keys/vincentos.pub"

say "What the patch will do, against this machine" "clp show --diff changes nothing"
run "$clp" --root "$root" show --diff "$work/CLP1250601.clp"

say "clp apply: verify, plan, ask, then downgrade all three packages in one pacman transaction and pin them"
answer $'y\n' "$clp" --root "$root" apply "$work/CLP1250601.clp"

say "The machine now" "status, the packages, the pins pacman obeys"
run "$clp" --root "$root" status
run pacq
run "$clp" --root "$root" pins
run grep -H IgnorePkg "$root/etc/pacman.d/clp-pins.conf"

say "What the patch changed, from the snapshots clp took around it"
run "$clp" --root "$root" snapshot diff "$(lastid patch-pre)" "$(lastid patch-post)"

say "clp rollback: it lists what it will undo and asks" "the driver comes back as it was, the pins are lifted"
answer $'y\n' "$clp" --root "$root" rollback CLP1250601
run pacq

say "clp downgrade: the menu of every version in the cache (and on the archive, when one is set)" \
	"choosing 2 (550.78-1); its split siblings move with it; no pin this time"
answer $'2\ny\nn\n' "$clp" --root "$root" downgrade nvidia-utils
run pacq

say "A pin lifts itself when the fixed version ships" \
	"hold nvidia-utils at 550.78 until 560.35.03-1; the distro's repository then offers it, and the daily run's pin check lets it go"
pre=$(lastid pre)
run "$clp" --root "$root" pin nvidia-utils --until 560.35.03-1
repo=$root/srv/repo/vincentos
mkdir -p "$repo"
cp "$fixtures"/nvidia-utils-560.35.03-1-*.pkg.tar.* "$repo/"
repo-add -q "$repo/vincentos.db.tar.gz" "$repo"/nvidia-utils-560.35.03-1-*.pkg.tar.* 2>/dev/null
printf '\n[vincentos]\nSigLevel = Never\nServer = file://%s\n' "$repo" >>"$root/etc/pacman.conf"
run pacman_ -Sy
run "$clp" --root "$root" pins --check
run "$clp" --root "$root" pins

say "clp snapshot restore: back to the state the pre hook recorded before that downgrade"
answer $'y\n' "$clp" --root "$root" snapshot restore "$pre"
run pacq

say "The daily update (core-livepatch-update.timer, 12:00): a signed feed on 127.0.0.1" \
	"the distro publishes a patch to its feed; the machine trusts the feed's root"
run "$clp" feed init "$work/feed" >/dev/null
mkdir -p "$work/xorg/files"
cat >"$work/xorg/PKGINFO.meta" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Package format="1">
  <Name>CLP1251201</Name>
  <Version>1</Version>
  <Architecture>x86_64</Architecture>
  <Description>Fallback Xorg configuration for NVIDIA 560 machines</Description>
  <Author>Vincent OS</Author>
  <Date>2026-12-01</Date>
  <Severity>important</Severity>
  <Files>
    <Add target="/etc/X11/xorg.conf.d/20-nvidia-fallback.conf" payload="files/20-nvidia-fallback.conf" sha256="auto" mode="0644" owner="root" group="root"/>
  </Files>
</Package>
EOF
printf 'Section "Device"\n  Identifier "nvidia"\n  Driver "modesetting"\nEndSection\n' >"$work/xorg/files/20-nvidia-fallback.conf"
"$clp" build "$work/xorg" -o "$work/CLP1251201.clp" >/dev/null
"$clp" sign "$work/CLP1251201.clp" -k "$work/vincentos.key" >/dev/null
run "$clp" feed add "$work/feed" "$work/CLP1251201.clp"
go build -o "$work/fileserver" "$here/scripts/fileserver"
"$work/fileserver" "$work/feed/repository" >"$work/server.url" 2>/dev/null &
server=$!
while ! [ -s "$work/server.url" ]; do sleep 0.1; done
url=$(head -1 "$work/server.url")
cp "$work/feed/repository/metadata/1.root.json" "$root/etc/clp/feed-root.json"
echo "FeedMirror = $url" >>"$root/etc/clp/clp.conf"
run "$clp" --root "$root" update --check
run "$clp" --root "$root" update --noconfirm --if-configured
run cat "$root/etc/X11/xorg.conf.d/20-nvidia-fallback.conf"

say "Everything clp did, in order"
run "$clp" --root "$root" history

say "demo done" "systemctl disable core-livepatch-update.timer turns the daily update off on a real machine"

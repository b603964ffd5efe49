#!/usr/bin/env bash
# CI: check the systemd units in dist/systemd with systemd-analyze.
#  - verify: every key known, every dependency resolvable, ExecStart
#    executable. The units name /usr/bin/clp, which CI machines lack, so they
#    are verified inside a throwaway root (--root) holding systemd's own
#    units, a stub /usr/bin/clp and ours. Any message counts as a failure:
#    systemd-analyze exits 0 on an unknown key, which is exactly the typo
#    that silently drops a hardening setting.
#  - calendar: the timer's OnCalendar fires daily at 12:00:00.
# A deliberately broken copy is verified too, so a check that can no longer
# fail (systemd-analyze missing a feature) does not pass silently.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
units=$here/dist/systemd
service=core-livepatch-update.service
timer=core-livepatch-update.timer
work=$(mktemp -d "${TMPDIR:-/tmp}/clp-systemd.XXXXXX")
trap 'rm -rf "$work"' EXIT

sysunits=
for d in /usr/lib/systemd/system /lib/systemd/system; do
	if [ -e "$d/sysinit.target" ]; then sysunits=$d; break; fi
done
if [ -z "$sysunits" ]; then
	echo "check-systemd: systemd's units (sysinit.target) not found" >&2
	exit 1
fi

# verify DIR: verify the two units found in DIR; print what systemd says.
verify() {
	local root=$work/root
	rm -rf "$root"
	mkdir -p "$root/usr/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
	cp -a "$sysunits" "$root/usr/lib/systemd/system"
	printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/clp"
	chmod 755 "$root/usr/bin/clp"
	cp "$1/$service" "$1/$timer" "$root/etc/systemd/system/"
	local out
	if ! out=$(systemd-analyze verify --root="$root" --man=no "$service" "$timer" 2>&1); then
		printf '%s\n' "${out:-systemd-analyze verify failed}"
		return 1
	fi
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		return 1
	fi
}

echo "== systemd-analyze verify $service $timer"
if ! verify "$units"; then
	echo "check-systemd: the units do not verify" >&2
	exit 1
fi

mkdir "$work/broken"
cp "$units/$service" "$units/$timer" "$work/broken/"
sed -i 's/^ProtectHome=yes$/ProtectHomee=yes/' "$work/broken/$service"
if verify "$work/broken" >/dev/null; then
	echo "check-systemd: a unit with an unknown key passed verify; the check is broken" >&2
	exit 1
fi

for want in 'Type=oneshot' 'ExecStart=/usr/bin/clp update --noconfirm --if-configured' 'After=network-online.target' \
	'Wants=network-online.target' 'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes'; do
	grep -qxF "$want" "$units/$service" || { echo "check-systemd: $service lacks $want" >&2; exit 1; }
done
for want in 'Persistent=true' "Unit=$service" 'WantedBy=timers.target'; do
	grep -qxF "$want" "$units/$timer" || { echo "check-systemd: $timer lacks $want" >&2; exit 1; }
done
if grep -q '^MemoryDenyWriteExecute=yes' "$units/$service"; then
	echo "check-systemd: MemoryDenyWriteExecute breaks pwsh patch scripts" >&2
	exit 1
fi

cal=$(sed -n 's/^OnCalendar=//p' "$units/$timer")
echo "== systemd-analyze calendar '$cal'"
out=$(TZ=UTC systemd-analyze calendar "$cal")
printf '%s\n' "$out"
norm=$(printf '%s\n' "$out" | sed -n 's/^ *Normalized form: //p')
next=$(printf '%s\n' "$out" | sed -n 's/^ *Next elapse: //p')
if [ "$norm" != '*-*-* 12:00:00' ]; then
	echo "check-systemd: OnCalendar normalizes to '$norm', want '*-*-* 12:00:00'" >&2
	exit 1
fi
case $next in
*' 12:00:00 UTC') ;;
*)
	echo "check-systemd: next elapse '$next' is not at 12:00:00" >&2
	exit 1
	;;
esac
# Daily: the elapse after the next is 24 hours later.
out2=$(TZ=UTC systemd-analyze calendar --iterations=2 "$cal")
n1=$(printf '%s\n' "$out2" | sed -n 's/^ *Next elapse: //p')
n2=$(printf '%s\n' "$out2" | sed -n 's/^ *Iter\. #2: //p')
d1=$(date -ud "${n1% UTC}" +%s)
d2=$(date -ud "${n2% UTC}" +%s)
if [ $((d2 - d1)) -ne 86400 ]; then
	echo "check-systemd: the timer does not fire every 24 hours ($n1, then $n2)" >&2
	exit 1
fi
echo "check-systemd: ok"

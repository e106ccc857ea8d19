#!/bin/sh
# The Debian package, installed and run: builds frontline_<version>_<arch>.deb
# (scripts/build-deb; reused while the sources are unchanged), installs it
# with dpkg into a throwaway root, and runs it there as the service's user:
#
# - the throwaway root is this Debian 12 system under an overlay whose upper
#   layer is a tmpfs, in a private mount namespace (unshare): dpkg and the
#   maintainer scripts run for real (chroot), nothing reaches the host, and
#   it all vanishes when the namespace ends. The host has the runtime
#   libraries, so the package's Depends are also checked against ldd;
# - postinst: the system user, the configuration's modes, the migrated store;
# - `frontline process` with the installed configuration (found without
#   --config), from / ; `frontline serve --demo` + `frontline probe`;
# - the manual pages, one per command; systemd-analyze verify (no output)
#   and security (OK or better) on the installed units;
# - purge keeps the state unless FRONTLINE_PURGE_STATE=yes.
#
# Usage: deb_test.sh SOURCE_ROOT. Exit 77 (skipped) when not root or when
# mount namespaces, overlayfs or the Debian tools are not available here.
set -u
SRC=$(cd "${1:?usage: deb_test.sh SOURCE_ROOT}" && pwd)
. "$SRC/tests/integration/deploy_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: the package test needs root (dpkg in a chroot, mounts)"; exit 77
fi
for t in dpkg-buildpackage lintian unshare chroot systemd-analyze rsync; do
	command -v "$t" >/dev/null || { echo "skipped: $t is not installed (scripts/install-deps)"; exit 77; }
done
if [ "${FRONTLINE_DEB_INNER:-}" != 1 ]; then
	deb=$("$SRC/scripts/build-deb" "$SRC/build-deb") || { echo "not ok - scripts/build-deb"; exit 1; }
	echo "ok - built $(basename "$deb") (lintian: no error or warning)"
	T=$(mktemp -d /tmp/frontline-deb.XXXXXX)
	trap 'rm -rf "$T"' EXIT
	FRONTLINE_DEB_INNER=1 unshare --mount --propagation private --fork sh "$0" "$SRC" "$deb" "$T"
	exit $?
fi

# ---- inside the private mount namespace ----
deb=$2 T=$3 R=$3/root
mkdir -p "$T/layer" "$R"
if ! mount -t tmpfs tmpfs "$T/layer" || ! mkdir "$T/layer/up" "$T/layer/work" ||
   ! mount -t overlay overlay -o "lowerdir=/,upperdir=$T/layer/up,workdir=$T/layer/work" "$R"; then
	echo "skipped: cannot make an overlay of / here"; exit 77
fi
mount -t proc proc "$R/proc" && mount --bind /dev "$R/dev" &&
	mount -t tmpfs tmpfs "$R/tmp" && mount -t tmpfs tmpfs "$R/run" || { echo "not ok - mounts in the root"; exit 1; }
# a clean slate in the copy: no earlier install of the package, no user
# (and no man-db index rebuild on each dpkg run: seconds each)
chroot "$R" sh -c 'dpkg -P frontline >/dev/null 2>&1; rm -rf /var/lib/frontline /etc/frontline /var/lib/man-db/auto-update;
	userdel frontline >/dev/null 2>&1; groupdel frontline >/dev/null 2>&1; true'
cp "$deb" "$R/tmp/frontline.deb"
cp "$SRC/tests/fixtures/tickets/password.json" "$R/tmp/ticket.json"
in_root() { chroot "$R" "$@"; }
as_service() { chroot "$R" setpriv --reuid=frontline --regid=frontline --clear-groups "$@"; }

in_root dpkg -i /tmp/frontline.deb >"$T/dpkg.log" 2>&1
rc=$?; check "dpkg -i (postinst included)" 0 $rc
[ $rc -eq 0 ] || cat "$T/dpkg.log"
check "the system user" frontline "$(in_root getent passwd frontline | cut -d: -f1)"
check "/etc/frontline/frontline.conf: root:frontline 0640" "root:frontline 640" \
	"$(in_root stat -c '%U:%G %a' /etc/frontline/frontline.conf)"
check "the conffile" /etc/frontline/frontline.conf "$(in_root dpkg-query -W -f='${Conffiles}' frontline | awk 'NF{print $1}')"
check "postinst migrated the store in /var/lib/frontline" "frontline 750 frontline" \
	"$(in_root stat -c '%U %a' /var/lib/frontline) $(in_root stat -c '%U' /var/lib/frontline/frontline.db 2>&1)"

# every shared library the binary loads belongs to a package the .deb depends on
deps=$(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/ //g; s/:.*//')
missing=""
in_root ldd /usr/bin/frontline >"$T/ldd" 2>&1
for soname in $(readelf -d "$R/usr/bin/frontline" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	case $soname in ld-linux*) continue ;; esac  # the loader: libc6
	lib=$(awk -v s="$soname" '$1 == s && $3 ~ /^\// {print $3}' "$T/ldd")
	pkg=$(in_root dpkg -S "$(in_root readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -z "$pkg" ] && pkg=$(in_root dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
	echo "$deps" | grep -qx "$pkg" || missing="$missing $soname($pkg)"
done
check "Depends names the package of every library the binary links (NEEDED)" "" "$missing"

# triage one ticket as the service's user, from /, with the installed configuration
(cd / && as_service /usr/bin/frontline process /tmp/ticket.json --json) >"$T/process.json" 2>"$T/process.err"
check "frontline process (installed models, KB and configuration)" 0 $?
grep -q '"category": "account"' "$T/process.json"; check "the ticket was triaged as account" 0 $?
(cd / && as_service /usr/bin/frontline process /tmp/ticket.json --json) 2>/dev/null | grep -q '"already_processed": true'
check "stored in the packaged store (a second run finds it)" 0 $?

# the service with the demo data, probed
chroot "$R" setpriv --reuid=frontline --regid=frontline --clear-groups \
	env FRONTLINE_LISTEN=127.0.0.1:0 FRONTLINE_WORKERS=1 /usr/bin/frontline serve --demo \
	>"$T/serve.out" 2>"$T/serve.err" &
spid=$!
port=$(served_port "$T/serve.out")
check "serve --demo started" 1 "$([ -n "$port" ] && echo 1)"
as_service env FRONTLINE_LISTEN="127.0.0.1:$port" /usr/bin/frontline probe --wait 30 >/dev/null
check "probe (FRONTLINE_LISTEN, /readyz)" 0 $?
as_service /usr/bin/frontline probe --live --url "http://127.0.0.1:$port/healthz" >/dev/null
check "probe --live --url" 0 $?
kill -TERM $spid; wait $spid
check "serve stops on SIGTERM with 0" 0 $?
as_service env FRONTLINE_LISTEN="127.0.0.1:$port" /usr/bin/frontline probe --quiet --timeout 1
check "probe of a stopped service: EX_UNAVAILABLE" 69 $?

# manual pages: frontline(1) and one per command, rendered without warnings
cmds=$(in_root /usr/bin/frontline --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
nomissing=""
for c in "" $cmds; do
	page=/usr/share/man/man1/frontline${c:+-$c}.1.gz
	[ -s "$R$page" ] || { nomissing="$nomissing frontline${c:+-$c}"; continue; }
	w=$(in_root man --warnings -l -Tutf8 "$page" 2>&1 >/dev/null)
	[ -z "$w" ] || nomissing="$nomissing frontline${c:+-$c}(warns: $w)"
done
check "a manual page per command, no groff warning" "" "$nomissing"
in_root zcat /usr/share/man/man1/frontline-serve.1.gz | grep -q 'no\\-workers'
check "frontline-serve(1) lists --no-workers" 0 $?

# the units
for u in frontline.service frontline-worker.service; do
	out=$(in_root systemd-analyze verify "/lib/systemd/system/$u" 2>&1)
	check "systemd-analyze verify $u: no output" "" "$out"
	level=$(in_root systemd-analyze security --offline=true "/lib/systemd/system/$u" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
	echo "# systemd-analyze security $u: $level"
	case "$level" in *" OK" | *" SAFE") check "security $u OK or better" 1 1 ;;
	*) check "security $u OK or better" "OK" "$level" ;; esac
done

# remove and purge: the state stays unless asked
in_root dpkg -P frontline >"$T/purge.log" 2>&1
check "dpkg -P" 0 $?
check "purge keeps /var/lib/frontline by default" 1 "$([ -d "$R/var/lib/frontline" ] && echo 1)"
grep -q 'kept /var/lib/frontline' "$T/purge.log"; check "purge says where the state is" 0 $?
in_root dpkg -i /tmp/frontline.deb >/dev/null 2>&1
in_root env FRONTLINE_PURGE_STATE=yes dpkg -P frontline >/dev/null 2>&1
check "purge with FRONTLINE_PURGE_STATE=yes removes it" 1 "$([ -d "$R/var/lib/frontline" ]; echo $?)"
[ $fail -eq 0 ] || { echo "--- serve.err"; tail -20 "$T/serve.err"; echo "--- process.err"; cat "$T/process.err"; }
exit $fail

#!/bin/sh
# `meson install` into a temporary DESTDIR, then the installed binary run from
# another working directory, without FRONTLINE_DATA_DIR or the source tree:
#
# - the layout: bin/frontline, share/frontline/{models,kb}, etc/frontline/
#   frontline.conf (every key, commented), the manual pages (frontline(1) and
#   one per command of `frontline --help`), the systemd units, sysusers.d;
# - the data is found from the binary's prefix (fl_share_path): `frontline
#   process` works, and fails naming the installed path once a model is
#   removed there; FRONTLINE_SHARE_DIR overrides it;
# - the store follows FRONTLINE_STATE_DIR; serve --demo + probe.
#
# Usage: install_test.sh BUILD_ROOT SOURCE_ROOT
set -u
B=$(cd "${1:?usage: install_test.sh BUILD_ROOT SOURCE_ROOT}" && pwd)
SRC=$(cd "${2:?}" && pwd)
T=$(mktemp -d /tmp/frontline-install.XXXXXX)
trap 'kill $spid 2>/dev/null; rm -rf "$T"' EXIT
spid=""
. "$SRC/tests/integration/deploy_lib.sh"

meson install -C "$B" --destdir "$T/dest" --no-rebuild --quiet >"$T/install.log" 2>&1
check "meson install --destdir" 0 $?
prefix=$(meson introspect "$B" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
P="$T/dest$prefix"
FL="$P/bin/frontline"
check "bin/frontline" 1 "$([ -x "$FL" ] && echo 1)"
check "share/frontline/models: the five models (category, sentiment, emotion, spam, articles)" 5 "$(ls "$P/share/frontline/models/"*.model 2>/dev/null | wc -l)"
check "share/frontline/kb: every bundled article" "$(ls "$SRC/data/kb" | wc -l)" "$(ls "$P/share/frontline/kb" 2>/dev/null | wc -l)"
if [ -d "$SRC/web" ]; then
	check "share/frontline/web: the console" 1 "$([ -d "$P/share/frontline/web" ] && echo 1)"
fi
conf=$(find "$T/dest" -path '*/frontline/frontline.conf' -not -path '*sysusers*' | head -1)
keys=$(grep -c '^| `' "$SRC/docs/CONFIGURATION.md")
check "frontline.conf lists every key of docs/CONFIGURATION.md" "$keys" "$(grep -Ec '^#?[A-Z_]+=' "$conf")"
check "frontline.conf sets only the state directory" "FRONTLINE_STATE_DIR" "$(grep -E '^[A-Z_]+=' "$conf" | cut -d= -f1)"
check "frontline.conf is not world-readable" "640" "$(stat -c %a "$conf")"
for f in "$(find "$T/dest" -name frontline.service)" "$(find "$T/dest" -name frontline-worker.service)" \
	 "$(find "$T/dest" -path '*sysusers.d/frontline.conf')"; do
	check "installed: ${f#"$T/dest"}" 1 "$([ -s "$f" ] && echo 1)"
done
grep -q "^ExecStart=$prefix/bin/frontline serve$" "$(find "$T/dest" -name frontline.service)"
check "frontline.service runs the installed binary" 0 $?

# the manual pages: one per command the binary knows (meson.build lists them)
cmds=$("$FL" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
missing=""
for c in "" $cmds; do
	page="$P/share/man/man1/frontline${c:+-$c}.1"
	if [ ! -s "$page" ]; then missing="$missing frontline${c:+-$c}.1"; continue; fi
	w=$(man --warnings -l -Tutf8 "$page" 2>&1 >/dev/null)
	[ -z "$w" ] || missing="$missing $c:$w"
done
check "a manual page per command (fl_man_commands in meson.build), no groff warning" "" "$missing"
check "no manual page for a command that is gone" "$(echo $cmds | wc -w)" "$(ls "$P/share/man/man1/" | grep -c '^frontline-')"
"$FL" help --man probe | grep -q 'EX_UNAVAILABLE\|exit 0 or 69'
check "frontline-probe(1) comes from the probe's own help" 0 $?

# run it from elsewhere, without the source tree's variables
mkdir -p "$T/cwd"
cd "$T/cwd" || exit 1
run() { env -u FRONTLINE_DATA_DIR -u FRONTLINE_SOURCE_ROOT -u FRONTLINE_BUILD_ROOT -u FRONTLINE_MODELS_DIR \
	-u FRONTLINE_KB_DIR -u FRONTLINE_SHARE_DIR -u FRONTLINE_DATABASE_URL FRONTLINE_CONFIG=/dev/null \
	FRONTLINE_STATE_DIR="$T/state" "$@"; }
# the same in a subshell that becomes the program (for "&": $! is then its pid)
runx() { exec env -u FRONTLINE_DATA_DIR -u FRONTLINE_SOURCE_ROOT -u FRONTLINE_BUILD_ROOT -u FRONTLINE_MODELS_DIR \
	-u FRONTLINE_KB_DIR -u FRONTLINE_SHARE_DIR -u FRONTLINE_DATABASE_URL FRONTLINE_CONFIG=/dev/null \
	FRONTLINE_STATE_DIR="$T/state" "$@"; }
mkdir -p "$T/state"
run "$FL" process "$SRC/tests/fixtures/tickets/password.json" --json >"$T/process.json" 2>"$T/process.err"
check "installed frontline process from another directory" 0 $?
grep -q '"category": "account"' "$T/process.json"; check "the ticket was triaged as account" 0 $?
check "the store is in FRONTLINE_STATE_DIR" 1 "$([ -s "$T/state/frontline.db" ] && echo 1)"
check "nothing was written to the working directory" "" "$(ls "$T/cwd")"

# the serve --demo service, probed
(runx env FRONTLINE_WORKERS=1 "$FL" serve --demo --listen 127.0.0.1:0) >"$T/serve.out" 2>"$T/serve.err" &
spid=$!
port=$(served_port "$T/serve.out")
check "serve --demo started" 1 "$([ -n "$port" ] && echo 1)"
run env FRONTLINE_LISTEN="127.0.0.1:$port" "$FL" probe --wait 30 >/dev/null
check "probe /readyz" 0 $?
run env FRONTLINE_LISTEN=":$port" "$FL" probe --live >/dev/null
check "probe --live with a wildcard listen address" 0 $?
run "$FL" probe --url "http://127.0.0.1:$port/nonexistent" --quiet
check "probe of a 404: EX_UNAVAILABLE" 69 $?
kill -TERM $spid; wait $spid
check "serve stops on SIGTERM with 0" 0 $?
spid=""
run env FRONTLINE_LISTEN="127.0.0.1:$port" "$FL" probe --timeout 1 2>"$T/probe.err"
check "probe of a stopped service: EX_UNAVAILABLE" 69 $?
grep -q "no answer" "$T/probe.err"; check "probe says why" 0 $?
run "$FL" probe --wait -1 2>/dev/null
check "probe --wait -1: EX_USAGE" 64 $?

# the data comes from the installed prefix: take a model away there
mv "$P/share/frontline/models/category.model" "$T/category.model"
run "$FL" process "$SRC/tests/fixtures/tickets/password.json" --no-store >/dev/null 2>"$T/err"
check "without the installed model: EX_CONFIG" 78 $?
grep -q "$P/share/frontline/models/category.model" "$T/err"
check "the error names the installed path" 0 $?
run env FRONTLINE_SHARE_DIR="$SRC/data" "$FL" process "$SRC/tests/fixtures/tickets/password.json" --no-store >/dev/null 2>&1
check "FRONTLINE_SHARE_DIR overrides the prefix" 0 $?
[ $fail -eq 0 ] || { cat "$T/install.log" "$T/process.err"; tail -5 "$T/serve.err"; }
exit $fail

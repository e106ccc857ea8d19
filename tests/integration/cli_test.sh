#!/bin/sh
# The CLI skeleton: version, help, workflow list/show, usage errors and their
# sysexits codes. Usage: cli_test.sh PATH/TO/frontline
set -u
FL=$1
. "$(dirname "$0")/check_lib.sh"   # before the cd: $0 may be relative
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$FL" --version >out 2>err; check "--version" 0 $?
contains "--version prints version" out "^frontline [0-9]"
"$FL" version >out 2>err; check "version" 0 $?

"$FL" --help >out 2>err; check "--help" 0 $?
contains "--help lists workflow" out "workflow .*list the workflows"
contains "--help lists version" out "version .*print the version"
contains "--help lists the global options" out "--database URL"
[ "$(grep -c '^usage:' out)" = 1 ]; check "--help shows the usage once" 0 $?
"$FL" help >out 2>err; check "help" 0 $?

"$FL" frobnicate >out 2>err; check "unknown subcommand exits 64" 64 $?
contains "unknown subcommand named" err "unknown command 'frobnicate'"
contains "unknown subcommand shows usage" err "usage: frontline"

"$FL" --bogus >out 2>err; check "unknown global option exits 64" 64 $?
contains "unknown option named" err "unknown option '--bogus'"

"$FL" >out 2>err; check "no subcommand exits 64" 64 $?

"$FL" workflow >out 2>err; check "workflow without subcommand" 64 $?
"$FL" workflow list --nope >out 2>err; check "workflow list bad option" 64 $?
contains "bad option named" err "unknown option '--nope'"
"$FL" workflow list >out 2>err; check "workflow list" 0 $?
"$FL" workflow list --json >out 2>err; check "workflow list --json" 0 $?
contains "workflow list --json is an array" out "^\["
"$FL" workflow show >out 2>err; check "workflow show without name" 64 $?
"$FL" workflow show no_such_flow >out 2>err; check "workflow show unknown" 64 $?
contains "unknown workflow named" err "unknown workflow 'no_such_flow'"
"$FL" workflow show x --format svg >out 2>err; check "workflow show bad format" 64 $?
contains "bad format named" err "unknown format 'svg'"
"$FL" workflow show --help >out 2>err; check "workflow show --help" 0 $?
contains "workflow --help shows usage" out "usage: frontline workflow"

# every registered workflow draws in every format
for wf in $("$FL" workflow list | awk '{print $1}'); do
	for fmt in text dot mermaid; do
		"$FL" workflow show "$wf" --format "$fmt" >out 2>err; check "show $wf $fmt" 0 $?
	done
	"$FL" workflow show "$wf" --format dot >out 2>&1
	contains "$wf dot is a digraph" out "^digraph"
done

"$FL" --config /nonexistent/frontline.conf version >out 2>err; check "missing --config exits 78" 78 $?
contains "missing config named" err "/nonexistent/frontline.conf"
printf 'SUPPORT_LOG_LEVEL=loud\n' >bad.conf
"$FL" --config bad.conf version >out 2>err; check "bad log level exits 78" 78 $?
printf 'this line is wrong\n' >bad2.conf
"$FL" --config bad2.conf version >out 2>err; check "malformed config exits 78" 78 $?
contains "malformed config line named" err "bad2.conf:1"

# names and subjects are shown, never obeyed: control characters (an escape
# sequence, a forged line) are printed escaped by every listing
export FRONTLINE_DATABASE_URL="sqlite://$tmp/cli.db" SUPPORT_LOG_LEVEL=error
esc=$(printf '\033')
nocontrol() { # name file: no byte below 0x20 but newline and tab, and no DEL
	if LC_ALL=C tr -d '\n\t' <"$2" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		echo "FAIL: $1: a control character was printed raw:"
		od -c "$2" | sed 's/^/    /' | head -20
		fails=$((fails + 1))
	else
		echo "ok: $1"
	fi
}
"$FL" token create --role agent --name "evil${esc}[2Jname$(printf '\r')x" >out 2>err
check "token create with a control character in the name" 0 $?
nocontrol "token create's message escapes the name" err
"$FL" token create --role agent --name "$(printf 'two\nlines')" >out 2>err
"$FL" token list >out 2>err; check "token list" 0 $?
nocontrol "token list escapes control characters" out
contains "token list shows the escape" out 'evil\\x1b\[2Jname\\rx'
contains "token list shows a newline as \\n" out 'two\\nlines'
[ "$(grep -c . out)" = 2 ]; check "token list: one line per token" 0 $?
printf '{"customer_id": "c\\u001b[1m", "subject": "Reset\\u001b[2J broken", "content": "My password reset email never arrives at all."}' >ctl.json
"$FL" process ctl.json >out 2>err; check "process a ticket with control characters" 0 $?
nocontrol "process's report escapes control characters" out
contains "the report shows the subject escaped" out 'Reset\\x1b\[2J broken'
unset FRONTLINE_DATABASE_URL SUPPORT_LOG_LEVEL

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all CLI checks passed"

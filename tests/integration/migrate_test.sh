#!/bin/sh
# frontline migrate: fresh database, repeat, --status/--json, and the errors a
# user meets (bad URL, a file that is not a database, an unreachable server
# with a password that must not be printed), with their sysexits codes.
# Usage: migrate_test.sh PATH/TO/frontline
set -u
FL=$1
. "$(dirname "$0")/check_lib.sh"   # before the cd: $0 may be relative
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

db="sqlite://$tmp/var/fl.db"
"$FL" --database "$db" migrate --status >out 2>err; check "status of a new database" 0 $?
contains "status names the version" out "is at schema version 0"
"$FL" --database "$db" migrate >out 2>err; check "migrate a new database" 0 $?
contains "migrate reports the versions" out "from schema version 0 to"
"$FL" --database "$db" migrate >out 2>err; check "migrate again" 0 $?
contains "migrate again is up to date" out "up to date"
"$FL" --database "$db" migrate --status --json >out 2>err; check "status --json" 0 $?
contains "json says not pending" out '"pending":false'
FRONTLINE_DATABASE_URL="$db" "$FL" migrate --status >out 2>err; check "URL from the environment" 0 $?

"$FL" --database "mysql://u:hunter2@h/db" migrate >out 2>err; check "unsupported URL" 78 $?
contains "unsupported URL says so" err "unsupported store URL"
lacks "unsupported URL hides the password" err "hunter2"

printf 'this is not a database, just some text that is long enough to have a header' >"$tmp/junk.db"
cp "$tmp/junk.db" "$tmp/junk.orig"
"$FL" --database "sqlite://$tmp/junk.db" migrate >out 2>err; check "not a database" 65 $?
contains "not a database names the URL" err "junk.db"
if cmp -s "$tmp/junk.db" "$tmp/junk.orig"; then echo "ok: not a database is untouched"; else
	echo "FAIL: not a database was modified"; fails=$((fails + 1)); fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$FL" --database "postgres://fl:s3cretpw@127.0.0.1:$port/fl?connect_timeout=2" migrate >out 2>err
check "unreachable postgres" 69 $?
contains "unreachable postgres names the URL" err "postgres://fl:\*\*\*@127.0.0.1:$port/fl"
lacks "unreachable postgres hides the password" err "s3cretpw"

"$FL" migrate extra >out 2>err; check "unexpected argument" 64 $?

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all migrate checks passed"

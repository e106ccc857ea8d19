#!/bin/sh
# frontline mail-in as a mail server runs it: one process per message on
# stdin, the exit code is the answer (0 stored, 65 never, 75 retry later).
# Covers new tickets, retries, replies, quarantine, non-messages, the size
# limit, an unreachable store, a locked store and a full disk, and that a
# retry after a temporary failure stores the message exactly once.
# Usage: mail_in_test.sh PATH/TO/frontline
set -u
FL=$1
. "$(dirname "$0")/check_lib.sh"   # before the cd: $0 may be relative
tmp=$(mktemp -d)
holder=""
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export FRONTLINE_DATABASE_URL="sqlite://$tmp/f.db?synchronous=normal&busy_timeout=200"
export SUPPORT_LOG_LEVEL=error
PY=/usr/bin/python3

count() { # sql -> number (the store is SQLite here)
	$PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$tmp/f.db" "$1"
}

printf 'From: Ann <ann@example.com>\r\nTo: help@example.com\r\nSubject: Cannot log in\r\nMessage-ID: <m1@example.com>\r\n\r\nThe password reset email never arrives.\r\n' >m1.eml
printf 'From: ann@example.com\r\nSubject: Re: Cannot log in\r\nMessage-ID: <m2@example.com>\r\nIn-Reply-To: <m1@example.com>\r\n\r\nStill waiting.\r\n' >m2.eml

# mail-in never creates a store: a wrong URL must not take mail into an empty
# store nobody reads (the mail server keeps the message and retries)
FRONTLINE_DATABASE_URL="sqlite://$tmp/nodir/f.db" "$FL" mail-in <m1.eml >out 2>err
check "a store whose directory does not exist exits 75" 75 $?
contains "the missing store is named" err "nodir/f.db"
[ ! -e "$tmp/nodir" ] && echo "ok: no directory created" || { echo "FAIL: mail-in created $tmp/nodir"; fails=$((fails + 1)); }
"$FL" mail-in <m1.eml >out 2>err; check "a store that does not exist exits 75" 75 $?
contains "the missing store: what to do" err "frontline migrate"
[ ! -e "$tmp/f.db" ] && echo "ok: no database created" || { echo "FAIL: mail-in created f.db"; fails=$((fails + 1)); }
"$FL" migrate >/dev/null 2>err; check "migrate creates the store" 0 $?

"$FL" mail-in --json --queue billing <m1.eml >out 2>err; check "new message exits 0" 0 $?
contains "new message is a ticket" out '"outcome":"ticket"'
contains "ticket number printed" out '"ticket_number":"T-000001"'
"$FL" mail-in --json <m1.eml >out 2>err; check "the mail server's retry exits 0" 0 $?
contains "the retry is a duplicate" out '"outcome":"duplicate"'
"$FL" mail-in --json <m2.eml >out 2>err; check "reply exits 0" 0 $?
contains "reply joins the thread" out '"outcome":"appended"'
[ "$(count 'select count(*) from tickets')" = 1 ] && echo "ok: one ticket" || { echo "FAIL: ticket count"; fails=$((fails + 1)); }
[ "$(count "select count(*) from jobs where kind = 'triage'")" = 1 ] && echo "ok: one triage job" || { echo "FAIL: job count"; fails=$((fails + 1)); }
[ "$(count "select json_extract(metadata, '\$.queue') from tickets")" = billing ] && echo "ok: --queue recorded" || { echo "FAIL: queue"; fails=$((fails + 1)); }

printf 'just some text\nwithout any header\n' | "$FL" mail-in --json >out 2>err; check "headerless text exits 0" 0 $?
contains "headerless text is quarantined" out '"outcome":"quarantined"'

: | "$FL" mail-in >out 2>err; check "empty input exits 65" 65 $?
contains "empty input: reason on stderr" err "message refused: empty input"
head -c 2048 /dev/zero | "$FL" mail-in >out 2>err; check "binary input exits 65" 65 $?
contains "binary input: reason on stderr" err "binary"
FRONTLINE_EMAIL_MAX_BYTES=64 "$FL" mail-in <m1.eml >out 2>err; check "oversized message exits 65" 65 $?
contains "oversized: reason on stderr" err "over the limit of 64 bytes"

# unreachable store: temporary
FRONTLINE_DATABASE_URL="postgresql://frontline@127.0.0.1:1/none?connect_timeout=2" "$FL" mail-in <m1.eml >out 2>err
check "unreachable store exits 75" 75 $?
contains "unreachable store says so" err "retry"

# locked store: another process holds the write lock
printf 'From: bob@example.com\r\nSubject: Printer\r\nMessage-ID: <m3@example.com>\r\n\r\nThe printer is on fire.\r\n' >m3.eml
$PY - "$tmp/f.db" "$tmp/locked" "$tmp/release" <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
db.execute("ROLLBACK")
EOF
holder=$!
i=0
while [ ! -e locked ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
"$FL" mail-in <m3.eml >out 2>err; check "locked store exits 75" 75 $?
touch release
wait "$holder"
holder=""
"$FL" mail-in --json <m3.eml >out 2>err; check "retry after the lock exits 0" 0 $?
contains "retry after the lock is a new ticket" out '"outcome":"ticket"'
[ "$(count "select count(*) from tickets where subject = 'Printer'")" = 1 ] && echo "ok: stored once" || { echo "FAIL: stored once"; fails=$((fails + 1)); }

# a full disk (RLIMIT_FSIZE, its signal ignored): temporary, and nothing half-done
$PY -c "print('From: carol@example.com\r\nSubject: Big\r\nMessage-ID: <m4@example.com>\r\n\r\n' + 'x' * 400000)" >m4.eml
(trap '' XFSZ; ulimit -f 256; exec "$FL" mail-in <m4.eml >out 2>err); rc=$?
check "full disk exits 75" 75 $rc
"$FL" mail-in --json <m4.eml >out 2>err; check "retry with space exits 0" 0 $?
contains "retry with space is a ticket" out '"outcome":"ticket"'
[ "$(count "select count(*) from tickets where subject = 'Big'")" = 1 ] && echo "ok: big stored once" || { echo "FAIL: big stored once"; fails=$((fails + 1)); }
[ "$(count "select count(*) from mail_raw where status = 'received'")" = 0 ] && echo "ok: no raw message left unprocessed" || { echo "FAIL: unprocessed raw"; fails=$((fails + 1)); }

"$FL" mail-in extra <m1.eml >out 2>err; check "unexpected argument exits 64" 64 $?

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all mail-in checks passed"

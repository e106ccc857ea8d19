#!/bin/sh
# The console's commands: `frontline user` (create, passwd, disable, enable,
# list; generated passwords printed once; sysexits codes) and `frontline
# feedback export` (agents' corrections as {text, label, task} rows, the
# last of each ticket and field) taken by `frontline train --feedback`.
# Usage: console_cli_test.sh PATH/TO/frontline SOURCE_ROOT
set -u
FL=$1
ROOT=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export FRONTLINE_DATABASE_URL="sqlite://$tmp/console.db"
export FRONTLINE_PASSWORD_COST=min   # libsodium's floor: tests only

. "$ROOT/tests/integration/check_lib.sh"
lines() { # name file expected_count
	n=$(wc -l <"$2")
	if [ "$n" -eq "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: $n lines, expected $3"; fails=$((fails + 1)); fi
}

# ---- users ----
"$FL" user create --email Ann@Example.com --name Ann --role agent --department billing >out 2>err
check "user create" 0 $?
grep -Eq '^[A-Za-z0-9]{20}$' out; check "a generated password is printed once, 20 characters" 0 $?
contains "user create says it is shown once" err "shown only this once"
"$FL" user create --email ann@EXAMPLE.com --name Ann2 --role agent >out 2>err
check "the same email in another case exits 65" 65 $?
"$FL" user create --email c@example.com --name C --role boss >out 2>err
check "an unknown role exits 64" 64 $?
"$FL" user create --email c@example.com --role agent >out 2>err
check "a missing name exits 64" 64 $?
printf 'short\n' | "$FL" user create --email c@example.com --name C --role admin --password-stdin >out 2>err
check "a short password exits 65" 65 $?
printf 'long enough password\n' | "$FL" user create --email c@example.com --name C --role admin --password-stdin >out 2>err
check "user create --password-stdin" 0 $?
[ ! -s out ]; check "a password read is not printed" 0 $?
FRONTLINE_PASSWORD_COST=cheap "$FL" user create --email d@example.com --name D --role agent >out 2>err
check "an unknown password cost exits 78" 78 $?
"$FL" user passwd --email nobody@example.com >out 2>err
check "passwd of an unknown email exits 67" 67 $?
"$FL" user passwd --email ann@example.com >out 2>err
check "user passwd" 0 $?
grep -Eq '^[A-Za-z0-9]{20}$' out; check "passwd prints the new password" 0 $?
"$FL" user disable --email ANN@example.com >out 2>err
check "user disable" 0 $?
"$FL" user list --json >out 2>err
check "user list --json" 0 $?
python3 -c 'import json,sys; u=json.load(open("out")); sys.exit(0 if len(u)==2 and u[0]["disabled"] and u[0]["email"]=="ann@example.com" and u[0]["department"]=="billing" and "password_hash" not in u[0] else 1)'
check "the list shows two users, the first disabled, no hashes" 0 $?
"$FL" user enable --email ann@example.com >out 2>err
check "user enable" 0 $?
"$FL" user list >out 2>err
check "user list" 0 $?
contains "user list names the admin" out "c@example.com"
if grep -q disabled out; then echo "FAIL: enabled again"; fails=$((fails + 1)); else echo "ok: enabled again"; fi

# ---- corrections as training rows ----
# a ticket and three corrections, written behind the store's back (the API makes them: test_server_queue)
sqlite3 console.db "INSERT INTO tickets (number, id, channel, subject, content, status, created_at, updated_at)
  VALUES (1, 'fb1', 'api', 'Charged twice', 'My card was charged twice for one invoice.', 'new', 1, 1);
INSERT INTO events (ticket_number, type, actor, data, created_at) VALUES
  (1, 'ticket.corrected', 'agent:ann', '{\"field\":\"category\",\"from\":\"technical\",\"to\":\"billing\"}', 1000000),
  (1, 'ticket.corrected', 'agent:bob', '{\"field\":\"category\",\"from\":\"billing\",\"to\":\"account\"}', 2000000),
  (1, 'ticket.corrected', 'agent:ann', '{\"field\":\"priority\",\"from\":\"low\",\"to\":\"high\"}', 3000000);" 2>err
check "corrections written" 0 $?
"$FL" feedback export --out rows.jsonl >out 2>err
check "feedback export" 0 $?
lines "the last correction of each ticket and field" rows.jsonl 2
contains "the category's last label" rows.jsonl '"label":"account","task":"category"'
contains "the priority's" rows.jsonl '"label":"high","task":"priority"'
contains "the text is subject and content" rows.jsonl '"text":"Charged twice\\n\\nMy card was charged twice'
"$FL" feedback export --task category --out cat.jsonl >out 2>err
check "feedback export --task" 0 $?
lines "one task's rows" cat.jsonl 1
"$FL" feedback export --since 2099-01-01 --out none.jsonl >out 2>err
check "feedback export --since" 0 $?
lines "nothing since then" none.jsonl 0
"$FL" feedback export >out 2>err
check "feedback export without --out exits 64" 64 $?
"$FL" feedback export --out rows.jsonl --task sentiment >out 2>err
check "an unknown task exits 64" 64 $?

# ---- frontline train takes them ----
head -n 300 "$ROOT/data/train/category-saas.jsonl" >base.jsonl
"$FL" train category --in base.jsonl --feedback rows.jsonl --out m.model --epochs 2 --hash-bits 14 --holdout 0 >out 2>err
check "train category --feedback" 0 $?
contains "train adds the category rows only" err "1 rows of agents' corrections"
printf '{"text":"x"}\n' >bad.jsonl
"$FL" train category --in base.jsonl --feedback bad.jsonl --out m2.model --epochs 1 --hash-bits 12 >out 2>err
check "a malformed feedback row exits 65" 65 $?

[ "$fails" -eq 0 ] && echo "all console CLI checks passed"
exit "$fails"

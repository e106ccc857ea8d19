#!/bin/sh
# The triage commands end to end on a real SQLite store: process, batch and
# demo, their outputs, and their errors with sysexits codes.
# Usage: triage_test.sh PATH/TO/frontline SOURCE_ROOT
set -u
. "$2/tests/integration/cli_lib.sh"

# the demo seeds the CRM with the seed's customers (demo 3 stores no ticket)
"$FL" demo --only 3 >out 2>err; check "demo seeds the CRM" 0 $?
"$FL" process "$SRC/tests/fixtures/tickets/password.json" >out 2>err; check "process" 0 $?
contains "process shows category" out "category      account"
contains "process shows the KB article" out "kb_001"
contains "process shows the trace" out "ticket_ingestion"
contains "process greets the customer" out "Hi John"

"$FL" process --json "$SRC/tests/fixtures/tickets/password.json" >out.json 2>err; check "process again --json" 0 $?
python3 - out.json <<'PY' >out 2>&1; check "process --json is the stored result" 0 $?
import json, sys
d = json.load(open(sys.argv[1]))
assert d["already_processed"] is True, d.keys()
assert d["created"] is False
assert d["ticket"]["id"] == "fixture_password_001"
assert d["ticket"]["status"] in ("auto_replied", "escalated"), d["ticket"]["status"]
assert d["analysis"]["categorization"]["primary_category"] == "account"
assert d["analysis"]["categorization"]["path"] == "builtin"
assert isinstance(d["trace"], list) and d["trace"]
PY

printf '{"customer_id": "c1", "subject": "s", "content": "short"}' >bad.json
"$FL" process bad.json >out 2>err; check "invalid ticket exits 65" 65 $?
contains "invalid ticket names the field" err "content: must be 10 to 10000 characters"
printf '{"customer_id": "c1",\n "subject": }' >broken.json
"$FL" process broken.json >out 2>err; check "bad JSON exits 65" 65 $?
contains "bad JSON gives line and column" err "line 2, column"
"$FL" process /nonexistent.json >out 2>err; check "missing file exits 66" 66 $?
"$FL" process >out 2>err; check "process without file exits 64" 64 $?
echo '{"id":"stdin_1","customer_id":"cust_002","subject":"Invoice copy","content":"Could you send me a copy of my last invoice please?"}' |
	"$FL" process --no-store - >out 2>err; check "process from stdin without store" 0 $?

"$FL" batch --json --workers 2 "$SRC/tests/fixtures/tickets/batch.jsonl" >out 2>err; check "batch with bad lines exits 65" 65 $?
python3 - out <<'PY' >pyout 2>&1; check "batch --json: one line per input, in order, then the summary" 0 $?
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r.get("line") for r in rows[:-1]] == [1, 2, 3, 4, 6], rows
assert rows[0]["id"] == "fx_b1" and rows[0]["ok"] and rows[0]["category"] == "billing", rows[0]
assert rows[1]["category"] == "technical", rows[1]
assert rows[2]["ok"] is False and "error" in rows[2]
assert rows[3]["ok"] is False and "content" in rows[3]["error"], rows[3]
assert rows[4]["id"] == "fx_b4" and rows[4]["ok"]
s = rows[-1]["summary"]
assert s["total"] == 5 and s["processed"] == 3 and s["failed"] == 2, s
PY
sed 's/^/    /' pyout
"$FL" batch "$SRC/tests/fixtures/tickets/batch.jsonl" >out 2>err; check "batch table" 65 $?
contains "batch summary counts categories" out "category"
contains "batch lists failures with lines" out "failed: line 3"
"$FL" batch --workers 0 x.jsonl >out 2>err; check "batch --workers 0 exits 64" 64 $?

# more tickets than one chunk (512): order, line numbers, counts and storage across chunks
python3 - <<'PY' >big.jsonl
import json
for i in range(1, 1201):
    if i in (5, 512, 513, 1025):
        print("not json at %d" % i)
    elif i == 700:
        print(json.dumps({"id": "big_%d" % i, "customer_id": "cust_001", "subject": "x", "content": "short"}))
    else:
        print(json.dumps({"id": "big_%d" % i, "customer_id": "cust_00%d" % (i % 3 + 1), "subject": "Invoice %d" % i,
                          "content": "I was charged twice for invoice %d, please refund the duplicate." % i}))
PY
"$FL" --database "sqlite://$tmp/big.db" batch --json --workers 2 big.jsonl >out 2>err; check "batch across chunks exits 65" 65 $?
python3 - out <<'PY' >pyout 2>&1; check "batch across chunks: every line once, in order, counted" 0 $?
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["line"] for r in rows[:-1]] == list(range(1, 1201)), [r["line"] for r in rows[:-1]][:20]
bad = [r["line"] for r in rows[:-1] if not r["ok"]]
assert bad == [5, 512, 513, 700, 1025], bad
assert all(r["id"] == "big_%d" % r["line"] for r in rows[:-1] if r["ok"])
s = rows[-1]["summary"]
assert s["total"] == 1200 and s["processed"] == 1195 and s["failed"] == 5, s
assert sum(s["by_category"].values()) == 1195, s
assert sorted(f["line"] for f in s["failures"]) == bad, s["failures"]
PY
sed 's/^/    /' pyout
n=$(sqlite3 "$tmp/big.db" "select count(*) from tickets where status != 'new'" 2>err); check "sqlite3" 0 $?
[ "$n" = 1195 ] && echo "ok: every valid ticket of every chunk is stored triaged" ||
	{ echo "FAIL: $n tickets stored triaged, expected 1195"; fails=$((fails + 1)); }

"$FL" demo >out 2>err; check "demo" 0 $?
for n in 1 2 3 4 5; do contains "demo $n ran" out "=== Demo $n"; done
contains "demo 3 raises no alert on the seed's metrics" out "no alert"
contains "demo 4 escalates the outage" out "emergency"
"$FL" demo --only 1 >out 2>err; check "demo again" 0 $?
contains "demo again shows stored results" out "processed earlier"

"$FL" eval grounding --json --in "$SRC/tests/fixtures/grounding.jsonl" >out.json 2>err; check "eval grounding" 0 $?
python3 - out.json <<'PY' >out 2>&1; check "replies are grounded in the right article, and not without one" 0 $?
import json, sys
d = json.load(open(sys.argv[1]))
assert d["n"] == 50 and d["answerable"] == 43, d
assert d["right_grounding"] >= 0.85, d["right_grounding"]
assert d["false_grounding"] <= 0.15, d["false_grounding"]
PY

"$FL" workflow show customer_support --format dot >out 2>err; check "show customer_support" 0 $?
contains "standard_response edge" out 'label="standard_response"'
contains "high_priority_workflow edge" out 'label="high_priority_workflow"'
contains "finalize_response edge" out 'label="finalize_response"'

# from a directory without data/: the bundled models and articles of the
# source tree are found without FRONTLINE_MODELS_DIR / FRONTLINE_KB_DIR
(unset FRONTLINE_MODELS_DIR FRONTLINE_KB_DIR
 "$FL" --database sqlite::memory: process "$SRC/tests/fixtures/tickets/password.json") >out 2>err
check "process from another directory finds the bundled data" 0 $?
contains "the bundled KB was found" out "kb_001"
(unset FRONTLINE_KB_DIR
 FRONTLINE_MODELS_DIR=nowhere "$FL" --database sqlite::memory: process "$SRC/tests/fixtures/tickets/password.json") >out 2>err
check "a models directory set by the user is not replaced" 78 $?
contains "the error names it" err "nowhere"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all triage checks passed"

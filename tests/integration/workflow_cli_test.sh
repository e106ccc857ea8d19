#!/bin/sh
# frontline process --workflow NAME and FRONTLINE_WORKFLOW_<CHANNEL> on a
# real SQLite store: the chosen workflow's nodes in the trace, unknown names
# a usage error (--workflow, EX_USAGE 64) or a configuration error
# (FRONTLINE_WORKFLOW_<CHANNEL>, EX_CONFIG 78), each naming the workflows
# that run on a ticket.
# Usage: workflow_cli_test.sh PATH/TO/frontline SOURCE_ROOT
set -u
. "$2/tests/integration/cli_lib.sh"
# the trace's node names of a --json output, one a line
nodes() {
	python3 -c 'import json, sys; [print(s["node"]) for s in json.load(open(sys.argv[1]))["trace"]]' "$1"
}
ticket() { # id channel
	printf '{"id": "%s", "customer_id": "cust_001", "channel": "%s", "subject": "Invoice",
 "content": "I was charged twice for my subscription this month, please refund one."}' "$1" "$2" >"$1.json"
}

ticket t1 api
"$FL" process --workflow nope t1.json >out 2>err; check "an unknown --workflow exits 64" 64 $?
contains "it names the ticket workflows" err "customer_support, high_priority, escalation"
"$FL" process --workflow real_time_monitoring t1.json >out 2>err
check "a workflow that takes no ticket exits 64" 64 $?
contains "it says why" err "does not run on a ticket"

"$FL" process --json --workflow escalation t1.json >out.json 2>err; check "process --workflow escalation" 0 $?
nodes out.json >trace
contains "the escalation workflow ran" trace "^escalation/escalation_decision"
if grep -q "knowledge_base_search" trace; then
	echo "FAIL: customer_support's KB search ran instead"; fails=$((fails + 1))
fi

ticket t2 web
FRONTLINE_WORKFLOW_WEB=high_priority "$FL" process --json t2.json >out.json 2>err
check "FRONTLINE_WORKFLOW_WEB=high_priority" 0 $?
nodes out.json >trace
contains "a web ticket ran high_priority" trace "^high_priority/knowledge_base_search"
ticket t3 api
FRONTLINE_WORKFLOW_WEB=high_priority "$FL" process --json t3.json >out.json 2>err
check "another channel keeps customer_support" 0 $?
nodes out.json >trace
contains "an api ticket ran customer_support" trace "^knowledge_base_search"

ticket t4 api
FRONTLINE_WORKFLOW_EMAIL=bogus "$FL" process t4.json >out 2>err; check "an unknown FRONTLINE_WORKFLOW_EMAIL exits 78" 78 $?
contains "it names the key" err "FRONTLINE_WORKFLOW_EMAIL: unknown workflow 'bogus'"
FRONTLINE_WORKFLOW_CHAT=batch_processing "$FL" serve --no-workers >out 2>err
check "serve refuses it at start-up" 78 $?
contains "serve names the key" err "FRONTLINE_WORKFLOW_CHAT"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all ok"

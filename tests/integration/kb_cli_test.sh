#!/bin/sh
# frontline kb import|search and frontline eval kb, on the bundled articles
# and the eval fixtures, against a temporary SQLite store.
# Usage: kb_cli_test.sh PATH/TO/frontline   (FRONTLINE_SOURCE_ROOT: the source tree)
set -u
FL=$1
SRC=${FRONTLINE_SOURCE_ROOT:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export FRONTLINE_DATABASE_URL="sqlite://$tmp/kb.db"

. "$SRC/tests/integration/check_lib.sh"

n=$(ls "$SRC"/data/kb/*.md | wc -l)
"$FL" kb import "$SRC/data/kb" >out 2>err; check "kb import data/kb" 0 $?
contains "import counts new articles" out "imported $n articles ($n new, 0 updated)"
"$FL" kb import "$SRC/data/kb" --json >out 2>err; check "kb import again" 0 $?
contains "second import updates" out "\"updated\": $n"

"$FL" kb search password reset email never arrives >out 2>err; check "kb search" 0 $?
contains "search finds the password article" out "kb_001 .*How to Reset Your Password"
"$FL" kb search "I was charged twice this month" --limit 2 --json >out 2>err; check "kb search --json" 0 $?
contains "search json has articles_found" out '"articles_found": 2'
contains "search json finds billing issues" out '"id": "kb_002"'
contains "search json has relevance" out '"relevance_score"'
"$FL" kb search zebra quokka >out 2>err; check "kb search without a match" 0 $?
contains "no match is said" out "no matching articles"
"$FL" kb search >out 2>err; check "kb search without a query" 64 $?
"$FL" kb search x --limit 0 >out 2>err; check "kb search --limit 0" 64 $?
"$FL" kb frob >out 2>err; check "kb unknown subcommand" 64 $?

"$FL" kb import "$tmp/none" >out 2>err; check "kb import missing path" 66 $?
contains "missing path named" err "cannot open '$tmp/none'"
printf -- '---\nid: x\n---\nbody\n' >bad.md
"$FL" kb import bad.md >out 2>err; check "kb import bad article" 65 $?
contains "bad article names file and line" err "bad.md:1: article 'title'"

A="$SRC/tests/fixtures/kb_eval_articles.jsonl"
Q="$SRC/tests/fixtures/kb_eval_queries.jsonl"
"$FL" eval kb --articles "$A" --queries "$Q" --json >out 2>err; check "eval kb" 0 $?
contains "eval reports n" out '"n": 14'
contains "eval reports mrr" out '"mrr":'
contains "eval reports recall@5" out '"recall@5":'
"$FL" eval kb --articles "$A" --queries "$Q" --baseline >out 2>err; check "eval kb --baseline" 0 $?
contains "baseline is fts5 bm25" out "fts5-bm25"
"$FL" eval kb --articles "$A" --queries "$Q" --split dev --params k1=1.2,synonyms=0 >out 2>err
check "eval kb --split --params" 0 $?
"$FL" eval kb --articles "$A" --queries "$Q" --split train >out 2>err; check "eval kb bad split" 64 $?
"$FL" eval kb --articles "$A" --queries "$Q" --params nope=1 >out 2>err; check "eval kb bad param" 64 $?
"$FL" eval kb --articles "$A" >out 2>err; check "eval kb without queries" 64 $?
"$FL" eval kb --articles "$A" --queries "$tmp/none.jsonl" >out 2>err; check "eval kb missing queries" 66 $?

# kb sync: a help centre served from files by python3's http.server on 127.0.0.1
env -u KB_API_URL "$FL" kb sync >out 2>err; check "kb sync without KB_API_URL" 78 $?
KB_API_URL=http://127.0.0.1:1/articles.json "$FL" kb sync >out 2>err; check "kb sync, nobody listening" 69 $?
contains "kb sync says the KB is unchanged" err "the knowledge base is unchanged"
mkdir hc
python3 -u -m http.server 0 --bind 127.0.0.1 --directory hc >hc.log 2>&1 &
hc_pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' hc.log | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
cat >hc/articles.json <<EOF2
{"articles": [{"id": 9001, "title": "Pair a Bluetooth headset", "section_id": 4, "label_names": ["audio"],
 "body": "<p>Hold the <b>pairing</b> button for five seconds.</p>"}],
 "next_page": "http://127.0.0.1:$port/page2.json"}
EOF2
echo '{"articles": [], "next_page": null}' >hc/page2.json
echo '{"articles": [{"id": 1, ' >hc/broken.json
export KB_API_URL="http://127.0.0.1:$port/articles.json"
"$FL" kb sync --json >out 2>err; check "kb sync" 0 $?
contains "kb sync follows next_page" out '"pages": 2'
contains "kb sync creates the article" out '"9001"'
"$FL" kb sync >out 2>err; check "kb sync again" 0 $?
contains "kb sync again changes nothing" out "0 new, 0 updated, 1 unchanged, 0 removed"
"$FL" kb search bluetooth pairing >out 2>err; check "kb search finds the synced article" 0 $?
contains "the synced article is text" out "Hold the pairing button"
"$FL" kb sync --url "http://127.0.0.1:$port/broken.json" >out 2>err; check "kb sync, malformed JSON" 65 $?
"$FL" kb sync --url "http://127.0.0.1:$port/missing.json" >out 2>err; check "kb sync, 404" 69 $?
kill "$hc_pid"
unset KB_API_URL

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }

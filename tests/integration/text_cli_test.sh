#!/bin/sh
# frontline train / eval on the small fixtures: the model file, the JSON and
# table outputs, and the sysexits codes of bad input.
# Usage: text_cli_test.sh PATH/TO/frontline SOURCE_ROOT
set -u
FL=$1
FIX=$2/tests/fixtures/text
. "$(dirname "$0")/check_lib.sh"   # before the cd: $0 may be relative
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$FL" train category --in "$FIX/train.jsonl" --out m.model --hash-bits 16 >out 2>err
check "train category" 0 $?
contains "train summary" out "trained category model 'm.model': 48 rows, 3 labels"
[ -s m.model ] && echo "ok: model written" || { echo "FAIL: no model file"; fails=$((fails + 1)); }

"$FL" eval category --model m.model --in "$FIX/test.jsonl" --json >out 2>err
check "eval --json" 0 $?
for key in '"n":12' '"accuracy":' '"macro_f1":' '"precision":' '"recall":' '"f1":' '"ece":' '"confusion":'; do
	contains "eval json has $key" out "$key"
done
[ "$(wc -l <out)" = 1 ] && echo "ok: one JSON line" || { echo "FAIL: eval --json is not one line"; fails=$((fails + 1)); }

"$FL" eval category --model m.model --in "$FIX/test.jsonl" >out 2>err
check "eval table" 0 $?
contains "table header" out "precision"
contains "confusion matrix" out "confusion matrix"

"$FL" eval sentiment --model m.model --in "$FIX/test.jsonl" --json >out 2>err
check "eval sentiment on any label set" 0 $?

"$FL" train category --in "$FIX/bad.jsonl" --out bad.model >out 2>err
check "bad training row is EX_DATAERR" 65 $?
contains "error names the line" err "bad.jsonl' line 3"
"$FL" train category --in missing.jsonl --out x.model >out 2>err
check "missing input is EX_NOINPUT" 66 $?
"$FL" train category --in "$FIX/train.jsonl" >out 2>err
check "missing --out is EX_USAGE" 64 $?
"$FL" eval category --model missing.model --in "$FIX/test.jsonl" >out 2>err
check "missing model is EX_NOINPUT" 66 $?
contains "error quotes the model" err "cannot open 'missing.model'"
echo garbage >g.model
"$FL" eval category --model g.model --in "$FIX/test.jsonl" >out 2>err
check "bad model is EX_DATAERR" 65 $?
"$FL" train nonsense >out 2>err
check "unknown task is EX_USAGE" 64 $?
"$FL" train category --in "$FIX/train.jsonl" --out /nonexistent/dir/m.model >out 2>err
check "unwritable output is EX_CANTCREAT" 73 $?

echo "$fails failed"
[ "$fails" = 0 ]

#!/bin/sh
# frontline customer export|erase on a real SQLite store: a ticket stored
# by `frontline process` is exported (its text in the JSON), erased (the
# summary names a pseudonym, the audit log the login), and is then neither
# exported nor erasable by the old id (65); usage errors exit 64.
# Usage: privacy_cli_test.sh PATH/TO/frontline SOURCE_ROOT
set -u
. "$2/tests/integration/cli_lib.sh"

cat >ticket.json <<'JSON'
{"id": "gdpr_cli_1", "customer_id": "cust_gdpr", "subject": "Passport",
 "content": "My passport number is XK7781234, please delete it later.", "source": "api"}
JSON
"$FL" process ticket.json >out 2>err; check "process stores the ticket" 0 $?
"$FL" customer export cust_gdpr >out 2>err; check "export" 0 $?
contains "the export holds the ticket's text" out "XK7781234"
contains "the export lists survey answers" out "survey_answers"
"$FL" customer erase cust_gdpr --json >out 2>err; check "erase" 0 $?
contains "erase names the pseudonym" out '"customer": "erased-'
contains "erase says who" out '"erased_by": "cli:'
"$FL" customer export cust_gdpr >out 2>err; check "the old id is gone (65)" 65 $?
"$FL" customer erase cust_gdpr >out 2>err; check "erasing again exits 65" 65 $?
"$FL" customer export >out 2>err; check "no id exits 64" 64 $?
"$FL" customer frobnicate x >out 2>err; check "an unknown verb exits 64" 64 $?
"$FL" customer erase --help >out 2>err; check "--help exits 0 and touches no store" 0 $?

[ "$fails" -eq 0 ] && echo "all privacy CLI checks passed"
exit "$fails"

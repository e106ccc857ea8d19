#!/bin/sh
# frontline llm check against fake_llm: the configuration shown (key
# masked), success in both protocols, and the exit code and message of each
# kind of failure. Usage: llm_cli_test.sh PATH/TO/frontline PATH/TO/fake_llm
set -u
FL=$1
FAKE=$2
KEY=sk-test-0123456789abcdef
. "$(dirname "$0")/check_lib.sh"   # before the cd: $0 may be relative
tmp=$(mktemp -d)
fpid=
cleanup() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

# frontline with a clean environment plus the given VAR=value words
fl() {
	env -i PATH="$PATH" HOME="$tmp" "$@" "$FL" llm check --retries 0 --timeout 5 >out 2>err
}

fl; check "not configured exits EX_CONFIG" 78 $?
contains "not configured says so" err "llm not configured: set API_KEY"

fl API_KEY=$KEY CLAUDE_PROVIDER=bard; check "unknown provider exits EX_CONFIG" 78 $?
contains "unknown provider lists the known ones" err "unknown llm provider 'bard' (available: anthropic, io_net"

"$FAKE" --port-file port >fake.log 2>&1 &
fpid=$!
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat port)
base=http://127.0.0.1:$port

fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-model; check "anthropic check succeeds" 0 $?
contains "shows the provider" out "provider     anthropic (anthropic protocol)"
contains "shows the endpoint" out "endpoint     $base/v1/messages"
contains "shows the masked key and its source" out "api key      sk-t...cdef (24 chars) from API_KEY"
lacks "never shows the key" out "$KEY"
contains "reports latency and model" out "check        ok: [0-9]* ms, model fake-model"

fl ANTHROPIC_AUTH_TOKEN=$KEY ANTHROPIC_BASE_URL=$base/v1 CLAUDE_MODEL=fake-model; check "openai check succeeds" 0 $?
contains "openai protocol from a /v1 base" out "(openai protocol)"
contains "openai endpoint" out "endpoint     $base/v1/chat/completions"

env -i PATH="$PATH" HOME="$tmp" API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-model \
	"$FL" llm check --json >out 2>err
check "--json succeeds" 0 $?
contains "--json says ok" out '"ok": true'
contains "--json has the config" out '"protocol": "anthropic"'

fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-http_401; check "rejected key exits EX_NOPERM" 77 $?
contains "rejected key names the variable" err "HTTP 401: authentication_error: fake: invalid x-api-key (check the api key in API_KEY)"
lacks "rejected key not echoed" err "$KEY"

fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-http_404; check "unknown model exits EX_CONFIG" 78 $?
contains "unknown model named" err "the model 'fake-http_404'"

fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-http_503; check "server error exits EX_UNAVAILABLE" 69 $?
contains "server error reported" err "llm endpoint server error: HTTP 503"

fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base/v1 ANTHROPIC_MODEL=fake-http_429; check "rate limit exits EX_TEMPFAIL" 75 $?
contains "rate limit reported" err "llm rate limit exceeded: HTTP 429"

fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-garbage; check "garbage exits EX_PROTOCOL" 76 $?
contains "garbage reported" err "body that is not JSON"

env -i PATH="$PATH" HOME="$tmp" API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-hang \
	"$FL" llm check --retries 0 --timeout 0.3 >out 2>err
check "timeout exits EX_UNAVAILABLE" 69 $?
contains "timeout reported" err "no complete response within 300 ms"

kill "$fpid" && wait "$fpid" 2>/dev/null
fpid=
fl API_KEY=$KEY ANTHROPIC_BASE_URL=$base ANTHROPIC_MODEL=fake-model; check "unreachable exits EX_UNAVAILABLE" 69 $?
contains "unreachable reported" err "cannot connect to the llm endpoint"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all llm check tests passed"

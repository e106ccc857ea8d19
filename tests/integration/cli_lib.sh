# Sourced by the CLI tests that run `frontline` on a real SQLite store in a
# temporary directory (triage_test.sh, privacy_cli_test.sh,
# workflow_cli_test.sh): their arguments (PATH/TO/frontline SOURCE_ROOT) as
# FL and SRC, the store, models and KB in the environment, the directory
# made current and removed at exit, and check/contains, which print "ok:" or
# "FAIL:" and count failures in $fails.
FL=$1
SRC=$2
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FRONTLINE_DATABASE_URL="sqlite://$tmp/frontline.db"
export FRONTLINE_MODELS_DIR="$SRC/data/models"
export FRONTLINE_KB_DIR="$SRC/data/kb"
cd "$tmp" || exit 1

check() { # name expected_rc actual_rc
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: exit $3, expected $2"
		sed 's/^/    err: /' err 2>/dev/null | head -20
		fails=$((fails + 1))
	else
		echo "ok: $1"
	fi
}
contains() { # name file pattern
	if grep -q -- "$3" "$2"; then
		echo "ok: $1"
	else
		echo "FAIL: $1: '$3' not in output:"
		sed 's/^/    /' "$2" | head -40
		fails=$((fails + 1))
	fi
}

# Sourced by the CLI tests that run `frontline` on a real SQLite store in a
# temporary directory (triage_test.sh, privacy_cli_test.sh,
# workflow_cli_test.sh): their arguments (PATH/TO/frontline SOURCE_ROOT) as
# FL and SRC, the store, models and KB in the environment, the directory
# made current and removed at exit, and check/contains (check_lib.sh).
FL=$1
SRC=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FRONTLINE_DATABASE_URL="sqlite://$tmp/frontline.db"
export FRONTLINE_MODELS_DIR="$SRC/data/models"
export FRONTLINE_KB_DIR="$SRC/data/kb"
cd "$tmp" || exit 1

. "$SRC/tests/integration/check_lib.sh"

# Sourced by the CLI tests (directly, or through cli_lib.sh): check and
# contains (and lacks) print "ok: NAME" or "FAIL: NAME ..." and count failures in $fails;
# each test ends with `exit $((fails > 0))` or its own summary of $fails.
fails=0

check() { # name expected_rc actual_rc (on failure, the command's stderr if it went to ./err)
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
		echo "FAIL: $1: '$3' not in $2:"
		sed 's/^/    /' "$2" | head -40
		fails=$((fails + 1))
	fi
}
lacks() { # name file pattern
	if grep -q -- "$3" "$2"; then
		echo "FAIL: $1: '$3' in $2:"
		sed 's/^/    /' "$2" | head -40
		fails=$((fails + 1))
	else
		echo "ok: $1"
	fi
}

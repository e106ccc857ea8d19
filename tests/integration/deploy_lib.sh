# Shared by the install and package tests (sourced): check() prints one TAP-
# style line and remembers a failure in $fail; served_port FILE waits up to
# 10 s for `frontline serve` to name its port on stdout (FILE) and prints it.
fail=0
check() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1 (expected $2, got $3)"; fail=1; fi
}
served_port() {
	for _ in $(seq 1 100); do
		p=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}

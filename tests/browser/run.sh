#!/bin/sh
# Runs one of the console's browser programs (default: console_test.mjs) with
# Node; exit 77 (skipped) when Node is missing. The programs themselves skip
# when chromium or their npm packages are missing (tests/browser/lib/env.mjs).
dir=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
	echo "SKIP: node is not installed (scripts/install-deps installs nodejs)"
	exit 77
fi
exec node "$dir/${1:-console_test.mjs}"

#!/bin/sh
# The deployment files (deploy/): the Kubernetes base validated offline
# against the Kubernetes schemas (tests/integration/k8s/validate.mjs, with
# kubernetes-models from npm), and built by kustomize when kubectl is here;
# compose checked by `docker-compose config -q` when docker-compose is here;
# the Dockerfile checked for what the image must be (no container engine runs
# on the test machines, so it is not built here: `make image` builds it).
#
# Usage: deploy_test.sh SOURCE_ROOT
set -u
SRC=$(cd "${1:?usage: deploy_test.sh SOURCE_ROOT}" && pwd)
. "$SRC/tests/integration/deploy_lib.sh"

# Kubernetes
V="$SRC/tests/integration/k8s"
if ! command -v node >/dev/null; then
	echo "not ok - node is not installed (scripts/install-deps)"; fail=1
elif [ ! -d "$V/node_modules/kubernetes-models" ]; then
	echo "not ok - kubernetes-models is not installed: run scripts/install-deps"; fail=1
else
	node "$V/validate.mjs" "$SRC/deploy/k8s"
	check "deploy/k8s valid against the Kubernetes schemas" 0 $?
fi
if command -v kubectl >/dev/null; then
	kubectl kustomize "$SRC/deploy/k8s" >/dev/null
	check "kubectl kustomize deploy/k8s" 0 $?
else
	echo "# skipped: kubectl kustomize (kubectl is not installed)"
fi

# compose
if command -v docker-compose >/dev/null; then
	docker-compose -f "$SRC/deploy/compose.yaml" --env-file "$SRC/deploy/.env.example" config -q
	check "docker-compose config -q" 0 $?
else
	echo "# skipped: docker-compose config (docker-compose is not installed)"
fi
check "compose: .env.example names every variable compose.yaml requires" "" \
	"$(for v in $(grep -o '\${[A-Z_]*:?' "$SRC/deploy/compose.yaml" | tr -d '${:?' | sort -u); do
		grep -q "^$v=" "$SRC/deploy/.env.example" || printf ' %s' "$v"; done)"
check "compose: two serve --no-workers replicas" 2 \
	"$(sed -n '/^  serve:/,/^  [a-z]*:$/p' "$SRC/deploy/compose.yaml" | grep -c 'replicas: 2\|"--no-workers"')"

# the Dockerfile
D="$SRC/deploy/Dockerfile"
check "Dockerfile: two stages on debian:12-slim" 2 "$(grep -c '^FROM debian:12-slim' "$D")"
check "Dockerfile: runs as a non-root user" "USER 10001:10001" "$(grep '^USER' "$D")"
grep -q 'CMD \["/usr/bin/frontline", "probe"' "$D"; check "Dockerfile: HEALTHCHECK through frontline probe" 0 $?
check "Dockerfile: no curl in the runtime stage" 0 \
	"$(sed -n '/^FROM debian:12-slim$/,$p' "$D" | grep -v '^ *#' | grep -Ec '(^|[[:space:]])curl([[:space:]]|$)')"
grep -q '^VOLUME \["/var/lib/frontline"\]' "$D"; check "Dockerfile: the state on a volume" 0 $?
# the runtime stage installs the runtime package of every library the .deb links
rt=$(sed -n '/^FROM debian:12-slim$/,$p' "$D")
missing=""
for lib in libjansson4 libsqlite3-0 libpq5 libcurl4 libmicrohttpd12 libgmime-3.0-0 libstemmer0d \
	   libsodium23 libutf8proc2 libyaml-0-2; do
	echo "$rt" | grep -q " $lib" || missing="$missing $lib"
done
check "Dockerfile: the runtime libraries" "" "$missing"
exit $fail

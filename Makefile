# Frontline. The two commands: `make run` and `make check`.
#
#   make run     install missing Debian packages, build, start Frontline
#   make check   build, run every test, then the same tests under
#                AddressSanitizer + UBSan (build-asan/)
#   make bench   run the benchmarks and write docs/BENCHMARKS.md
#   make fuzz    build the libFuzzer targets (clang, build-fuzz/) and run each for
#                FUZZ_SECONDS (default 60); FUZZ_TARGETS="email http" picks some
#   make deb     build build-deb/frontline_<version>_<arch>.deb (dpkg-buildpackage, lintian)
#   make image   build the container image frontline:<version> with docker or podman
#
# scripts/install-deps is quiet and quick when everything is installed.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
NINJA      ?= ninja
TEST_ARGS  ?=
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

.PHONY: all deps build asan run check check-asan check-plain bench fuzz deb image clean distclean

VERSION := $(shell sed -n "s/^ *version : '\([^']*\)'.*/\1/p" meson.build | head -1)
IMAGE   ?= frontline:$(VERSION)

# Modules and unit tests join the build by existing (meson's fs.exists), which
# meson only re-evaluates when it reconfigures: a change in this list does so.
LAYOUT := $(shell find src tests bench -name meson.build -o -name 'test_*.c' 2>/dev/null | sort | cksum | cut -d' ' -f1)

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	@scripts/install-deps
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja:
	@scripts/install-deps
	$(MESON) setup $(ASAN_BUILD) --buildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all

$(BUILD)/.layout-$(LAYOUT): $(BUILD)/build.ninja
	@rm -f $(BUILD)/.layout-*
	@$(MESON) setup --reconfigure $(BUILD) >/dev/null
	@touch $@

$(ASAN_BUILD)/.layout-$(LAYOUT): $(ASAN_BUILD)/build.ninja
	@rm -f $(ASAN_BUILD)/.layout-*
	@$(MESON) setup --reconfigure $(ASAN_BUILD) >/dev/null
	@touch $@

build: deps $(BUILD)/.layout-$(LAYOUT)
	@$(NINJA) -C $(BUILD)

asan: deps $(ASAN_BUILD)/.layout-$(LAYOUT)
	@$(NINJA) -C $(ASAN_BUILD)

run: build
	@scripts/run $(BUILD)

check-plain: build
	@$(MESON) test -C $(BUILD) --print-errorlogs $(TEST_ARGS) || { scripts/test-failures $(BUILD); exit 1; }

check-asan: asan
	@$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3 $(TEST_ARGS) || { scripts/test-failures $(ASAN_BUILD); exit 1; }

check: check-plain check-asan
	@echo "make check: all tests passed (plain and ASan+UBSan)"

bench: build
	@scripts/bench $(BUILD)

# docs/OPERATIONS.md "Fuzzing": what each target covers and what it found.
fuzz: deps
	@scripts/fuzz -t $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The package, from a copy of the tree (scripts/build-deb): see docs/OPERATIONS.md "Install".
deb: deps
	@scripts/build-deb

# The image needs a container engine: docker with a running daemon, or podman
# (rootless hosts: PODMAN_ARGS=--isolation=chroot). podman writes the docker
# format, since the OCI format has no HEALTHCHECK and podman drops it.
image:
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
		docker build -f deploy/Dockerfile -t $(IMAGE) . ; \
	elif command -v podman >/dev/null 2>&1; then \
		podman build --format docker $(PODMAN_ARGS) -f deploy/Dockerfile -t $(IMAGE) . ; \
	else \
		echo "make image: needs docker (with a running engine) or podman" >&2; exit 69; \
	fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-deb build-fuzz

distclean: clean
	rm -rf var

# Frontline. The two commands: `make run` and `make check`.
#
#   make run     install missing Debian packages, build, start Frontline
#   make check   build, run every test, then the same tests under
#                AddressSanitizer + UBSan (build-asan/)
#   make bench   run the benchmarks and write docs/BENCHMARKS.md
#
# scripts/install-deps is quiet and quick when everything is installed.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
NINJA      ?= ninja
TEST_ARGS  ?=

.PHONY: all deps build asan run check check-asan check-plain bench clean distclean

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
	$(MESON) test -C $(BUILD) --print-errorlogs $(TEST_ARGS)

check-asan: asan
	$(MESON) test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3 $(TEST_ARGS)

check: check-plain check-asan
	@echo "make check: all tests passed (plain and ASan+UBSan)"

bench: build
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

distclean: clean
	rm -rf var

# Thin wrapper over CMake. `make test` on a fresh Debian/Ubuntu machine installs, builds and tests.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build deps test unit demo install static docs fuzz asan clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD_DIR)/build.ninja
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Unit and integration tests; the integration suites start their own Kafka / S3 / GCS servers.
# The static release binary is built too (tests/integration/static.sh checks it); MTASTREAM_SKIP_STATIC=1 skips
# it and leaves that suite out of the run (a suite that runs never skips).
test: build
	@if [ "$${MTASTREAM_SKIP_STATIC:-0}" = 1 ]; then echo "make test: not building the static binary (MTASTREAM_SKIP_STATIC=1)" >&2; \
	 else JOBS=$(JOBS) scripts/build-static.sh; fi
	@scripts/install-test-deps.sh
	@cd $(BUILD_DIR) && ctest --output-on-failure -j 2 $$([ "$${MTASTREAM_SKIP_STATIC:-0}" = 1 ] && echo -E integration_static) $(CTEST_FLAGS)

unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L unit

demo: build
	@scripts/demo.sh $(BUILD_DIR)/mtastream

install: build
	@cmake --install $(BUILD_DIR)

static:
	@scripts/build-static.sh

# Regenerates man/ and completions/ from the built binary's option tree (commit the result).
docs: build
	@python3 scripts/gen-docs.py $(BUILD_DIR)/mtastream

# Unit and integration tests built with ASan (+ LeakSanitizer) and UBSan. A sanitizer report exits 86, which
# no suite expects, so it fails the test even where a failure exit was expected. The static binary is not
# rebuilt or re-tested here (it has no sanitizers). tests/sanitizers/lsan.supp: justified leak suppressions.
SANITIZER_ENV = ASAN_OPTIONS=exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	LSAN_OPTIONS=exitcode=86:suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=exitcode=86:print_stacktrace=1:halt_on_error=1
asan:
	@$(SANITIZER_ENV) MTASTREAM_SKIP_STATIC=1 $(MAKE) test BUILD_DIR=build-asan \
	  CMAKE_FLAGS="-DMTASTREAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" CTEST_FLAGS="$(CTEST_FLAGS)"

fuzz:
	@scripts/fuzz.sh

clean:
	rm -rf $(BUILD_DIR) build-asan build-static build-fuzz

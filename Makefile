# The two commands: `make run` (build, set up, serve the demo) and `make test` (everything).
# CMake does the building; this file only sequences setup, build and the test suites.
BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3
JOBS       ?= $(shell nproc)
DATA       ?= ./lakehouse-data

# Tesseract's OpenMP threads fight our own on small machines (OCR ran ~2x slower with them);
# libgomp reads this once at load time, so it must be in the environment, not set later.
export OMP_THREAD_LIMIT ?= 1

.PHONY: all setup build run test test-unit test-api test-ui test-asan bench clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/lakehouse serve --demo --data $(DATA)

test: build
	$(MAKE) test-unit test-api test-ui
	$(MAKE) test-asan

test-unit:
	ctest --test-dir $(BUILD) --output-on-failure

test-api:
	LAKEHOUSE_BIN=$(abspath $(BUILD))/lakehouse $(PYTHON) -m pytest -q tests/api

# The web UI in Debian's chromium (headless) through playwright-core, against the real server.
test-ui: build
	@scripts/setup.sh --ui-tests
	cd tests/ui && LAKEHOUSE_BIN=$(abspath $(BUILD))/lakehouse node --test --test-concurrency=1 .

# The unit and API tests again, built with AddressSanitizer and UBSan.
test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLH_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	  LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) ctest --test-dir $(ASAN_BUILD) --output-on-failure
	LAKEHOUSE_BIN=$(abspath $(ASAN_BUILD))/lakehouse LAKEHOUSE_SANITIZED=1 \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=1 $(PYTHON) -m pytest -q tests/api

bench: build
	bench/sql/run.sh
	bench/ingest/run.sh
	bench/compact/run.sh
	bench/cache/run.sh
	bench/exact/run.sh
	bench/embed/run.sh
	bench/ann/run.sh
	bench/rag/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

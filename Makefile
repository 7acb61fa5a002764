# The two set-up commands of bandoso (see README.md):
#   make run   — install what is missing, build, generate and import the demo province, serve on :8080
#   make test  — install what is missing, build, run every test, then again under ASan+UBSan
SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := run

PORT ?= 8080
JOBS ?= $(shell nproc)
BUILD_DIR := build/release
ASAN_DIR := build/asan
BANDOSO := $(BUILD_DIR)/bin/bandoso
DEMO_DIR := data/demo
DEMO_DB := data/demo.sqlite
CTEST_FLAGS := --output-on-failure --timeout 600

.PHONY: run test build deps test-release test-asan clean

deps:
	@scripts/install-deps

# Configure once; later runs only rebuild what changed.
$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DBANDOSO_TESTS=ON

$(ASAN_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBANDOSO_TESTS=ON -DBANDOSO_SANITIZE=ON

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target bandoso

# The demo files depend on the generator's code; the database on the files, the schema (store.hpp),
# the definitions and the presets.
$(DEMO_DIR)/.complete: data-import/demo_province.cpp data-import/demo_province.hpp | build
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(BANDOSO) demo --out $(DEMO_DIR)
	touch $@

$(DEMO_DB): $(DEMO_DIR)/.complete layers/core/store.hpp $(wildcard layers/*.yaml) $(wildcard data-import/presets/*.yaml) scripts/import-demo | build
	rm -f $@.new $@.new-wal $@.new-shm
	scripts/import-demo $(BANDOSO) $(DEMO_DIR) $@.new
	rm -f $@-wal $@-shm && mv $@.new $@

run: build $(DEMO_DB)
	$(BANDOSO) serve --db $(DEMO_DB) --port $(PORT)

test: test-release test-asan

test-release: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS)

test-asan: deps $(ASAN_DIR)/CMakeCache.txt
	cmake --build $(ASAN_DIR) -j$(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)

clean:
	rm -rf build data

# tandem: build, test, demo, install. `make` installs missing Debian packages first
# (scripts/deps.sh: apt-get when root, otherwise it prints the exact command).

PREFIX  ?= /usr/local
CC      ?= gcc
PKGS    := lua5.4 libuv libcjson nettle libical sqlite3
BUILD   := build

# CFLAGS is yours to set (make CFLAGS="-O1 -g -fsanitize=address,undefined"); the rest is always on.
CFLAGS  ?= -O2 -g
TFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Icore
LDLIBS  += -lcsv -ldl -lm

# plugins/example/ is an out-of-tree plugin with its own Makefile: not part of libtandem.a.
CORE_SRC  := $(filter-out core/main.c plugins/example/%,$(wildcard core/*.c core/solve/*.c plugins/*/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/*_test.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit-test e2e-test asan-test valgrind-test valgrind-ci fuzz fuzz-build fuzz-ci bench demo install clean
all: $(BUILD)/tandem

# pkg-config flags are read only after deps has run, so a fresh machine works.
$(BUILD)/.deps: scripts/deps.sh
	@sh scripts/deps.sh
	@mkdir -p $(BUILD)
	@pkg-config --cflags $(PKGS) > $(BUILD)/.cflags
	@pkg-config --libs $(PKGS) > $(BUILD)/.libs
	@touch $@
deps: $(BUILD)/.deps

PKG_CFLAGS = $(shell cat $(BUILD)/.cflags 2>/dev/null)
PKG_LIBS   = $(shell cat $(BUILD)/.libs 2>/dev/null)

$(BUILD)/%.o: %.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# Shipped plugins are linked in: each gets an entry of its own name (see tandem/plugin.h).
$(BUILD)/plugins/%.o: TFLAGS += -DTANDEM_PLUGIN_BUILTIN

$(BUILD)/libtandem.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tandem: $(BUILD)/core/main.o $(BUILD)/libtandem.a
	$(CC) $(TFLAGS) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libtandem.a | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(TFLAGS) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libtandem.a $(PKG_LIBS) -lcriterion $(LDLIBS)

unit-test: $(TEST_BIN)
	@fail=0; for t in $(TEST_BIN); do echo "== $$t"; $$t --jobs 2 || fail=1; done; exit $$fail

# The fault-injection shim the e2e tests preload into the daemon (never into tandem itself).
$(BUILD)/faultfs.so: tests/fault/faultfs.c | $(BUILD)/.deps
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl

e2e-test: $(BUILD)/tandem $(BUILD)/faultfs.so
	python3 tests/e2e/run.py

test: unit-test e2e-test

# The whole suite again, built with AddressSanitizer and UBSan into build-asan/.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan-test:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" unit-test
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" build-asan/tandem build-asan/faultfs.so
	TANDEM_BIN=$(CURDIR)/build-asan/tandem python3 tests/e2e/run.py

# The end-to-end tests with every tandem they run under valgrind memcheck (each process
# logs to build-valgrind/vg.PID.log; a process with any error or definite leak fails the run;
# one killed on purpose with SIGKILL leaves no summary). VALGRIND_TESTS picks modules or
# tests (default: all: 301 processes, 42 min on the shared 2-core machine); valgrind-ci runs the
# subset CI affords (187 processes, 18 min, keeping .ci/run under an hour).
VALGRIND       := valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
                  --errors-for-leak-kinds=definite --log-file=$(CURDIR)/build-valgrind/vg.%p.log
VALGRIND_TESTS ?=
VALGRIND_CI    := test_daemon test_faults test_models test_model_peer test_model_group test_log.Tail test_tail \
                  test_inputs test_plugins test_attacks
valgrind-test: $(BUILD)/tandem $(BUILD)/faultfs.so
	@sh scripts/deps.sh valgrind
	rm -rf build-valgrind && mkdir -p build-valgrind
	TANDEM_WRAP="$(VALGRIND)" TANDEM_TIME_FACTOR=$${TANDEM_TIME_FACTOR:-30} python3 tests/e2e/run.py $(VALGRIND_TESTS); \
	rc=$$?; bad=$$(grep -l "ERROR SUMMARY: [1-9]" build-valgrind/vg.*.log); \
	for f in $$bad; do echo "== $$f"; cat $$f; done; \
	echo "valgrind: $$(ls build-valgrind | wc -l) processes, $$(echo $$bad | wc -w) with errors or definite leaks"; \
	test $$rc = 0 -a -z "$$bad"
valgrind-ci:
	$(MAKE) valgrind-test VALGRIND_TESTS="$(VALGRIND_CI)"

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) over the core built with clang into build-fuzz/.
# `make fuzz` runs each for FUZZ_SECONDS from its seeds in tests/fuzz/corpus/NAME (what it
# finds goes to build-fuzz/corpus/NAME; a crash to build-fuzz/crash-NAME-*); fuzz-ci briefly.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
# Seeds: tests/fuzz/corpus/NAME, and the fixtures the other tests already keep (read, never copied).
FUZZ_SEEDS_rules      := tests/data/rules rules/examples rules/models
FUZZ_SEEDS_people_csv := tests/fuzz/corpus/people_csv tests/data/csv
fuzz_seeds = $(or $(FUZZ_SEEDS_$(1)),tests/fuzz/corpus/$(1))

# The harnesses link against the core built by a nested make with BUILD=build-fuzz.
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(BUILD)/libtandem.a
	$(FUZZ_CC) $(TFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -DFUZZ_RULES_DIR='"$(CURDIR)/rules"' $(PKG_CFLAGS) \
	    -o $@ $< $(BUILD)/libtandem.a $(PKG_LIBS) $(LDLIBS)
fuzz-build:
	@sh scripts/deps.sh clang libclang-rt-14-dev
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_BIN)
fuzz: fuzz-build
	@fail=0; $(foreach n,$(FUZZ_NAMES), \
	    echo "== fuzz_$(n) for $(FUZZ_SECONDS) s"; mkdir -p build-fuzz/corpus/$(n); \
	    build-fuzz/fuzz_$(n) -max_total_time=$(FUZZ_SECONDS) -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
	        -print_final_stats=1 -artifact_prefix=build-fuzz/crash-$(n)- \
	        build-fuzz/corpus/$(n) $(call fuzz_seeds,$(n)) 2>build-fuzz/fuzz_$(n).log \
	        || { fail=1; tail -60 build-fuzz/fuzz_$(n).log; }; \
	    grep -E "^stat::number_of_executed_units|^stat::peak_rss" build-fuzz/fuzz_$(n).log | tr '\n' ' '; echo;) \
	exit $$fail
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20
# Every benchmark of bench/ beside its peers; rewrites bench/RESULTS.md (minutes, not for CI).
bench: $(BUILD)/tandem
	bash bench/run_all.sh

demo: $(BUILD)/tandem
	$(BUILD)/tandem simulate rules/examples/acme.lua --people rules/examples/people.csv \
	    --days 365 --start 2027-01-01 --seed 1 --state $(BUILD)/demo-state

# The plugin header and tandem-plugin.pc, so that
#   cc -shared -fPIC x.c -o x.so $(pkg-config --cflags --libs tandem-plugin)
# builds a plugin; PREFIX/lib/tandem/plugins is where `tandem.plugin("x")` looks last.
install: $(BUILD)/tandem
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/tandem $(DESTDIR)$(PREFIX)/share/tandem \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/tandem/plugins
	install -m 0755 $(BUILD)/tandem $(DESTDIR)$(PREFIX)/bin/tandem
	install -m 0644 include/tandem/*.h $(DESTDIR)$(PREFIX)/include/tandem/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|'"$$(sed -n 's/.*TANDEM_VERSION "\(.*\)"/\1/p' include/tandem/version.h)"'|' \
	    scripts/tandem-plugin.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tandem-plugin.pc
	cp -R rules $(DESTDIR)$(PREFIX)/share/tandem/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0644 man/tandem.1 $(DESTDIR)$(PREFIX)/share/man/man1/tandem.1
	install -m 0644 man/tandem-rules.5 $(DESTDIR)$(PREFIX)/share/man/man5/tandem-rules.5

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-valgrind

-include $(CORE_OBJ:.o=.d) $(BUILD)/core/main.d

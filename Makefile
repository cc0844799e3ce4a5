# tandem: build, test, demo, install. `make` installs missing Debian packages first
# (scripts/deps.sh: apt-get when root, otherwise it prints the exact command).

PREFIX  ?= /usr/local
CC      ?= gcc
PKGS    := lua5.4 libuv libcjson nettle
BUILD   := build

# CFLAGS is yours to set (make CFLAGS="-O1 -g -fsanitize=address,undefined"); the rest is always on.
CFLAGS  ?= -O2 -g
TFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Icore
LDLIBS  += -lcsv -lm

CORE_SRC  := $(filter-out core/main.c,$(wildcard core/*.c core/solve/*.c plugins/*/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/*_test.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit-test e2e-test asan-test bench demo install clean
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

# Every benchmark of bench/ beside its peers; rewrites bench/RESULTS.md (minutes, not for CI).
bench: $(BUILD)/tandem
	bash bench/run_all.sh

demo: $(BUILD)/tandem
	$(BUILD)/tandem simulate rules/examples/acme.lua --people rules/examples/people.csv \
	    --days 365 --start 2027-01-01 --seed 1 --state $(BUILD)/demo-state

install: $(BUILD)/tandem
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/tandem $(DESTDIR)$(PREFIX)/share/tandem
	install -m 0755 $(BUILD)/tandem $(DESTDIR)$(PREFIX)/bin/tandem
	install -m 0644 include/tandem/*.h $(DESTDIR)$(PREFIX)/include/tandem/
	cp -R rules $(DESTDIR)$(PREFIX)/share/tandem/

clean:
	rm -rf $(BUILD) build-asan

-include $(CORE_OBJ:.o=.d) $(BUILD)/core/main.d

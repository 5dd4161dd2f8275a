# Makefile — PGXS build of the train_data extension and its test suites.
#
#   make && make install           build and install the extension
#   bash test/run                  every suite against a throwaway cluster
#
# The test lists are derived from the tree: a new file in test/sql, test/specs,
# test/t or test/unit is picked up without editing this file.

EXTENSION = train_data
MODULE_big = train_data
EXTVERSION = $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" $(srcdir)/train_data.control)

# SQL: the full install script of the default version is built from the one
# current source, sql/src/*.sql, concatenated in name order.  Frozen and
# installed as they are: the full 1.0 script (upgrade tests start from it)
# and every update script.
SQL_SRCS = $(sort $(wildcard sql/src/*.sql))
DATA_built = sql/train_data--$(EXTVERSION).sql
DATA = sql/train_data--1.0.sql $(wildcard sql/train_data--*--*.sql)

# Pure C cores (no backend headers) and the backend glue that wraps them.
PURE_SRCS = $(wildcard src/core/*.c)
GLUE_SRCS = $(wildcard src/*.c)
OBJS = $(PURE_SRCS:.c=.o) $(GLUE_SRCS:.c=.o)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/core
# -Wextra without unused-parameter, which PostgreSQL's own headers trip.
# `make WERROR=1` (what the test runner does) turns every warning into an error.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter $(if $(WERROR),-Werror)

# pg_regress: the setup test runs first (helpers and login roles), the rest in
# name order.  Inputs come from test/sql, expected output from test/expected
# (PostgreSQL 15's pg_regress reads <outputdir>/expected), results and
# regression.diffs go to test/.
TESTS = $(sort $(wildcard test/sql/*.sql))
REGRESS = setup $(filter-out setup,$(patsubst test/sql/%.sql,%,$(TESTS)))
REGRESS_OPTS = --inputdir=test --outputdir=test --load-extension=$(EXTENSION)

# Isolation specs: the same directories (test/specs in, test/expected).
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=test --load-extension=$(EXTENSION)

# TAP scripts run with PostgreSQL's own test modules (PostgreSQL::Test::Cluster).
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN = test/results tmp_check test/regression.diffs test/regression.out test/fuzz/bin \
	test/unit/bin

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The pure cores' functions are internal to the library: hidden, so that
# their calls (from the cores and from the glue) bind directly instead of
# through the PLT.  The glue keeps PostgreSQL's default visibility (its V1
# functions and the module magic are what the server looks up).
$(PURE_SRCS:.c=.o): CFLAGS += -fvisibility=hidden

# Every object and its JIT bitcode depends on the project's headers: a
# changed inline function or declaration rebuilds each file that may use
# it (PGXS tracks no header unless PostgreSQL was configured with
# --enable-depend; a stale object would call a function with the old
# arguments).
$(OBJS) $(OBJS:.o=.bc): $(wildcard src/*.h src/core/*.h)

sql/train_data--$(EXTVERSION).sql: $(SQL_SRCS) train_data.control
	cat $(SQL_SRCS) | sed '1s/<version>/$(EXTVERSION)/' > $@

# One target per suite, so the runner can report each and go on after a failure.
.PHONY: installcheck-regress installcheck-isolation installcheck-tap unitcheck fuzzcheck valgrindcheck

installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

installcheck-tap:
	$(prove_installcheck)

# Unit tests of the pure C cores: plain C programs, no server.
UNIT_SRCS = $(sort $(wildcard test/unit/*.c))
UNIT_BINS = $(patsubst test/unit/%.c,test/unit/bin/%,$(UNIT_SRCS))
UNIT_CFLAGS = -std=c99 -O1 -g -Wall -Wextra -Werror -Isrc/core

test/unit/bin/%: test/unit/%.c $(PURE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(PURE_SRCS) -lm

# The pglz decoder's tests compare it with PostgreSQL's own, from the
# server's libpgcommon (installed with its development files).
PG_PKGLIBDIR := $(shell $(PG_CONFIG) --pkglibdir)

test/unit/bin/pglz_test: test/unit/pglz_test.c $(PURE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(PURE_SRCS) $(PG_PKGLIBDIR)/libpgcommon.a $(PG_PKGLIBDIR)/libpgport.a -lm

# The word normaliser's tests again without SSE2 (the portable masks of td_swar.h).
UNIT_BINS += test/unit/bin/minhash_test_portable

test/unit/bin/minhash_test_portable: test/unit/minhash_test.c $(PURE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -DTD_NO_SIMD -o $@ $< $(PURE_SRCS) -lm

# The text survey's tests again without SSE2.
UNIT_BINS += test/unit/bin/text_test_portable

test/unit/bin/text_test_portable: test/unit/text_test.c $(PURE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -DTD_NO_SIMD -o $@ $< $(PURE_SRCS) -lm

unitcheck: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do \
		if $$t; then echo "unit-ok $$t"; else echo "unit-failed $$t"; rc=1; fi; \
	done; exit $$rc

# Fuzz targets: libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer,
# a fixed number of runs from a fixed seed, starting from test/fuzz/corpus.
FUZZ_SRCS = $(sort $(wildcard test/fuzz/*_fuzz.c))
FUZZ_BINS = $(patsubst test/fuzz/%.c,test/fuzz/bin/%,$(FUZZ_SRCS))
FUZZ_RUNS ?= 200000
FUZZ_CC ?= $(shell command -v clang-14 || command -v clang)
FUZZ_CFLAGS = -g -O1 -Isrc/core -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

test/fuzz/bin/%: test/fuzz/%.c $(PURE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p test/fuzz/bin
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(PURE_SRCS) -lm

fuzzcheck: $(FUZZ_BINS)
	@rc=0; for t in $(FUZZ_BINS); do \
		name=$$(basename $$t _fuzz); work=$$(mktemp -d); \
		if $$t -runs=$(FUZZ_RUNS) -seed=1 -max_len=4096 -print_final_stats=1 -artifact_prefix=$$work/ \
			$$work test/fuzz/corpus/$$name > $$work.log 2>&1; \
		then echo "fuzz-ok $$t $$(grep -o 'Done [0-9]* runs[^$$]*' $$work.log)"; \
		else tail -n 40 $$work.log; echo "fuzz-failed $$t"; rc=1; fi; \
		rm -rf $$work $$work.log; \
	done; exit $$rc

# The regression suite against a server running under valgrind memcheck
# (test/valgrind/run: starts its own server; needs the extension installed).
valgrindcheck:
	@bash test/valgrind/run

# convkit build. `make` builds the libraries (static and shared) and the
# CLI; `make check` runs every test; `make asan` runs them under
# AddressSanitizer + UBSan; `make tsan` runs the threads test under
# ThreadSanitizer; `make install` installs the CLI, both libraries, the
# header and convkit.pc under $(DESTDIR)$(PREFIX).
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CFLAGS ?= -O2 -g
LDFLAGS ?=
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2
DEFS := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# Keras .h5 and .keras files: Debian's serial libhdf5 (headers under
# /usr/include/hdf5/serial) and libzip, located with pkg-config
KERAS_PKGS := hdf5 libzip
CPPFLAGS += -Iinclude -Isrc -I$(BUILD)/gen $(DEFS) $(shell pkg-config --cflags $(KERAS_PKGS))
LIBS := -ljansson -lprotobuf-c $(shell pkg-config --libs $(KERAS_PKGS)) -lpthread -lm
# One object set serves both libraries: position-independent, and every
# symbol hidden unless include/convkit.h marks it CK_API.
LIB_CFLAGS := -fPIC -fvisibility=hidden

# The version is typed once, in include/convkit.h; the shared library's
# names and convkit.pc take it from there.
ck_version_part = $(shell sed -n 's/^[#]define CONVKIT_VERSION_$(1) \([0-9][0-9]*\)$$/\1/p' include/convkit.h)
VERSION_MAJOR := $(call ck_version_part,MAJOR)
VERSION := $(VERSION_MAJOR).$(call ck_version_part,MINOR).$(call ck_version_part,PATCH)

# Debian's libonnx-dev ships the schema; the C bindings are generated here.
ONNX_PROTO_DIR ?= /usr/include
ONNX_PROTO := $(ONNX_PROTO_DIR)/onnx/onnx.proto
GEN_C := $(BUILD)/gen/onnx/onnx.pb-c.c
GEN_H := $(BUILD)/gen/onnx/onnx.pb-c.h

LIB_SRC := $(sort $(wildcard src/core/*.c src/ops/*.c src/graph/*.c src/analyze/*.c \
                             src/import/*.c src/report/*.c src/runtime/*.c \
                             src/runtime/kernels/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/onnx/onnx.pb-c.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIB := $(BUILD)/libconvkit.a
BIN := $(BUILD)/convkit
# libconvkit.so.0.1.0 (real name), libconvkit.so.0 (soname), libconvkit.so (for -lconvkit)
SONAME := libconvkit.so.$(VERSION_MAJOR)
SO_REAL := $(BUILD)/libconvkit.so.$(VERSION)
SO := $(BUILD)/$(SONAME) $(BUILD)/libconvkit.so
# every undefined symbol resolved at link time, except under a sanitizer
# (its runtime comes with the program)
SO_LDFLAGS = -shared -Wl,-soname,$(SONAME) $(if $(findstring -fsanitize,$(LDFLAGS)),,-Wl,-z,defs)

all: $(BIN) $(SO)

# The README's two commands: run convkit on a bundled example; run every test.
deps:
	@sh tools/deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	-./$(BIN) check examples/chain.cnn
	./$(BIN) sizes examples/chain.cnn --range 1:64
	./$(BIN) summary examples/chain.cnn --input 1x3x32x32

test: deps
	@$(MAKE) --no-print-directory check

$(GEN_C): $(ONNX_PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen -I$(ONNX_PROTO_DIR) $(ONNX_PROTO)

$(GEN_H): $(GEN_C)

# Objects depend on the compiler and flags they were built with (as in
# git's GIT-CFLAGS): a build folder made with other flags, or before the
# libraries were position-independent, is rebuilt instead of linked stale.
FLAGS_STAMP := $(BUILD)/.cflags
FLAGS_NOW = $(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LIB_CFLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@

# Generated code is not ours to warn about.
$(BUILD)/gen/onnx/onnx.pb-c.o: $(GEN_C) $(FLAGS_STAMP)
	$(CC) $(CFLAGS) $(LIB_CFLAGS) -w -I$(BUILD)/gen -c $< -o $@

$(BUILD)/%.o: %.c $(GEN_H) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(LIB_CFLAGS) $(ISA_FLAGS) -MMD -MP -c $< -o $@

# ISA-specific kernels: only these files get ISA flags; the planner calls
# them only when cpuid reports the ISA (never -march=native).
$(BUILD)/src/runtime/kernels/x86_avx512_%.o: ISA_FLAGS := -mavx512f -mfma
$(BUILD)/src/runtime/kernels/x86_avx2_%.o: ISA_FLAGS := -mavx2 -mfma

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(SO_REAL): $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) $(SO_LDFLAGS) $(LIB_OBJ) $(LIBS) -o $@

$(BUILD)/$(SONAME): $(SO_REAL)
	ln -sf $(notdir $<) $@

$(BUILD)/libconvkit.so: $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

# The CLI and the unit tests link the static library (the tests use internals).
$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(WARN) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LIBS) -o $@

tests: $(TEST_BIN) $(BIN) $(SO)

# The whole test suite: unit programs, oracle corpora, CLI end-to-end. The
# compiler and flags go along: tests/cli/install.sh builds a program
# against the installed library with them (under ASan in `make asan`).
check: tests
	@CC="$(CC)" CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" check

# ThreadSanitizer: tests/unit/test_threads.c (8 threads sharing one graph
# and one session); any race report fails it.
TSAN_BUILD := build-tsan
tsan:
	@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) CC=clang \
	  CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" LDFLAGS="-fsanitize=thread" \
	  $(TSAN_BUILD)/tests/test_threads
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./$(TSAN_BUILD)/tests/test_threads

install: $(BIN) $(LIB) $(SO)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/convkit
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libconvkit.a
	install -m 755 $(SO_REAL) $(DESTDIR)$(PREFIX)/lib/libconvkit.so.$(VERSION)
	ln -sf libconvkit.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libconvkit.so
	install -m 644 include/convkit.h $(DESTDIR)$(PREFIX)/include/convkit.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' convkit.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/convkit.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan $(TSAN_BUILD)

FORCE:

# The Python package carries the library when installed with pip: copy the
# one this build made into python/convkit/ (see python/pyproject.toml).
python-lib: $(SO)
	cp $(BUILD)/$(SONAME) python/convkit/$(SONAME)

.PHONY: python-lib
.PHONY: all deps demo test tests check asan tsan install format clean FORCE
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# ---- fuzzing (issue 7) -------------------------------------------------------
# `make fuzz` builds the libFuzzer harnesses of tests/fuzz/ with clang, ASan
# and UBSan (library in build-fuzz/) and runs each for FUZZ_SECONDS, starting
# from the committed seeds and regression inputs; any crash, leak, timeout or
# sanitizer report fails the target and leaves the input in
# build-fuzz/artifacts/. `make fuzz-long` runs each for 600 s. New corpus
# entries go to build-fuzz/corpus/<harness>/, never into the tree.
FUZZ_SECONDS ?= 30
# FUZZ_RUNS=N: exactly N executions from seed 1 (deterministic, for CI);
# FUZZ_SECONDS then only bounds the time
FUZZ_RUNS ?=
FUZZ_BUILD := build-fuzz
# kfile: Keras .h5 and .keras files (libzip, then libhdf5 behind the structure
# check of src/import/h5check.c, which refuses the hostile sizes and names
# libhdf5 1.10 would allocate or copy; 100000 runs take about 35 s)
FUZZ_HARNESSES := cnn onnx keras npy pipeline kfile
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS := -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20 -print_final_stats=1
FUZZ_MAX_LEN_cnn := 16384
FUZZ_MAX_LEN_onnx := 65536
FUZZ_MAX_LEN_keras := 65536
FUZZ_MAX_LEN_npy := 8192
FUZZ_MAX_LEN_pipeline := 4096
FUZZ_MAX_LEN_kfile := 32768
FUZZ_DICT_cnn := tests/fuzz/cnn.dict
FUZZ_DICT_pipeline := tests/fuzz/cnn.dict
FUZZ_DICT_keras := tests/fuzz/json.dict
FUZZ_DICT_npy := tests/fuzz/npy.dict
FUZZ_DICT_kfile := tests/fuzz/h5.dict
FUZZ_BIN := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/fuzz_%)

# Built inside `$(MAKE) BUILD=build-fuzz CC=clang ...` (see fuzz-build).
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/harness.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -fsanitize=fuzzer $< $(LIB) $(LIBS) -o $@

fuzz-bins: $(FUZZ_BIN)

fuzz-build: deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	  CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  LDFLAGS="$(FUZZ_SAN)" fuzz-bins

fuzz: fuzz-build
	@set -e; for h in $(FUZZ_HARNESSES); do \
	  case $$h in cnn) ml=$(FUZZ_MAX_LEN_cnn); dict=$(FUZZ_DICT_cnn);; \
	    onnx) ml=$(FUZZ_MAX_LEN_onnx); dict=;; keras) ml=$(FUZZ_MAX_LEN_keras); dict=$(FUZZ_DICT_keras);; \
	    npy) ml=$(FUZZ_MAX_LEN_npy); dict=$(FUZZ_DICT_npy);; \
	    pipeline) ml=$(FUZZ_MAX_LEN_pipeline); dict=$(FUZZ_DICT_pipeline);; \
	    kfile) ml=$(FUZZ_MAX_LEN_kfile); dict=$(FUZZ_DICT_kfile);; esac; \
	  work=$(FUZZ_BUILD)/corpus/$$h; log=$(FUZZ_BUILD)/logs/$$h.log; \
	  mkdir -p $$work $(FUZZ_BUILD)/logs $(FUZZ_BUILD)/artifacts; \
	  seeds=""; for s in tests/fuzz/corpus/$$h tests/fuzz/regress/$$h; do \
	    [ -d $$s ] && seeds="$$seeds $$s"; done; \
	  echo "== fuzz $$h ($(FUZZ_SECONDS) s, max_len $$ml)"; \
	  if ! ./$(FUZZ_BUILD)/fuzz/fuzz_$$h $(FUZZ_FLAGS) -max_len=$$ml \
	      -max_total_time=$(FUZZ_SECONDS) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS) -seed=1,) \
	      $${dict:+-dict=$$dict} \
	      -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$h- $$work $$seeds >$$log 2>&1; then \
	    tail -n 60 $$log; echo "fuzz $$h: FAILED (log $$log, input in $(FUZZ_BUILD)/artifacts/)"; \
	    exit 1; fi; \
	  grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' $$log | tail -n 1; \
	  grep -E 'stat::number_of_executed_units' $$log; \
	done

fuzz-long:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=600

clean-fuzz:
	rm -rf $(FUZZ_BUILD)

.PHONY: fuzz fuzz-build fuzz-bins fuzz-long clean-fuzz

# ---- benchmark (issues 6, 13; bench/README.md) -------------------------------
# `make bench` builds bench/bench.c against the library and runs it: the
# issue-6 layer set for convkit, oneDNN (C API) and im2col + OpenBLAS, and
# torchvision's ResNet-18/50 and MobileNetV2 (ONNX files that
# bench/onnx_models.py writes into $(BUILD)/bench/onnx) for convkit, ONNX
# Runtime (onnxruntime-node under Node, installed into bench/ort/node_modules)
# and PyTorch (/usr/bin/python3, when it has torch), interleaved, with a
# table on stdout and $(BUILD)/bench/bench.json. Bench-only dependencies
# (Debian 12): libdnnl-dev libopenblas-dev nodejs npm python3-torchvision
# python3-onnx; nothing else in this Makefile needs them.
# BENCH_ARGS passes options (e.g. BENCH_ARGS=--quick).
BENCH_ARGS ?=
BENCH_BIN := $(BUILD)/bench/bench
BENCH_LIBS := -ldnnl -lopenblas -ljansson -lprotobuf-c $(shell pkg-config --libs $(KERAS_PKGS)) \
  -lpthread -lm -ldl
BENCH_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wvla -D_GNU_SOURCE -Iinclude -Ibench

# peak.c is the only file built with ISA flags (its loops run after cpuid).
$(BUILD)/bench/peak.o: bench/peak.c bench/peak.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -mavx2 -mfma -mavx512f -c $< -o $@

$(BENCH_BIN): bench/bench.c bench/peak.h $(BUILD)/bench/peak.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) bench/bench.c $(BUILD)/bench/peak.o $(LIB) $(BENCH_LIBS) -o $@

# per-step minima of a session (bench/README.md: on a shared machine)
$(BUILD)/bench/step_min: bench/step_min.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) bench/step_min.c $(LIB) $(BENCH_LIBS) -o $@

bench-build: deps
	@for h in oneapi/dnnl/dnnl.h cblas.h; do \
	  echo "#include <$$h>" | $(CC) -E -x c - >/dev/null 2>&1 || { \
	    echo "make bench needs libdnnl-dev and libopenblas-dev (apt-get install libdnnl-dev libopenblas-dev)"; \
	    exit 1; }; done
	@$(MAKE) --no-print-directory $(BENCH_BIN) $(BUILD)/bench/step_min

# the ONNX files (made here, never committed) and ONNX Runtime 1.30.0 (its
# install script only fetches GPU files: --ignore-scripts)
BENCH_ONNX := $(BUILD)/bench/onnx
BENCH_NETS := resnet18 resnet50 mobilenet_v2
bench-models:
	@mkdir -p $(BENCH_ONNX)
	@for n in $(BENCH_NETS); do \
	  [ -f $(BENCH_ONNX)/$$n.onnx ] || /usr/bin/python3 bench/onnx_models.py $(BENCH_ONNX) $$n || exit 1; \
	  [ -f $(BENCH_ONNX)/$${n}_b8.onnx ] || /usr/bin/python3 bench/onnx_models.py --batch 8 $(BENCH_ONNX) $$n || exit 1; \
	done
	@[ -f bench/ort/node_modules/onnxruntime-node/package.json ] || \
	  (cd bench/ort && npm install --ignore-scripts --no-audit --no-fund) || \
	  echo "bench: no ONNX Runtime (npm install in bench/ort failed); its columns stay empty"

bench: bench-build bench-models $(BUILD)/convkit
	./$(BENCH_BIN) --json $(BUILD)/bench/bench.json --onnx-dir $(BENCH_ONNX) \
	  --convkit $(BUILD)/convkit $(BENCH_ARGS)

.PHONY: bench bench-build bench-models

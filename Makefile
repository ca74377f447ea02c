# convkit build. `make` builds the library and CLI; `make check` runs every
# test; `make asan` runs them under AddressSanitizer + UBSan.
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CFLAGS ?= -O2 -g
LDFLAGS ?=
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2
DEFS := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
CPPFLAGS += -Iinclude -Isrc -I$(BUILD)/gen $(DEFS)
LIBS := -ljansson -lprotobuf-c -lpthread -lm

# Debian's libonnx-dev ships the schema; the C bindings are generated here.
ONNX_PROTO_DIR ?= /usr/include
ONNX_PROTO := $(ONNX_PROTO_DIR)/onnx/onnx.proto
GEN_C := $(BUILD)/gen/onnx/onnx.pb-c.c
GEN_H := $(BUILD)/gen/onnx/onnx.pb-c.h

LIB_SRC := $(sort $(wildcard src/core/*.c src/ops/*.c src/graph/*.c src/analyze/*.c \
                             src/import/*.c src/runtime/*.c src/runtime/kernels/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/onnx/onnx.pb-c.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIB := $(BUILD)/libconvkit.a
BIN := $(BUILD)/convkit

all: $(BIN)

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

# Generated code is not ours to warn about.
$(BUILD)/gen/onnx/onnx.pb-c.o: $(GEN_C)
	$(CC) $(CFLAGS) -w -I$(BUILD)/gen -c $< -o $@

$(BUILD)/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(ISA_FLAGS) -MMD -MP -c $< -o $@

# ISA-specific kernels: only these files get ISA flags; the planner calls
# them only when cpuid reports the ISA (never -march=native).
$(BUILD)/src/runtime/kernels/x86_avx512_%.o: ISA_FLAGS := -mavx512f -mfma
$(BUILD)/src/runtime/kernels/x86_avx2_%.o: ISA_FLAGS := -mavx2 -mfma

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(WARN) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LIBS) -o $@

tests: $(TEST_BIN) $(BIN)

# The whole test suite: unit programs, oracle corpora, CLI end-to-end.
check: tests
	@BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" check

install: $(BIN) $(LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/convkit
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libconvkit.a
	install -m 644 include/convkit.h $(DESTDIR)$(PREFIX)/include/convkit.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' convkit.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/convkit.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan

.PHONY: all deps demo test tests check asan install format clean
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# The Python package's tests (python/tests, pytest from python3-pytest) on
# the shared library of this build. Under a sanitizer build the library's
# runtime is preloaded into the interpreter, so ASan and UBSan watch every
# call the package makes. Prints "python: N passed, M failed".
CK=${CONVKIT:-build/convkit}
BUILD_DIR=$(cd "$(dirname "$CK")" 2>/dev/null && pwd)
PY=/usr/bin/python3
export CONVKIT_LIB="$BUILD_DIR/libconvkit.so.0"
if [ -z "$BUILD_DIR" ] || [ ! -f "$CONVKIT_LIB" ]; then
    echo "python: $CONVKIT_LIB is missing (make builds it)"
    echo "python: 0 passed, 1 failed"
    exit 1
fi
if ldd "$CONVKIT_LIB" 2>/dev/null | grep -q 'libclang_rt.asan\|libasan'; then
    export LD_PRELOAD="$(ldd "$CONVKIT_LIB" | awk '/asan/ {print $3; exit}')"
fi
if nm -D "$CONVKIT_LIB" 2>/dev/null | grep -q ' U __asan_init'; then
    rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
    [ -f "$rt" ] && export LD_PRELOAD="$rt"
    # the interpreter and torch keep memory to the end; the library's own
    # leaks are the C suite's business (LeakSanitizer runs there)
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
fi
out=$(cd python && $PY -m pytest -q -p no:cacheprovider tests 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 40
p=$(printf '%s\n' "$out" | sed -nE 's/.* ([0-9]+) passed.*/\1/p; s/^([0-9]+) passed.*/\1/p' | tail -n 1)
f=$(printf '%s\n' "$out" | sed -nE 's/.* ([0-9]+) (failed|error).*/\1/p; s/^([0-9]+) (failed|error).*/\1/p' | tail -n 1)
p=${p:-0}
f=${f:-0}
[ $rc -ne 0 ] && [ "$f" = 0 ] && f=1
echo "python: $p passed, $f failed"
[ "$f" = 0 ]

#!/bin/sh
# Runs every test program and the CLI end-to-end suite, then prints one
# closing line "N passed, N failed". Run from the repository root.
BUILD=${BUILD:-build}
total_pass=0
total_fail=0
status=0
for t in "$BUILD"/tests/*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    [ -n "$line" ] || { p=0; f=1; }
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    if [ "$f" != 0 ]; then
        printf '%s\n' "$out" | tail -n 40
        status=1
    fi
    printf '%-40s %s\n' "$(basename "$t")" "${line:-no result line (exit $rc)}"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    out=$(BUILD="$BUILD" CONVKIT="$BUILD/convkit" sh "$s" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/')
    [ -n "$line" ] || { p=0; f=1; }
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    if [ "$f" != 0 ]; then
        printf '%s\n' "$out" | tail -n 40
        status=1
    fi
    printf '%-40s %s\n' "$(basename "$s")" "${line:-no result line (exit $rc)}"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
exit $status

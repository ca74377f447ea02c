#!/bin/sh
# Runs every test program and the CLI end-to-end scripts, then prints one
# closing line "N passed, N failed". Run from the repository root.
BUILD=${BUILD:-build}
total_pass=0
total_fail=0
status=0

run_one() { # name, command...
    name=$1
    shift
    out=$("$@" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -n "$line" ]; then
        p=$(printf '%s' "$line" | sed -E 's/.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*/\1/; s/^([0-9]+) passed.*/\1/')
        f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    else
        p=0
        f=1
    fi
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    # a program that checked nothing has not passed
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        f=1
        line="$line (nothing checked)"
    fi
    if [ "$f" != 0 ]; then
        printf '%s\n' "$out" | grep -v '^ok ' | tail -n 60
        status=1
    fi
    printf '%-32s %s\n' "$name" "${line:-no result line (exit $rc)}"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

for t in "$BUILD"/tests/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    run_one "$(basename "$s")" env CONVKIT="$BUILD/convkit" sh "$s"
done
if [ "$total_pass" = 0 ]; then
    echo "no test ran (BUILD=$BUILD: run make tests first)"
    status=1
fi
echo "$total_pass passed, $total_fail failed"
exit $status

#!/bin/sh
# Golden output: `convkit check` on every bundled example (the seed
# documents' scenarios in examples/seeds/ and the networks in examples/),
# explanation and verified fixes included, compared byte for byte with
# tests/golden/. After an intended change: GOLDEN_UPDATE=1 sh tests/cli/golden.sh
. tests/cli/lib.sh.in

for f in examples/*.cnn examples/seeds/*.cnn; do
    name=$(printf '%s' "$f" | sed 's|^examples/||; s|/|_|g; s|\.cnn$||')
    want="tests/golden/$name.txt"
    NO_COLOR=1 "$CK" check "$f" > "$T/got" 2>&1
    echo "exit $?" >> "$T/got"
    if [ -n "$GOLDEN_UPDATE" ]; then
        cp "$T/got" "$want"
        ok
    elif cmp -s "$T/got" "$want"; then
        ok
    else
        bad "$f differs from $want:"
        diff "$want" "$T/got" | head -20
    fi
done

echo "cli_golden: $pass passed, $fail failed"
[ "$fail" = 0 ]

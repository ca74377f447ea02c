#!/bin/sh
# End-to-end: the convkit command as a user runs it. Exit codes, text output,
# the JSON contract of DESIGN.md, parse errors with positions.
. tests/cli/lib.sh.in

# the DESIGN.md failure: where, why, how it shrank
expect_rc 1 "$CK" check examples/chain.cnn
expect_out "error: conv3 (Conv2d): output height would be 0"
expect_out "input [1, 32, 1, 1] comes from conv2"
expect_out "height = floor((1 + 0 + 0 - 1*(3-1) - 1) / 2) + 1 = floor(-2 / 2) + 1 = 0"
expect_out "height shrank: input 7 -> conv1 3 -> conv2 1 -> conv3 0"

# --input in both spellings
expect_rc 0 "$CK" check examples/chain.cnn --input 1x3x32x32
expect_out "ok: 4 layers, output [1, 64, 3, 3]"
expect_rc 0 "$CK" check examples/chain.cnn --input "[1, 3, 15, 15]"
expect_out "[1, 64, 1, 1]"
expect_rc 1 "$CK" check examples/chain.cnn --input=1x3x14x14
expect_out "height shrank: input 14 -> conv1 6 -> conv2 2 -> conv3 0"

# JSON contract
expect_rc 1 "$CK" check examples/chain.cnn --json
expect_one_json
for f in '"model"' '"dialect": "pytorch"' '"input": [' '"ok": false' '"layers"' '"output_shape"' \
    '"params"' '"macs"' '"diagnostics"' '"severity": "error"' '"code": "output_too_small"' \
    '"layer": "conv3"' '"axis": "height"' '"message"' '"fixes"' '"inputs"'; do
    expect_out "$f"
done
expect_rc 0 "$CK" check examples/chain.cnn --json --input 1x3x32x32
expect_out '"ok": true'
expect_out '"output_shape": ['

# unreadable model: exit 2, and with --json still one object with parse_error
expect_rc 2 "$CK" check "$T/missing.cnn"
expect_err "cannot open"
expect_rc 2 "$CK" check "$T/missing.cnn" --json
expect_one_json
expect_out '"code": "parse_error"'
expect_out '"ok": false'

# syntax errors name file:line:col and what was expected
printf 'input: [1, 3, 8, 8]\nconv1 = Conv2d(3, 8, 3\nrelu = ReLU()\n' > "$T/bad.cnn"
expect_rc 2 "$CK" check "$T/bad.cnn"
expect_err "bad.cnn:3:1: error: expected ',' or ')'"
printf 'input: [1, 3, 8, 8]\nconv1 = Conv2d(3, 8, 3))\n' > "$T/bad2.cnn"
expect_rc 2 "$CK" check "$T/bad2.cnn" --json
expect_one_json
expect_out '"line": 2'

# usage errors
expect_rc 2 "$CK" check
expect_rc 2 "$CK" check examples/chain.cnn --input 1xAx3
expect_rc 2 "$CK" check examples/chain.cnn --bogus
expect_rc 2 "$CK" frobnicate
expect_rc 2 "$CK" check examples/chain.cnn --input 1x3x8x8 --input 1x3x8x8 --json
expect_one_json
for c in check summary; do
    expect_rc 0 "$CK" $c --help
    expect_out "usage: convkit $c"
done
expect_rc 0 "$CK" --help

# a missing input shape is a usage problem
printf 'conv = Conv2d(3, 8, 3)\n' > "$T/noinput.cnn"
expect_rc 2 "$CK" check "$T/noinput.cnn"
expect_err "has no shape"
expect_rc 0 "$CK" check "$T/noinput.cnn" --input 1x3x8x8

# channel mismatch with the grayscale/RGB explanation
expect_rc 1 "$CK" check examples/seeds/rgb_on_grayscale.cnn
expect_out "error: conv (Conv2d): Conv2d expects 3 input channels (in_channels=3), but its input [1, 1, 64, 64] has 1"
expect_out "grayscale"

# Linear after Flatten: the numbers that went in
printf 'input: [1, 16, 5, 4]\nflat = Flatten()\nfc = Linear(400, 120)\n' > "$T/fc.cnn"
expect_rc 1 "$CK" check "$T/fc.cnn"
expect_out "Linear expects 400 input features (in_features=400), but its input [1, 320] has 320"
expect_out "flat flattens [1, 16, 5, 4] into 16*5*4 = 320 features"

# a failure stops only its own branch; the rest is checked and listed
cat > "$T/branches.cnn" <<'EOT'
input: [1, 8, 5, 5]
a = Conv2d(8, 8, 7)(input)
a2 = ReLU()(a)
b = Conv2d(8, 8, 3, padding=1)(input)
b2 = ReLU()(b)
EOT
expect_rc 1 "$CK" check "$T/branches.cnn"
expect_out "b2     ReLU    [1, 8, 5, 5]"
expect_out "not reached (downstream of a failure): a2"

# PyTorch 'same' with stride 2 is refused, with the TF padding explained
expect_rc 1 "$CK" check examples/seeds/same_stride2.cnn --json
expect_out '"code": "invalid_padding"'

# pasted print(model), nested Sequentials -> dotted names
cat > "$T/printed.cnn" <<'EOT'
input: [1, 3, 32, 32]
Net(
  (features): Sequential(
    (0): Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))
    (1): ReLU(inplace=True)
    (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (classifier): Sequential(
    (0): Flatten(start_dim=1, end_dim=-1)
    (1): Linear(in_features=1176, out_features=10, bias=True)
  )
)
EOT
expect_rc 0 "$CK" check "$T/printed.cnn"
expect_out "features.2"
expect_out "classifier.1  Linear     [1, 10]"

# summary formats
expect_rc 0 "$CK" summary examples/chain.cnn --input 1x3x32x32
expect_out "Total params: 23,584"
expect_out "conv1 (Conv2d)  [1, 16, 15, 15]                 448         97,200"
expect_rc 0 "$CK" summary examples/chain.cnn --input 1x3x32x32 --format md
expect_out "| conv3 (Conv2d) | [1, 64, 3, 3] | 18,496 | 165,888 | 0 |"
expect_rc 0 "$CK" summary examples/chain.cnn --input 1x3x32x32 --format json
expect_one_json
expect_out '"params": 23584'
expect_rc 1 "$CK" summary examples/chain.cnn
expect_out "conv3 (Conv2d)  FAILED"
expect_rc 2 "$CK" summary examples/chain.cnn --format xml

echo "cli_check: $pass passed, $fail failed"
[ "$fail" = 0 ]

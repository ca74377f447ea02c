#!/bin/sh
# End-to-end: convkit sizes as a user runs it.
. tests/cli/lib.sh.in

# the seed chain: smallest input, the formula, which layer rejects which sizes
expect_rc 0 "$CK" sizes examples/chain.cnn
expect_out "smallest valid   15"
expect_out "valid            15-1024"
expect_out "clean            every 8 from 15"
expect_out "out = floor((in - 15) / 8) + 1 for in >= 15"
expect_out "conv3                        output_too_small   sizes 7-14"
expect_out "3072 shape checks"

# U-Net: only multiples of 16, and why the others fail
expect_rc 0 "$CK" sizes examples/unet.cnn --input 1x3x64x64
expect_out "valid            every 16 from 16"
expect_out "pool4                        output_too_small   sizes 8-15"
expect_out "skip_mismatch"

# non-square: height varies with width held at the given input
expect_rc 0 "$CK" sizes examples/chain.cnn --input 1x3x15x40 --range 1:100
expect_out "height (width held at 40):"
expect_out "width (height held at 15):"


# --range and JSON contract (DESIGN.md: range, min_square, valid_square, axes)
expect_rc 0 "$CK" sizes examples/chain.cnn --range 10:40 --json
expect_one_json
for f in '"min_square": 15' '"axes": [' \
    '"name": "height"' '"min":' '"valid":' '"clean":' '"output":' '"formula": "out = floor((in - 15) / 8) + 1"' \
    '"failures":'; do
    expect_out "$f"
done
expect_json '"range":[10,40]'
expect_json '"valid_square":[[15,40]]'
expect_json '"values":[[15,1],'
expect_json '"checks":93'

# nothing valid in the range: exit 1, min null
expect_rc 1 "$CK" sizes examples/chain.cnn --range 1:14 --json
expect_out '"min_square": null'
expect_out '"valid_square": []'

# ONNX with symbolic height/width
expect_rc 0 "$CK" sizes tests/oracle/networks/squeezenet1_0.onnx --input 1x3x224x224 --range 1:64
expect_out "smallest valid   21"

# bad usage
expect_rc 2 "$CK" sizes examples/chain.cnn --range 5
expect_err "--range must be A:B"
expect_rc 2 "$CK" sizes examples/chain.cnn --range 0:10 --json
expect_one_json
expect_out '"ok": false'
expect_rc 2 "$CK" sizes no/such/file.cnn
expect_rc 0 "$CK" sizes --help
expect_out "usage: convkit sizes"

echo "cli_sizes: $pass passed, $fail failed"
[ "$fail" = 0 ]

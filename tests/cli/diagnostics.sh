#!/bin/sh
# Every diagnostic code of DESIGN.md produced through the CLI, with its exit
# status, layer and numbers; every resource limit refused with its flag named.
. tests/cli/lib.sh.in

# diag FILE-TEXT EXIT CODE LAYER TEXT...: check --json on the model, then the
# code, layer and each TEXT in the JSON
diag() {
    printf '%b' "$1" > "$T/m.cnn"
    want=$2 code=$3 layer=$4
    shift 4
    expect_rc "$want" "$CK" check "$T/m.cnn" --json
    expect_one_json
    expect_json "\"code\":\"$code\",\"layer\":\"$layer\""
    for t in "$@"; do expect_out "$t"; done
}

diag 'input: [1, 3, 7, 7]\nc1 = Conv2d(3, 8, 3, stride=2)\nc2 = Conv2d(8, 8, 3, stride=2)\nc3 = Conv2d(8, 8, 3, stride=2)\n' \
    1 output_too_small c3 "output height would be 0" "floor((1 + 0 + 0 - 1*(3-1) - 1) / 2) + 1" "input 7 -> c1 3 -> c2 1 -> c3 0"
diag 'input: [1, 1, 32, 32]\nconv = Conv2d(3, 8, 3)\n' \
    1 channel_mismatch conv "expects 3 input channels (in_channels=3), but its input [1, 1, 32, 32] has 1" "grayscale"
diag 'input: [1, 16, 4, 4]\nf = Flatten()\nfc = Linear(400, 10)\n' \
    1 feature_mismatch fc "expects 400 input features (in_features=400), but its input [1, 256] has 256"
diag 'input: [1, 8, 16, 16]\nd = Conv2d(8, 8, 3, stride=2)\nu = ConvTranspose2d(8, 8, 2, stride=2)\nj = add(u, input)\n' \
    1 skip_mismatch j "14" "16"
diag 'input: [1, 100]\nd = Dense(12544)\nr = Reshape(target_shape=(8, 8, 256))\n' \
    1 reshape_mismatch r "cannot reshape [1, 12544] (12544 elements) to [1, 8, 8, 256] (16384 elements)"
diag 'input: [1, 3, 8, 8]\npool = MaxPool2d(2, padding=2)\n' \
    1 invalid_padding pool "padding 2 on the height axis is more than half the kernel size 2"
diag 'input: [1, 8, 4, 4]\nup = ConvTranspose2d(8, 8, 3, stride=2, output_padding=2)\n' \
    1 invalid_output_size up "output_padding 2 on the height axis must be smaller than max(stride, dilation) = max(2, 1) = 2"
diag 'input: [16, 8, 8]\nbn = BatchNorm2d(16)\n' \
    1 rank_mismatch bn "4-D"
diag 'input: [1, 2, 0, 5]\np = ReplicationPad2d(1)\n' \
    1 invalid_padding p "replicate (edge) padding (1, 1) needs at least one input pixel; the input height is 0"
diag 'input: [1, 3, 0, 8]\npool = MaxPool2d(2)\n' \
    1 empty_input pool "cannot pool the input [1, 3, 0, 8]: axis 2 is empty"
diag 'input: [1, 3, 8, 8]\nconv = Conv2d(3, 8, 3, groups=2)\n' \
    1 invalid_config conv "in_channels must be divisible by groups: 3 % 2 = 1"
diag 'input: [3, 8, 8]\nconv = Conv2d(3, 8, 3, padding=1, padding_mode="circular")\n' \
    1 unsupported conv "circular" "unbatched 3-D input"
diag 'input: [1, 3, 8, 8]\nfoo = FooLayer(3)\nconv = Conv2d(3, 8, 3)\n' \
    1 unsupported_op foo "does not know the pytorch layer type 'FooLayer'"
expect_json '"name":"conv","op":"Conv2d"'
expect_json '"status":"not_reached"'

# parse_error: file, line, column
printf 'input: [1, 3, 8, 8]\nconv = Conv2d(3, 8, 3\n' > "$T/p.cnn"
expect_rc 2 "$CK" check "$T/p.cnn" --json
expect_json '"code":"parse_error"'
expect_json '"line":3'
expect_rc 2 "$CK" check "$T/p.cnn"
expect_err "p.cnn:3:1: error"

# warnings: pixels dropped, and a note for an unused Keras argument
diag 'input: [1, 3, 28, 28]\nconv = Conv2d(3, 8, 3, stride=2)\n' \
    0 pixels_dropped conv "1 of 28 on the height axis"
cat > "$T/k.json" <<'JSON'
{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "Dense",
 "config": {"name": "d", "units": 4, "batch_input_shape": [null, 8], "frobnicate": 3}}]}}
JSON
expect_rc 0 "$CK" check "$T/k.json" --json
expect_json '"severity":"note","code":"note","layer":"d"'
expect_out "argument 'frobnicate' is not used by convkit"

# limit_exceeded, one per limit, each naming the flag that raises it
expect_rc 2 "$CK" check examples/chain.cnn --max-nodes 2 --json
expect_json '"code":"limit_exceeded"'
expect_out "more than 2 layers (raise the limit with --max-nodes)"
expect_rc 2 "$CK" check examples/chain.cnn --max-file-bytes 64
expect_err "larger than the 64-byte limit"
printf 'input: [1, 3, 8, 8]\nc = Conv2d(3, 8, ((((((3)))))))\n' > "$T/deep.cnn"
expect_rc 2 "$CK" check "$T/deep.cnn" --max-depth 4
expect_err "brackets nested deeper than 4 levels"
printf 'input: [1, 3, 8, 8]\nthis_is_a_long_layer_name = Conv2d(3, 8, 3)\n' > "$T/long.cnn"
expect_rc 2 "$CK" check "$T/long.cnn" --max-string 10 --json
expect_json '"code":"limit_exceeded"'
expect_out "the limit is 10 (raise it with --max-string)"
expect_rc 2 "$CK" sizes examples/chain.cnn --range 1:100 --max-sizes 50
expect_err "the range 1:100 has 100 sizes; the limit is 50 (raise it with --max-sizes)"
expect_rc 1 "$CK" run examples/chain.cnn --input random:1x3x64x64 --max-elements 10000 -o "$T/y.npy"
expect_err "has more than the 10000 elements a tensor may have (raise it with --max-elements)"
[ ! -e "$T/y.npy" ] && ok || bad "nothing written past the element limit"
expect_rc 2 "$CK" check examples/chain.cnn --max-nodes 0
expect_err "--max-nodes needs a positive whole number"

# rank above CK_MAX_RANK
printf 'input: [1, 1, 1, 1, 1, 1, 1, 1, 1]\nr = ReLU()\n' > "$T/r9.cnn"
expect_rc 2 "$CK" check "$T/r9.cnn"
expect_err "with 1 to 8 non-negative sizes"

echo "cli_diagnostics: $pass passed, $fail failed"
[ "$fail" = 0 ]

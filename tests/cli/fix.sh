#!/bin/sh
# End-to-end: convkit fix and the fixes in convkit check, as a user runs them.
. tests/cli/lib.sh.in

# the DESIGN.md example: check lists the verified fixes under the error
expect_rc 1 "$CK" check examples/chain.cnn
expect_out "fixes, each re-checked on the whole network:"
expect_out "input of at least 15x15 (output [1, 64, 1, 1]; the smallest input every layer accepts)"
expect_out "conv3: padding=1 (output [1, 64, 1, 1]; the smallest padding that fits)"
expect_out "conv2: padding=2"
expect_rc 1 "$CK" check examples/chain.cnn --json
expect_json '"fixes":["inputofatleast15x15'

# fix: the explanation, the fixes, --write of the first one, which check accepts
expect_rc 1 "$CK" fix examples/chain.cnn --write "$T/fixed.cnn"
expect_out "error: conv3 (Conv2d): output height would be 0"
expect_out "height shrank: input 7 -> conv1 3 -> conv2 1 -> conv3 0"
expect_out "wrote $T/fixed.cnn with the first fix"
grep -q "^input: \[1, 3, 15, 15\]" "$T/fixed.cnn" && ok || bad "fixed.cnn declares the 15x15 input"
grep -q "^# .*input of at least 15x15" "$T/fixed.cnn" && ok || bad "fixed.cnn says what changed"
expect_rc 0 "$CK" check "$T/fixed.cnn"
expect_out "ok: 4 layers, output [1, 64, 1, 1]"

# a layer fix written back: padding='same' with stride 2 in PyTorch
expect_rc 1 "$CK" fix examples/seeds/same_stride2.cnn --write "$T/same.cnn"
expect_out "insert conv_pad = ZeroPad2d((0, 1, 0, 1)) before conv and set padding=0"
expect_out "PyTorch refuses padding='same' with stride > 1"
expect_rc 0 "$CK" check "$T/same.cnn"
expect_out "[1, 16, 14, 14]"

# grayscale into an RGB layer
expect_rc 1 "$CK" fix examples/seeds/rgb_on_grayscale.cnn
expect_out "conv: in_channels=1"
expect_out "the image is grayscale and the layer expects RGB"

# Keras: padding='same' written back as Keras .cnn
expect_rc 1 "$CK" fix examples/seeds/keras_k5_valid.cnn --write "$T/k.cnn"
expect_out "conv: padding='same'"
expect_rc 0 "$CK" check "$T/k.cnn"

# Keras reshape whose element count disagrees: the Dense before it
expect_rc 1 "$CK" fix tests/keras/json/k2_generator_broken.json
expect_out "dense: units=12544 (output [1, 28, 28, 1]"
# Keras U-Net one pixel off: pad the upsampled branch
expect_rc 1 "$CK" fix tests/keras/json/k2_unet_broken.json
expect_out "ZeroPadding2D(((0, 0), (0, 1))) on operand 0 (conv2d_transpose) of concatenate"

# JSON contract
expect_rc 1 "$CK" fix examples/chain.cnn --json
expect_one_json
for f in '"ok":false' '"fixes":[{"kind":"input","layer":null,"change":"inputofatleast15x15"' \
    '"kind":"layer","layer":"conv3","change":"padding=1"' '"output_shape":[1,64,1,1]' \
    '"checks":' '"written":null' '"diagnostics":['; do
    expect_json "$f"
done

# ONNX: fixes name ONNX attributes; --write refuses with a reason, nothing written
expect_rc 2 "$CK" fix tests/oracle/networks/chain.onnx --input 1x3x7x7 --write "$T/o.cnn"
expect_out "pads=[1, 1, 1, 1]"
expect_err "cannot be written as .cnn"
[ ! -e "$T/o.cnn" ] && ok || bad "nothing written for ONNX"

# a valid model: nothing to fix, exit 0; usage errors exit 2
expect_rc 0 "$CK" fix examples/chain.cnn --input 1x3x32x32
expect_out "is valid: output [1, 64, 3, 3]; nothing to fix"
expect_rc 2 "$CK" fix
expect_rc 2 "$CK" fix examples/chain.cnn --write
expect_rc 0 "$CK" fix --help
expect_out "usage: convkit fix"

echo "cli_fix: $pass passed, $fail failed"
[ "$fail" = 0 ]

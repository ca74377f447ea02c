#!/bin/sh
# End-to-end: ONNX files and Keras JSON through the convkit command, the
# kind told from the content, names kept as the frameworks wrote them.
. tests/cli/lib.sh.in

# ONNX: dynamic H/W filled by --input; PyTorch module path in the node names
expect_rc 0 "$CK" check tests/oracle/networks/resnet18.onnx --input 1x3x224x224
expect_out "ok: 49 layers, output [1, 1000]"
expect_rc 1 "$CK" check tests/oracle/networks/chain.onnx --input 1x3x7x7
expect_out "error: /conv3/Conv (Conv): output height would be 0"
expect_out "height shrank: input 7 -> /conv1/Conv 3 -> /conv2/Conv 1 -> /conv3/Conv 0"
expect_rc 0 "$CK" summary tests/oracle/networks/resnet18.onnx --input 1x3x224x224
expect_out "Total MACs: 1,814,073,344 (1.81G)"
# the same file under another name: the content decides
cp tests/oracle/networks/chain.onnx "$T/model.txt"
expect_rc 0 "$CK" check "$T/model.txt" --input 1x3x32x32 --json
expect_out '"dialect": "onnx"'
# a truncated file is unreadable, not a crash
head -c 1000 tests/oracle/networks/chain.onnx > "$T/trunc.onnx"
expect_rc 2 "$CK" check "$T/trunc.onnx" --json
expect_out '"code": "parse_error"'

# Keras JSON: Keras names, NHWC shapes, the first failure explained
expect_rc 1 "$CK" check tests/keras/json/k20_seq_cnn_too_small.json
expect_out "error: conv2d_3 (Conv2D): output height would be -1"
expect_out "height shrank: input 12 -> conv2d_1 10 -> max_pooling2d_1 5 -> conv2d_2 3 -> max_pooling2d_2 1 -> conv2d_3 -1"
expect_rc 0 "$CK" check tests/keras/json/k20_seq_cnn.json --json
expect_out '"dialect": "keras"'
expect_out '"ok": true'
expect_rc 1 "$CK" check tests/keras/json/k2_unet_broken.json --json
expect_out '"code": "skip_mismatch"'
printf '{"class_name": "Sequential", "config": [' > "$T/bad.json"
expect_rc 2 "$CK" check "$T/bad.json"
# null sizes are symbols, checked at every size (as ONNX's symbolic dims)
printf '{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, null, null, 3], "name": "img"}}, {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 8, "kernel_size": [5, 5], "strides": [2, 2]}}, {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}}]}}' > "$T/fcn.json"
expect_rc 0 "$CK" check "$T/fcn.json"
expect_out "input 'img' [1, height, width, 3] has symbolic sizes"
expect_out "height = width           5-1024"
expect_rc 0 "$CK" check "$T/fcn.json" --input 1x64x64x3
expect_out "ok: 2 layers, output [1, 8]"
# the same in a .cnn's input_shape=; an entry that is no size is a parse error
printf 'conv = Conv2D(8, 3, input_shape=(None, 9, 1))\n' > "$T/open.cnn"
expect_rc 0 "$CK" check "$T/open.cnn"
expect_out "ok: valid at some size; 1 layer, output [1, height - 2, 7, 8]"
printf 'conv = Conv2D(8, 3, input_shape=(5, -1, 1))\n' > "$T/neg.cnn"
expect_rc 2 "$CK" check "$T/neg.cnn"
expect_err "conv: input shape entry 1 is -1; sizes are non-negative integers or None"

echo "cli_import: $pass passed, $fail failed"
[ "$fail" = 0 ]

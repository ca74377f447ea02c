#!/bin/sh
# End-to-end: check --as, the same architecture under another framework's rules.
. tests/cli/lib.sh.in

# PyTorch drops a ceil_mode window that starts in the padding; ONNX keeps it
cat > "$T/ceil.cnn" <<'CNN'
input: [1, 3, 10, 10]
pool = MaxPool2d(1, stride=2, ceil_mode=True)
conv = Conv2d(3, 8, 3, padding=1)
CNN
expect_rc 0 "$CK" check "$T/ceil.cnn" --as onnx
expect_out "under onnx rules: 1 layer differs from pytorch"
expect_out "pool (MaxPool2d): pytorch [1, 3, 5, 5], onnx [1, 3, 6, 6]"
expect_out "under onnx rules the model is valid"
# Keras has no ceil_mode at all
expect_rc 0 "$CK" check "$T/ceil.cnn" --as keras
expect_out "pool (MaxPool2d): pytorch [1, 3, 5, 5], keras FAILED"
expect_out "keras: Keras pooling layers have no ceil_mode"
expect_out "(1 later layers not reached under keras rules)"

# Keras 'same' with stride 2 is refused by PyTorch
cat > "$T/same.cnn" <<'CNN'
input: [1, 28, 28, 3]
conv = Conv2D(16, 3, strides=2, padding="same")
pool = MaxPooling2D(2, padding="same")
CNN
expect_rc 0 "$CK" check "$T/same.cnn" --as pytorch
expect_out "conv (Conv2D): keras [1, 14, 14, 16], pytorch FAILED"
expect_out "pytorch: padding='same' is not supported for strided convolutions in PyTorch (stride 2)"
expect_rc 0 "$CK" check "$T/same.cnn" --as onnx
expect_out "every layer gives the same result as under keras rules"

# PyTorch refuses pool padding over kernel/2; the others pad
cat > "$T/pad.cnn" <<'CNN'
input: [1, 3, 8, 8]
pool = MaxPool2d(2, padding=2)
CNN
expect_rc 1 "$CK" check "$T/pad.cnn" --as onnx
expect_out "pool (MaxPool2d): pytorch FAILED, onnx [1, 3, 6, 6]"
expect_out "under onnx rules the model is valid"

# JSON
expect_rc 0 "$CK" check "$T/ceil.cnn" --as onnx --json
expect_one_json
expect_json '"as":{"dialect":"onnx","ok":true,"differences":[{"layer":"pool","type":"MaxPool2d","state":"ok","output_shape":[1,3,5,5]'
expect_json '"as_output_shape":[1,3,6,6]'

# a real ONNX export checked under PyTorch rules
expect_rc 0 "$CK" check tests/oracle/networks/squeezenet1_0.onnx --input 1x3x224x224 --as pytorch
expect_out "under pytorch rules"

expect_rc 2 "$CK" check "$T/ceil.cnn" --as caffe
expect_err "--as must be pytorch, keras or onnx"

echo "cli_check_as: $pass passed, $fail failed"
[ "$fail" = 0 ]

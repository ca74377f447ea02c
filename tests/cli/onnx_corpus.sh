#!/bin/sh
# End-to-end (issue 16): ONNX as PyTorch exports it. The models of
# tests/onnx_corpus/small (narrow copies of real architectures, exported at
# opsets 11, 13 and 17 with dynamic axes by tests/onnx_corpus/gen_small.py):
# checks without --input on symbolic sizes, runs against PyTorch's outputs
# on every model that pads or resamples, PyTorch's refusals in a PyTorch
# export, parameter counts, partial totals, and the refusal of a pasted
# print(model) that is not a chain.
. tests/cli/lib.sh.in
S=tests/onnx_corpus/small

# symbolic sizes: checked at every size, shown as expressions of the symbols
expect_rc 0 "$CK" check $S/espcn_op17.onnx
expect_out "[N, 1, H, W]"
expect_out "[N, 1, 3 * H, 3 * W]"
expect_out "valid sizes (1-1024 scanned):"
expect_out "ok: valid at some size"
expect_rc 0 "$CK" check $S/srcnn_op11.onnx
expect_out "[N, 1, H - 12, W - 12]"
expect_out "H = W                    13-1024"
expect_rc 0 "$CK" check $S/unet_padded_op13.onnx --json
expect_one_json
for f in '"output_expr": [' '"valid_sizes": {' '"input_expr": [' '"symbols": [' '"square": [' \
    '"outputs": [' '"ok": true'; do
    expect_out "$f"
done
# a flattened map: the product of the axes' forms
expect_rc 0 "$CK" check $S/yolov3_tiny_op13.onnx
expect_out "[N, 15 * (floor((H - 32) / 32) + 1) * (floor((W - 32) / 32) + 1), 6]"
# U-Net with valid convolutions: valid only where every crop fits
expect_rc 0 "$CK" check $S/unet_valid_op17.onnx --json
expect_out '"smallest_square": 188'
# sizes without --input: the batch at 1, each axis with the other at the smallest valid size
expect_rc 0 "$CK" sizes $S/srcnn_op13.onnx --range 1:64
expect_out "input [1, 1, 13, 13]"
expect_out "height (width held at 13)"

# the pads, crops, upsamplings and grids fold: run matches PyTorch at each opset
for m in unet_padded deeplab_aspp cyclegan_gen yolov3_tiny wavenet espcn fsrcnn edsr; do
    for op in 11 13 17; do
        expect_rc 0 "$CK" run $S/${m}_op$op.onnx --input $S/$m.x.npy -o "$T/y.npy"
        expect_npy_close "$T/y.npy" $S/$m.y.npy
    done
done
# a folded layer never runs (the pads' shape arithmetic: no MACs, no step)
expect_rc 0 "$CK" summary $S/unet_padded_op11.onnx --input 1x3x29x29 --format json
expect_out '"canonical_op": "constant_of_shape"'

# PyTorch's refusal in a PyTorch export: InstanceNorm over one value
expect_rc 1 "$CK" check $S/norm_1x1_op13.onnx --input 1x3x2x2
expect_out "expected more than 1 spatial element"
expect_out "exported by PyTorch"
# MaxPool1d whose window leaves 0 positions: where PyTorch under no_grad raises
expect_rc 1 "$CK" check $S/pool1d_empty_op11.onnx --input 1x1x5
expect_out "MaxPool1d then returns an empty tensor of length 0, and the next layer, /n/n.2/Conv, raises"

# parameters: GroupNorm exported as InstanceNormalization + Mul + Add keeps its affine
# weight and bias (PyTorch: 5,325)
expect_rc 0 "$CK" summary $S/gn_resnet_se_op13.onnx --input 1x3x32x32
expect_out "Total params: 5,325"
expect_rc 1 "$CK" summary $S/srcnn_op13.onnx --input 1x1x8x8
expect_out "partial: 5 layers not reached"
expect_rc 1 "$CK" summary $S/srcnn_op13.onnx --input 1x1x8x8 --format json
expect_out '"partial": true'
expect_out '"not_reached": 5'

# a pasted print(model) of a module that is not a chain (a ResNet's block adds its
# shortcut) is refused, pointing to the Python entry point and ONNX
cat > "$T/resnet.txt" << 'EOF'
ResNet(
  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
  (layer1): Sequential(
    (0): BasicBlock(
      (conv1): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
      (conv2): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    )
  )
)
EOF
expect_rc 2 "$CK" check "$T/resnet.txt" --input 1x3x64x64
expect_err "'BasicBlock' is a module whose forward() the printed text does not show"
expect_err "convkit.check(model, input_size=...)"
# a module made of Sequentials is still read as the chain it prints
cat > "$T/seq.txt" << 'EOF'
Net(
  (features): Sequential(
    (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))
    (1): ReLU()
  )
)
EOF
expect_rc 0 "$CK" check "$T/seq.txt" --input 1x3x8x8

echo "cli_onnx_corpus: $pass passed, $fail failed"
[ "$fail" = 0 ]

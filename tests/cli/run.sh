#!/bin/sh
# End-to-end: convkit run. Reference outputs through the CLI, .npy in and
# out, seeded inputs, the JSON contract, and bad inputs (exit 1 or 2, a
# diagnostic, no output file).
. tests/cli/lib.sh.in
R=tests/oracle/networks/reference
N=tests/oracle/networks

# squeezenet against PyTorch's output, as written to y.npy
expect_rc 0 "$CK" run $N/squeezenet1_0.onnx --input $R/squeezenet1_0.input.npy -o "$T/y.npy"
expect_out "output output [1, 1000]"
expect_out "-> $T/y.npy"
[ -s "$T/y.npy" ] && ok || bad "y.npy not written"
expect_npy_close "$T/y.npy" $R/squeezenet1_0.output.npy
expect_rc 0 "$CK" run $N/chain.onnx --input=$R/chain.input.npy -o "$T/c.npy" --json
expect_one_json
for f in '"ok": true' '"outputs"' '"shape": [' '"time_ms"' '"activation_bytes"' \
    '"naive_activation_bytes"' '"source": "tests/oracle/networks/reference/chain.input.npy"'; do
    expect_out "$f"
done
expect_npy_close "$T/c.npy" $R/chain.output.npy

# unet through a named input: the written file is .npy and holds PyTorch's output
expect_rc 0 "$CK" run $N/unet.onnx --input input=$R/unet.input.npy -o "$T/u.npy"
head -c 6 "$T/u.npy" | od -c | grep -q 'N   U   M   P   Y' && ok || bad "u.npy is not .npy"
expect_npy_close "$T/u.npy" $R/unet.output.npy

# .cnn and Keras models: seeded initialisation and random inputs
expect_rc 0 "$CK" run examples/chain.cnn --input random:1x3x32x32 --seed 3 -o "$T/a.npy"
expect_out "output conv3 [1, 64, 3, 3]"
expect_rc 0 "$CK" run examples/chain.cnn --input random:1x3x32x32 --seed 3 -o "$T/b.npy"
cmp -s "$T/a.npy" "$T/b.npy" && ok || bad "same seed, different output"
expect_rc 0 "$CK" run examples/chain.cnn --input random:1x3x32x32 --seed 4 -o "$T/b.npy"
cmp -s "$T/a.npy" "$T/b.npy" && bad "another seed, same output" || ok
expect_rc 0 "$CK" run tests/keras/json/k2_seq_cnn.json --json
expect_out '"dialect": "keras"'
expect_out '"source": "random"'
expect_rc 0 "$CK" run tests/keras/json/k2_xception_like.json --input random:1x71x71x3
expect_out "output predictions [1, 4]"

# bad inputs: a diagnostic, exit 1 or 2, nothing written
expect_rc 1 "$CK" run examples/chain.cnn --input random:1x3x7x7 -o "$T/no.npy"
expect_err "conv3 (Conv2d): output height would be 0"
expect_rc 1 "$CK" run $N/chain.onnx --input random:1x1x32x32 -o "$T/no.npy"
expect_err "axis 1 must be 3"
expect_rc 1 "$CK" run $N/alexnet.onnx --input random:1x3x64x64 -o "$T/no.npy"
expect_err "fixed shape [1, 3, 224, 224]"
expect_rc 2 "$CK" run $N/resnet18.onnx --input random:1x3x224x224 -o "$T/no.npy"
expect_err "weights/resnet18.onnx.data, which cannot be opened"
expect_rc 2 "$CK" run $N/mobilenet_v2.onnx --input random:1x3x224x224 -o "$T/no.npy" --json
expect_one_json
expect_out '"ok": false'
expect_out '"code": "parse_error"'
H="{'descr': '<c8', 'fortran_order': False, 'shape': (1, 3, 32, 32), }"
printf "\223NUMPY\001\000$(printf '\\%03o' ${#H})\000%s" "$H" > "$T/c8.npy"
expect_rc 2 "$CK" run $N/chain.onnx --input "$T/c8.npy" -o "$T/no.npy"
expect_err "dtype '<c8' cannot be read as float32"
head -c 1000 $R/chain.input.npy > "$T/short.npy"
expect_rc 2 "$CK" run $N/chain.onnx --input "$T/short.npy" -o "$T/no.npy"
expect_err "(truncated)"
expect_rc 2 "$CK" run $N/chain.onnx --input "$T/none.npy" -o "$T/no.npy"
expect_err "cannot open"
[ -e "$T/no.npy" ] && bad "an output was written after a failure" || ok
ls "$T" | grep -q part && bad "a partial file was left" || ok

# usage
expect_rc 2 "$CK" run $N/chain.onnx --input random:axb
expect_rc 2 "$CK" run $N/chain.onnx --seed -1
expect_rc 2 "$CK" run $N/chain.onnx --input random:1x3x32x32 -o a.npy -o b.npy
expect_err "-o is given 2 times but the model has 1 output"
expect_rc 2 "$CK" run $N/chain.onnx --input nope=random:1x3x32x32
expect_err "--input names 'nope'"
expect_rc 2 "$CK" run tests/keras/json/k2_xception_like.json
expect_err "does not declare the shape of input 'input_1'"
expect_rc 0 "$CK" run --help
expect_out "usage: convkit run"
expect_rc 0 "$CK" --help
expect_out "run MODEL"

echo "cli_run: $pass passed, $fail failed"
[ "$fail" = 0 ]

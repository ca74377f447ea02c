#!/bin/sh
# End-to-end: Keras .h5 (Keras 1/2 HDF5, Keras 3 legacy HDF5) and .keras
# (Keras 3 zip) files read directly. tests/keras/gen_files.py writes small
# files in Keras's own layouts with python3-h5py, and the outputs numpy
# computes from the same weights; `convkit run` must give them. Broken
# files give a diagnostic naming the layer and the dataset. The real files
# of ../shared/oracle/keras_files (third-party, never copied here) are
# checked against their truth when that folder exists.
. tests/cli/lib.sh.in
F=$T/files
if /usr/bin/python3 -c 'import h5py, numpy' 2> /dev/null; then
    expect_rc 0 /usr/bin/python3 tests/keras/gen_files.py "$F"
    # Keras 2 Sequential: Conv2D (HWIO), BatchNormalization's four arrays,
    # DepthwiseConv2D, SeparableConv2D, Dense [in, out], biases
    expect_rc 0 "$CK" check "$F/k2_seq.h5"
    expect_out "separable_conv2d     SeparableConv2D     [1, 6, 6, 6]"
    expect_out "ok: 7 layers, output [1, 5]"
    expect_rc 0 "$CK" summary "$F/k2_seq.h5"
    expect_out "Total params: 609"
    expect_rc 0 "$CK" run "$F/k2_seq.h5" --input "$F/k2_seq_x.npy" -o "$T/y1.npy"
    expect_npy_close "$T/y1.npy" "$F/k2_seq_y.npy"
    expect_rc 0 "$CK" run "$F/k3_seq_legacy.h5" --input "$F/k2_seq_x.npy" -o "$T/y2.npy"
    expect_npy_close "$T/y2.npy" "$F/k2_seq_y.npy"
    # Keras 3 .keras: a functional model with two branches and an Add
    expect_rc 0 "$CK" check "$F/k3_func.keras" --json
    expect_one_json
    expect_json '"dialect":"keras"'
    expect_rc 0 "$CK" sizes "$F/k3_func.keras" --range 1:40
    expect_rc 0 "$CK" run "$F/k3_func.keras" --input "$F/k3_func_x.npy" -o "$T/y3.npy"
    expect_npy_close "$T/y3.npy" "$F/k3_func_y.npy"
    # the content decides, not the name
    cp "$F/k3_func.keras" "$T/model.bin"
    expect_rc 0 "$CK" check "$T/model.bin"
    # broken files: diagnostics, never a crash
    expect_rc 2 "$CK" check "$F/bad_missing.h5"
    expect_err "error: conv2d: the weight 'model_weights/conv2d/conv2d/bias:0' is listed but the file has no such dataset"
    expect_rc 2 "$CK" check "$F/bad_int.h5"
    expect_err "dense: the weight 'model_weights/dense/dense/kernel:0' is not floating point"
    expect_rc 2 "$CK" check "$F/bad_shape.h5"
    expect_err "conv2d: the file holds 304 parameters for this layer (kernel [5, 5, 3, 4], bias [4]), but its configuration has 112"
    expect_rc 2 "$CK" check "$F/bad_trunc.h5" --json
    expect_one_json
    expect_json '"code":"parse_error"'
    expect_rc 2 "$CK" check "$F/bad_trunc.keras"
    expect_err "not a readable zip archive"
    expect_rc 2 "$CK" check "$F/bad_bomb.keras" --max-file-bytes 1000000 --json
    expect_json '"code":"limit_exceeded"'
    expect_json "'model.weights.h5'inflatesto67108864bytes"
else
    echo "skipped the generated Keras files: /usr/bin/python3 lacks h5py or numpy (apt-get install python3-h5py)"
fi
# an HDF5 file is never read as ONNX or text
printf '\211HDF\r\n\032\n' > "$T/sig.h5"
expect_rc 2 "$CK" check "$T/sig.h5"
expect_err "cannot open it as an HDF5 file"

# real files (third-party): shapes per layer and the parameter count of the truth
R=../shared/oracle/keras_files
if [ -d "$R" ]; then
    for truth in "$R"/*.truth.json; do
        m=${truth%.truth.json}
        [ -f "$m.h5" ] && m=$m.h5 || m=$m.keras
        "$CK" check "$m" --json > "$T/out" 2> "$T/err"
        /usr/bin/python3 - "$truth" "$T/out" <<'PY' && ok || bad "$m differs from its truth: $(cat "$T/why")"
import json, math, sys
truth = json.load(open(sys.argv[1]))
got = json.load(open(sys.argv[2]))
shapes = {l["name"]: l["output_shape"] for l in got["layers"]}
why = []
for l in truth["layers"]:
    want = l.get("output_shape")
    if want is None or l["class_name"].startswith("InputLayer"):
        continue
    if l["class_name"] == "Embedding":  # convkit has no Embedding: shapes stop there
        break
    if shapes.get(l["name"]) != want:
        why.append("%s: %s, want %s" % (l["name"], shapes.get(l["name"]), want))
params = sum(math.prod(s) for ws in truth["weights"].values() for _, s in ws)
if truth.get("model", "").find("embedding") < 0:
    have = sum(l.get("params", 0) for l in got["layers"])
    if have != params:
        why.append("params %d, want %d" % (have, params))
open(sys.argv[2].replace("out", "why"), "w").write("; ".join(why[:3]))
sys.exit(1 if why else 0)
PY
    done
else
    echo "skipped the real Keras files: $R is not here (it is beside the repository in CI)"
fi

echo "cli_keras_files: $pass passed, $fail failed"
[ "$fail" = 0 ]

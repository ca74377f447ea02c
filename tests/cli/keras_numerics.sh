#!/bin/sh
# Numerics without TensorFlow: tests/keras/numerics/num.h5 (weights set with
# python3-h5py by tests/keras/gen_numerics.py) under `convkit run` gives
# PyTorch's output for the same network, the weights transposed to
# PyTorch's layouts (tests/keras/torch_numerics.py, float64), within the
# fast kernels' bar (1e-5 of the largest output). test_keras_numerics
# compares the same file with its .cnn twin fed the weights through the C
# API's parameter callback.
. tests/cli/lib.sh.in
N=tests/keras/numerics
for k in ref auto; do
    expect_rc 0 "$CK" run $N/num.h5 --input $N/num.x.npy --kernels $k -o "$T/y_$k.npy"
    expect_out "output dense [1, 5]"
done
expect_rc 0 "$CK" run $N/num.h5 --input $N/num.x.npy --threads 3 -o "$T/y_t3.npy"
# the committed files are what the generator writes
if /usr/bin/python3 -c 'import h5py, numpy' 2> /dev/null; then
    expect_rc 0 /usr/bin/python3 tests/keras/gen_numerics.py "$T/gen"
    diff -r "$T/gen" $N > "$T/diff" && ok || bad "gen_numerics.py writes other files: $(head -c 300 "$T/diff")"
else
    echo "skipped regenerating $N: /usr/bin/python3 lacks h5py or numpy (apt-get install python3-h5py)"
fi
if /usr/bin/python3 -c 'import h5py, numpy, torch' 2> /dev/null; then
    expect_rc 0 /usr/bin/python3 tests/keras/torch_numerics.py $N "$T/y_ref.npy" "$T/y_auto.npy" "$T/y_t3.npy"
    cat "$T/out"
    [ "$(grep -c ' ok$' "$T/out")" = 3 ] && ok || bad "not every output agrees with PyTorch: $(cat "$T/out" "$T/err")"
else
    echo "skipped the PyTorch comparison: /usr/bin/python3 lacks torch, h5py or numpy (apt-get install python3-torch python3-h5py)"
fi

echo "cli_keras_numerics: $pass passed, $fail failed"
[ "$fail" = 0 ]

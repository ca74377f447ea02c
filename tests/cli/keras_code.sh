#!/bin/sh
# End-to-end: Keras model-building code pasted as written (tests/keras/*.py,
# written for these tests): Sequential lists and model.add, the functional
# API with nested calls, functions, loops, several models in one file. The
# layer names are the ones Keras gives in a fresh session.
. tests/cli/lib.sh.in
K=tests/keras

# Sequential() + model.add(...) with input_shape=, compile and fit skipped with a note
expect_rc 0 "$CK" check $K/seq_add.py
expect_out "conv2d_3         Conv2D        [1, 1, 1, 64]"
expect_out "max_pooling2d_1  MaxPooling2D  [1, 5, 5, 64]"
expect_out "ok: 9 layers, output [1, 10]"
expect_out "note: skipped 7 statements that do not build the model"
expect_out "lines 1-3, 5, 16-18"
# tf.keras.Sequential([...]) from the seed article, fed 7x7: conv2d_1 fails as in Keras
expect_rc 1 "$CK" check $K/seq_list.py
expect_out "error: conv2d_1 (Conv2D): output height would be 0"
expect_out "height shrank: input 7 -> conv2d 5 -> max_pooling2d 2 -> conv2d_1 0"
expect_out "conv2d_1: padding='same'"
# the functional API: keras.Input, layers.add, a nested call, keras.Model(inputs=, outputs=)
expect_rc 1 "$CK" check $K/functional_add.py --json
expect_one_json
expect_json '"layer":"add"'
expect_json '"code":"skip_mismatch"'
expect_json '"name":"conv2d_1"'
# def blocks called in a loop; Model(inp, out, name=); tf.keras names its Input input_1
expect_rc 0 "$CK" check $K/blocks.py
expect_out "input_1 "
expect_out "re_lu_2                   ReLU                    [1, 8, 8, 64]"
expect_out "concatenate               Concatenate             [1, 8, 8, 128]"
expect_out "probs                     Dense                   [1, 10]"
expect_rc 0 "$CK" summary $K/blocks.py
expect_out "Total params:"
# a loop over a slice adds layers; the pooled size runs out as Keras would say
expect_rc 1 "$CK" check $K/loops.py
expect_out "error: max_pooling2d_2 (MaxPooling2D)"
expect_out "note: skipped 6 statements"
# several models: the one compiled last, the nested Sequentials prefixed
expect_rc 0 "$CK" check $K/gan.py
expect_out "generator/conv2d_transpose_1"
expect_out "discriminator/dense_1"
expect_out "the file builds 3 models; convkit checks 'model'"
# the same code in a .cnn file is read the same way
cp $K/seq_add.py "$T/model.cnn"
expect_rc 0 "$CK" check "$T/model.cnn"
expect_out "ok: 9 layers, output [1, 10]"
# text that only imports is no model: an error that says what was expected
printf 'import keras\nfrom keras import layers\nmodel = keras.Sequential()\n' > "$T/empty.py"
expect_rc 2 "$CK" check "$T/empty.py"
expect_err "Sequential model 'sequential' has no layers"
printf 'import keras\nx = keras.Input(shape=(8, 8, 3))\ny = keras.layers.Conv2D(4, 3, name="c")(x)\nz = keras.layers.Conv2D(4, 3, name="c")(y)\nm = keras.Model(x, z)\n' > "$T/dup.py"
expect_rc 2 "$CK" check "$T/dup.py"
expect_err "two layers are named 'c'"
# hostile code: deep nesting and long loops are refused with limit_exceeded
/usr/bin/python3 -c "print('import keras\nm = keras.Sequential([' + '(' * 100 + '1' + ')' * 100 + '])')" > "$T/deep.py"
expect_rc 2 "$CK" check "$T/deep.py" --json
expect_json '"code":"limit_exceeded"'
printf 'import keras\nm = keras.Sequential()\nfor i in range(10000000):\n    m.add(keras.layers.Dense(4))\n' > "$T/long.py"
expect_rc 2 "$CK" check "$T/long.py" --json
expect_json '"code":"limit_exceeded"'

# fix --write writes the user's code back with only the changed argument edited
expect_rc 1 "$CK" fix $K/generator_broken.py --write "$T/gen.py"
expect_out "dense: units=12544"
expect_out "wrote $T/gen.py with the first fix"
expect_rc 0 "$CK" check "$T/gen.py"
expect_out "ok: 9 layers, output [1, 28, 28, 1]"
diff $K/generator_broken.py "$T/gen.py" > "$T/diff"
[ "$(grep -c '^[<>]' "$T/diff")" = 2 ] && ok || bad "gen.py: more than one line changed: $(cat "$T/diff")"
grep -qxF '>         layers.Dense(12544, use_bias=False, input_shape=(latent_dim,)),' "$T/diff" && ok ||
    bad "gen.py: the Dense line is not the one edited: $(cat "$T/diff")"
# the seed article's model fed 7x7: the input size edited inside input_shape=(...)
expect_rc 1 "$CK" fix $K/seq_list.py --write "$T/seq.py"
expect_rc 0 "$CK" check "$T/seq.py"
diff $K/seq_list.py "$T/seq.py" > "$T/diff"
[ "$(grep -c '^[<>]' "$T/diff")" = 2 ] && ok || bad "seq.py: more than one line changed: $(cat "$T/diff")"
grep -qF "input_shape=(8, 8, 1)" "$T/seq.py" && ok || bad "seq.py: input_shape not edited"
# the same code in a .cnn file: written back as that code
cp $K/generator_broken.py "$T/gen.cnn"
expect_rc 1 "$CK" fix "$T/gen.cnn" --write "$T/gen2.cnn" --json
expect_json '"written":"'
cmp -s "$T/gen.py" "$T/gen2.cnn" && ok || bad "gen2.cnn differs from gen.py"
# a change the code cannot hold (the shape came from --input): .cnn with a warning
printf 'import keras\nmodel = keras.Sequential([keras.layers.Conv2D(4, 5), keras.layers.Conv2D(4, 5)])\n' > "$T/noin.py"
expect_rc 1 "$CK" fix "$T/noin.py" --input 1x7x7x3 --write "$T/noin_fixed.py"
expect_err "the fix cannot be written as an edit of the code"
expect_err "came from --input"
expect_rc 0 "$CK" check "$T/noin_fixed.py"
# None is a symbol: a fully convolutional model is checked at every size
printf 'import keras\nfrom keras import layers\nmodel = keras.Sequential([\n    keras.Input(shape=(None, None, 3)),\n    layers.Conv2D(8, 3, strides=2),\n    layers.GlobalAveragePooling2D(),\n])\n' > "$T/fcn.py"
expect_rc 0 "$CK" check "$T/fcn.py"
expect_out "[1, height, width, 3] has symbolic sizes"
expect_out "ok: valid at some size"
expect_rc 0 "$CK" sizes "$T/fcn.py"
expect_out "rejected by:"
# a Flatten of an open size cannot feed a Dense (Keras builds its kernel
# from the static shape)
printf 'import keras\nfrom keras import layers\nmodel = keras.Sequential([\n    keras.Input(shape=(None, None, 3)),\n    layers.Conv2D(8, 3, strides=2),\n    layers.Flatten(),\n    layers.Dense(10),\n])\n' > "$T/flat.py"
expect_rc 1 "$CK" check "$T/flat.py"
expect_out "error: dense (Dense): Dense needs the last axis of its input defined to build its kernel, but it is 8 * (floor((height - 3) / 2) + 1) * (floor((width - 3) / 2) + 1)"
expect_out "GlobalAveragePooling2D instead of Flatten"
expect_rc 1 "$CK" check "$T/flat.py" --json
expect_out '"code": "feature_mismatch"'
# an input fix writes the sizes it was verified at, None included
printf 'import keras\nmodel = keras.Sequential([\n    keras.layers.Conv2D(16, 3, input_shape=(None, 2, 1)),\n    keras.layers.Flatten(),\n    keras.layers.Dense(10)\n])\n' > "$T/none.py"
expect_rc 1 "$CK" fix "$T/none.py" --write "$T/none_fixed.py"
expect_out "input of at least 3x3"
grep -qF "input_shape=(3, 3, 1)" "$T/none_fixed.py" && ok || bad "none_fixed.py: $(cat "$T/none_fixed.py")"
expect_rc 0 "$CK" check "$T/none_fixed.py"
expect_out "ok: 3 layers, output [1, 10]"

echo "cli_keras_code: $pass passed, $fail failed"
[ "$fail" = 0 ]

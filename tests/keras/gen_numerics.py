"""Writes the Keras file of the numerics tests: one architecture with
weights set here (python3-h5py, Keras 2 HDF5 layout), the same architecture
as .cnn text, the same weights one .npy per parameter (for the C API's
parameter callback), and an input:

    /usr/bin/python3 tests/keras/gen_numerics.py [OUTDIR]   (default tests/keras/numerics)

  num.h5               model_config + model_weights, as tf.keras 2 saves them
  num.cnn              the layers, Keras names and arguments, NHWC input
  num.x.npy            the input, [1, 12, 12, 3]
  num.weights/<layer>.<param>.npy   Keras layouts: kernel [kh, kw, in, out],
                       depthwise_kernel [kh, kw, in, multiplier],
                       pointwise_kernel [1, 1, in, out], Conv2DTranspose's
                       kernel [kh, kw, out, in], Dense [in, out], gamma,
                       beta, moving_mean, moving_variance, bias

tests/unit/test_keras_numerics.c runs num.h5 and num.cnn (weights through
ck_session_options.params) and compares; tests/keras/torch_numerics.py
computes the same network with PyTorch from the weights in num.h5,
transposed to PyTorch's layouts. Deterministic weights (seed 1515).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_files as gf  # noqa: E402  (Keras 2 HDF5 writer, layer configs)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "numerics")
rng = np.random.default_rng(1515)


def w(*shape, scale=0.4):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def model():
    L = gf.k2_layer
    layers = [
        L("InputLayer", "input_1", batch_input_shape=[None, 12, 12, 3], sparse=False,
          ragged=False),
        gf.k2_conv("conv2d", 8, 3, padding="same", activation="relu"),
        L("BatchNormalization", "batch_normalization", axis=[3], momentum=0.99, epsilon=0.001,
          center=True, scale=True),
        L("DepthwiseConv2D", "depthwise_conv2d", kernel_size=[3, 3], strides=[1, 1],
          padding="valid", data_format="channels_last", dilation_rate=[1, 1],
          activation="linear", use_bias=True, depth_multiplier=2),
        L("SeparableConv2D", "separable_conv2d", filters=12, kernel_size=[3, 3], strides=[1, 1],
          padding="same", data_format="channels_last", dilation_rate=[1, 1], activation="relu",
          use_bias=True, depth_multiplier=1),
        L("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], padding="valid", strides=[2, 2],
          data_format="channels_last"),
        L("Conv2DTranspose", "conv2d_transpose", filters=6, kernel_size=[3, 3], strides=[2, 2],
          padding="same", output_padding=None, data_format="channels_last",
          dilation_rate=[1, 1], activation="linear", use_bias=True),
        gf.k2_conv("conv2d_1", 4, 3, s=2),
        L("Flatten", "flatten", data_format="channels_last"),
        L("Dense", "dense", units=5, activation="linear", use_bias=True),
    ]
    weights = {
        "conv2d": [("kernel", w(3, 3, 3, 8)), ("bias", w(8))],
        "batch_normalization": [("gamma", 1 + w(8, scale=0.2)), ("beta", w(8, scale=0.2)),
                                ("moving_mean", w(8, scale=0.3)),
                                ("moving_variance", 0.5 + np.abs(w(8)))],
        "depthwise_conv2d": [("depthwise_kernel", w(3, 3, 8, 2)), ("bias", w(16))],
        "separable_conv2d": [("depthwise_kernel", w(3, 3, 16, 1)),
                             ("pointwise_kernel", w(1, 1, 16, 12)), ("bias", w(12))],
        "conv2d_transpose": [("kernel", w(3, 3, 6, 12)), ("bias", w(6))],
        "conv2d_1": [("kernel", w(3, 3, 6, 4)), ("bias", w(4))],
        "dense": [("kernel", w(4 * 4 * 4, 5, scale=0.2)), ("bias", w(5))],
    }
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
              "keras_version": "2.4.0", "backend": "tensorflow"}
    return config, layers, weights


CNN = """# tests/keras/gen_numerics.py: the architecture of num.h5 (its weights are
# handed to the session through ck_session_options.params)
input: [1, 12, 12, 3]
conv2d = Conv2D(8, 3, padding='same', activation='relu')
batch_normalization = BatchNormalization(epsilon=0.001)
depthwise_conv2d = DepthwiseConv2D(3, depth_multiplier=2)
separable_conv2d = SeparableConv2D(12, 3, padding='same', activation='relu')
max_pooling2d = MaxPooling2D(2)
conv2d_transpose = Conv2DTranspose(6, 3, strides=2, padding='same')
conv2d_1 = Conv2D(4, 3, strides=2)
flatten = Flatten()
dense = Dense(5)
"""


def main():
    os.makedirs(os.path.join(OUT, "num.weights"), exist_ok=True)
    config, layers, weights = model()
    # the HDF5 file: weight names as tf.keras 2 writes them ("conv2d/kernel:0")
    named = {ln: [("%s/%s:0" % (ln, p), a) for p, a in ws] for ln, ws in weights.items()}
    gf.write_k2_h5(os.path.join(OUT, "num.h5"), config, layers, named)
    for ln, ws in weights.items():
        for p, a in ws:
            np.save(os.path.join(OUT, "num.weights", "%s.%s.npy" % (ln, p)), a)
    with open(os.path.join(OUT, "num.cnn"), "w") as f:
        f.write(CNN)
    np.save(os.path.join(OUT, "num.x.npy"), rng.standard_normal((1, 12, 12, 3)).astype(np.float32))


if __name__ == "__main__":
    main()

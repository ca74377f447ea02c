"""Writes small Keras model files, their inputs and the outputs they must
give, for tests/cli/keras_files.sh: python3-h5py and numpy, no TensorFlow.

    /usr/bin/python3 tests/keras/gen_files.py OUTDIR

The files follow Keras's own layouts:

* k2_seq.h5 (Keras 2, `model.save("m.h5")` of tf.keras 2.4):
  root attributes keras_version, backend and model_config (the JSON of
  model.to_json(), fixed-length bytes); group model_weights with the
  attribute layer_names; one group per layer with the attribute
  weight_names ("conv2d/kernel:0", an empty float64 array for a layer
  without weights) and its datasets at <layer>/<weight name>.
* k3_func.keras (Keras 3, `model.save("m.keras")`): a zip holding
  metadata.json, config.json (Keras 3 serialization: module, class_name,
  config, inbound_nodes of __keras_tensor__ arguments) and model.weights.h5
  (layers/<key>/vars/<i>, the key the snake_case of the class with a
  counter per container, InputLayer included in a Functional model).
* k3_seq_legacy.h5 (Keras 3 `legacy` HDF5: variable-length strings,
  weight names without ":0").

Each model comes with x.npy inputs and y.npy outputs computed here with
numpy from the same weights (TF's 'same' padding, NHWC, Keras's
BatchNormalization with epsilon), so `convkit run` is checked against an
independent computation. Broken variants: truncated files, a member that
inflates past the limit, a listed weight without its dataset, an integer
weight, and a kernel whose shape disagrees with the layer's config.
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np

rng = np.random.default_rng(15)
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(OUT, exist_ok=True)


def npy_save(name, a):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(a, dtype=np.float32))


# ---- numpy reference ops (NHWC) -------------------------------------------------


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pad_nhwc(x, k, s, padding):
    if padding == "valid":
        return x
    ph = same_pads(x.shape[1], k[0], s[0])
    pw = same_pads(x.shape[2], k[1], s[1])
    return np.pad(x, ((0, 0), ph, pw, (0, 0)))


def conv2d(x, w, b, s=(1, 1), padding="valid"):
    """w: [kh, kw, in, out] (Keras)"""
    kh, kw = w.shape[:2]
    x = pad_nhwc(x, (kh, kw), s, padding)
    n, h, wd, _ = x.shape
    oh, ow = (h - kh) // s[0] + 1, (wd - kw) // s[1] + 1
    y = np.zeros((n, oh, ow, w.shape[3]), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + oh * s[0] : s[0], j : j + ow * s[1] : s[1], :]
            y += patch @ w[i, j]
    return y + (b if b is not None else 0)


def depthwise(x, w, b, s=(1, 1), padding="valid"):
    """w: [kh, kw, C, M] (Keras depthwise_kernel); output channel c*M + m"""
    kh, kw, c, m = w.shape
    x = pad_nhwc(x, (kh, kw), s, padding)
    n, h, wd, _ = x.shape
    oh, ow = (h - kh) // s[0] + 1, (wd - kw) // s[1] + 1
    y = np.zeros((n, oh, ow, c, m), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + oh * s[0] : s[0], j : j + ow * s[1] : s[1], :]
            y += patch[..., None] * w[i, j]
    y = y.reshape(n, oh, ow, c * m)
    return y + (b if b is not None else 0)


def batchnorm(x, g, b, mean, var, eps):
    return g * (x - mean) / np.sqrt(var + eps) + b


def maxpool(x, k):
    n, h, w, c = x.shape
    oh, ow = h // k, w // k
    return x[:, : oh * k, : ow * k, :].reshape(n, oh, k, ow, k, c).max(axis=(2, 4))


def relu(x):
    return np.maximum(x, 0)


def w(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---- Keras configs ----------------------------------------------------------------


def k2_layer(cls, name, **cfg):
    base = {"name": name, "trainable": True, "dtype": "float32"}
    base.update(cfg)
    return {"class_name": cls, "config": base}


def k2_conv(name, filters, k, s=1, padding="valid", activation="linear", bias=True):
    return k2_layer(
        "Conv2D", name, filters=filters, kernel_size=[k, k], strides=[s, s], padding=padding,
        data_format="channels_last", dilation_rate=[1, 1], groups=1, activation=activation,
        use_bias=bias, kernel_initializer={"class_name": "GlorotUniform", "config": {"seed": None}},
        bias_initializer={"class_name": "Zeros", "config": {}}, kernel_regularizer=None,
        bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
        bias_constraint=None)


def k2_seq_model():
    """InputLayer 8x8x3 -> Conv2D(4, 3, same, relu) -> BatchNormalization ->
    DepthwiseConv2D(3, depth_multiplier=2) -> SeparableConv2D(6, 3, same) ->
    MaxPooling2D(2) -> Flatten -> Dense(5)"""
    layers = [
        k2_layer("InputLayer", "input_1", batch_input_shape=[None, 8, 8, 3], sparse=False,
                 ragged=False),
        k2_conv("conv2d", 4, 3, padding="same", activation="relu"),
        k2_layer("BatchNormalization", "batch_normalization", axis=[3], momentum=0.99,
                 epsilon=0.001, center=True, scale=True),
        k2_layer("DepthwiseConv2D", "depthwise_conv2d", kernel_size=[3, 3], strides=[1, 1],
                 padding="valid", data_format="channels_last", dilation_rate=[1, 1],
                 activation="linear", use_bias=True, depth_multiplier=2),
        k2_layer("SeparableConv2D", "separable_conv2d", filters=6, kernel_size=[3, 3],
                 strides=[1, 1], padding="same", data_format="channels_last",
                 dilation_rate=[1, 1], activation="linear", use_bias=True, depth_multiplier=1),
        k2_layer("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], padding="valid",
                 strides=[2, 2], data_format="channels_last"),
        k2_layer("Flatten", "flatten", data_format="channels_last"),
        k2_layer("Dense", "dense", units=5, activation="linear", use_bias=True),
    ]
    weights = {
        "conv2d": [("conv2d/kernel:0", w(3, 3, 3, 4)), ("conv2d/bias:0", w(4))],
        "batch_normalization": [
            ("batch_normalization/gamma:0", (1 + w(4, scale=0.2))),
            ("batch_normalization/beta:0", w(4, scale=0.2)),
            ("batch_normalization/moving_mean:0", w(4, scale=0.3)),
            ("batch_normalization/moving_variance:0", (0.5 + np.abs(w(4)))),
        ],
        "depthwise_conv2d": [("depthwise_conv2d/depthwise_kernel:0", w(3, 3, 4, 2)),
                             ("depthwise_conv2d/bias:0", w(8))],
        "separable_conv2d": [("separable_conv2d/depthwise_kernel:0", w(3, 3, 8, 1)),
                             ("separable_conv2d/pointwise_kernel:0", w(1, 1, 8, 6)),
                             ("separable_conv2d/bias:0", w(6))],
        "dense": [("dense/kernel:0", w(3 * 3 * 6, 5, scale=0.2)), ("dense/bias:0", w(5))],
    }
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
              "keras_version": "2.4.0", "backend": "tensorflow"}

    def forward(x):
        W = {k: [a for _, a in v] for k, v in weights.items()}
        y = relu(conv2d(x, W["conv2d"][0], W["conv2d"][1], padding="same"))
        y = batchnorm(y, *W["batch_normalization"], 0.001)
        y = depthwise(y, W["depthwise_conv2d"][0], W["depthwise_conv2d"][1])
        y = depthwise(y, W["separable_conv2d"][0], None, padding="same")
        y = conv2d(y, W["separable_conv2d"][1], W["separable_conv2d"][2])
        y = maxpool(y, 2)
        y = y.reshape(y.shape[0], -1)
        return y @ W["dense"][0] + W["dense"][1]

    return config, layers, weights, forward


def write_k2_h5(path, config, layers, weights, vlen=False, colon=True, mutate=None):
    """Keras 2 legacy HDF5 (vlen: Keras 3 legacy strings; colon: ':0' names)."""
    def s(v):
        return v if vlen else np.bytes_(v.encode())

    def names(lst):
        if not lst:
            return np.array([], dtype=np.float64)
        if vlen:
            return np.array(lst, dtype=h5py.string_dtype())
        return np.array([n.encode() for n in lst])

    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = s("3.1.0" if vlen else "2.4.0")
        f.attrs["backend"] = s("tensorflow")
        f.attrs["model_config"] = s(json.dumps(config))
        g = f.create_group("model_weights")
        lnames = [L["config"]["name"] for L in layers]
        g.attrs["layer_names"] = names(lnames)
        g.attrs["backend"] = s("tensorflow")
        g.attrs["keras_version"] = s("2.4.0")
        for ln in lnames:
            lg = g.create_group(ln)
            ws = weights.get(ln, [])
            wn = [n if colon else n.replace(":0", "") for n, _ in ws]
            lg.attrs["weight_names"] = names(wn)
            for n, a in zip(wn, (a for _, a in ws)):
                lg.create_dataset(n, data=a)
        if mutate:
            mutate(f)


def k3_func_model():
    """input 9x9x2 -> conv2d(3, 3, s2, same, relu) and conv2d_1(3, 1, s2) ->
    add -> global_average_pooling2d -> dense(4)"""
    def t(layer, shape):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}}

    def lay(cls, name, cfg, args):
        c = {"name": name, "trainable": True,
             "dtype": {"module": "keras", "class_name": "DTypePolicy",
                       "config": {"name": "float32"}, "registered_name": None}}
        c.update(cfg)
        return {"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None,
                "name": name, "inbound_nodes": [{"args": args, "kwargs": {}}] if args else []}

    conv = dict(data_format="channels_last", dilation_rate=[1, 1], groups=1, use_bias=True,
                kernel_initializer=None, bias_initializer=None, kernel_regularizer=None,
                bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                bias_constraint=None)
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 9, 9, 2], "dtype": "float32", "sparse": False,
                    "name": "input_layer"},
         "registered_name": None, "name": "input_layer", "inbound_nodes": []},
        lay("Conv2D", "conv2d", dict(conv, filters=3, kernel_size=[3, 3], strides=[2, 2],
                                     padding="same", activation="relu"),
            [t("input_layer", [None, 9, 9, 2])]),
        lay("Conv2D", "conv2d_1", dict(conv, filters=3, kernel_size=[1, 1], strides=[2, 2],
                                       padding="valid", activation="linear"),
            [t("input_layer", [None, 9, 9, 2])]),
        lay("Add", "add", {}, [[t("conv2d", [None, 5, 5, 3]), t("conv2d_1", [None, 5, 5, 3])]]),
        lay("GlobalAveragePooling2D", "global_average_pooling2d",
            {"data_format": "channels_last", "keepdims": False}, [t("add", [None, 5, 5, 3])]),
        lay("Dense", "dense", {"units": 4, "activation": "linear", "use_bias": True},
            [t("global_average_pooling2d", [None, 3])]),
    ]
    config = {"module": "keras.src.models.functional", "class_name": "Functional",
              "config": {"name": "functional", "trainable": True, "layers": layers,
                         "input_layers": [["input_layer", 0, 0]],
                         "output_layers": [["dense", 0, 0]]},
              "registered_name": "Functional", "build_config": {"input_shape": None},
              "compile_config": None}
    W = {"conv2d": [w(3, 3, 2, 3), w(3)], "conv2d_1": [w(1, 1, 2, 3), w(3)],
         "dense": [w(3, 4), w(4)]}

    def forward(x):
        a = relu(conv2d(x, *W["conv2d"], s=(2, 2), padding="same"))
        b = conv2d(x, *W["conv2d_1"], s=(2, 2))
        y = (a + b).mean(axis=(1, 2))
        return y @ W["dense"][0] + W["dense"][1]

    return config, W, forward


def write_keras(path, config, W, members=None):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        keys = {"input_layer": [], "conv2d": W["conv2d"], "conv2d_1": W["conv2d_1"], "add": [],
                "global_average_pooling2d": [], "dense": W["dense"]}
        for key, vs in keys.items():
            g = f.create_group("layers/%s/vars" % key)
            for i, a in enumerate(vs):
                g.create_dataset(str(i), data=a)
        f.create_group("optimizer/vars")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3",
                                                "date_saved": "2024-05-01@00:00:00"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", buf.getvalue())
        for name, data in (members or {}).items():
            z.writestr(name, data)


def main():
    # Keras 2 Sequential .h5
    config, layers, weights, fwd = k2_seq_model()
    write_k2_h5(os.path.join(OUT, "k2_seq.h5"), config, layers, weights)
    x = rng.standard_normal((1, 8, 8, 3)).astype(np.float32)
    npy_save("k2_seq_x.npy", x)
    npy_save("k2_seq_y.npy", fwd(x.astype(np.float64)))
    # the same as Keras 3's legacy HDF5: variable-length strings, no ':0'
    write_k2_h5(os.path.join(OUT, "k3_seq_legacy.h5"), config, layers, weights, vlen=True,
                colon=False)

    # broken variants
    def drop_bias(f):
        del f["model_weights/conv2d/conv2d/bias:0"]

    write_k2_h5(os.path.join(OUT, "bad_missing.h5"), config, layers, weights, mutate=drop_bias)

    def int_kernel(f):
        del f["model_weights/dense/dense/kernel:0"]
        f["model_weights/dense"].create_dataset("dense/kernel:0",
                                                data=np.ones((54, 5), np.int32))

    write_k2_h5(os.path.join(OUT, "bad_int.h5"), config, layers, weights, mutate=int_kernel)
    wrong = dict(weights)
    wrong["conv2d"] = [("conv2d/kernel:0", w(5, 5, 3, 4)), ("conv2d/bias:0", w(4))]
    write_k2_h5(os.path.join(OUT, "bad_shape.h5"), config, layers, wrong)
    good = open(os.path.join(OUT, "k2_seq.h5"), "rb").read()
    open(os.path.join(OUT, "bad_trunc.h5"), "wb").write(good[: len(good) // 2])

    # Keras 3 functional .keras
    config3, W3, fwd3 = k3_func_model()
    write_keras(os.path.join(OUT, "k3_func.keras"), config3, W3)
    x3 = rng.standard_normal((1, 9, 9, 2)).astype(np.float32)
    npy_save("k3_func_x.npy", x3)
    npy_save("k3_func_y.npy", fwd3(x3.astype(np.float64)))
    good = open(os.path.join(OUT, "k3_func.keras"), "rb").read()
    open(os.path.join(OUT, "bad_trunc.keras"), "wb").write(good[: len(good) // 2])
    # a zip bomb: model.weights.h5 inflates to 64 MiB of zeros
    bomb = os.path.join(OUT, "bad_bomb.keras")
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(config3))
        z.writestr("model.weights.h5", b"\0" * (64 << 20))


if __name__ == "__main__":
    main()

"""Writes the Keras model JSON files the tests read, with their truth, and
the Keras JSON seeds of the fuzz corpus. Every config here is written for
convkit's tests from what Keras's formats are documented to hold (no file
is taken from anywhere); the output shapes in the truth files are computed
here with Keras's own shape formulas, independently of convkit:

    /usr/bin/python3 tests/keras/gen_json.py     (from the repository root)

writes tests/keras/json/<name>.json and <name>.truth.json, and
tests/fuzz/corpus/keras/own_*.json. Deterministic: running it again gives
the same bytes.

Formats (one or more models each):
  * Keras 2 `model.to_json()` of a Sequential (InputLayer first, tf.keras
    >= 2.4) and of a functional Model (inbound_nodes
    [[["layer", node, tensor, {}]]], input_layers / output_layers);
  * Keras 2.0 Sequential whose config is the bare list of layers, the
    input shape as batch_input_shape on the first layer;
  * Keras 1 (Convolution2D(nb_filter, nb_row, nb_col, border_mode,
    subsample, dim_ordering='th'), Dense(output_dim), Dropout(p));
  * Keras 3 (module / registered_name, batch_shape, DTypePolicy dtypes,
    inbound_nodes of {"args": [__keras_tensor__ ...], "kwargs": {}}), a
    Sequential nested in a functional model (its layers named outer/inner);
  * a TF.js model.json (format layers-model, modelTopology.model_config,
    weightsManifest).

Truth (the layout tests/unit/test_keras_oracle.c reads): input_shapes,
ok, layers (name, class_name, output_shape | error | skipped in graph
order, batch 1, each layer's own data_format), first_error, model_outputs.
Shape rules: convolution / pooling 'valid' out = floor((in - d(k-1) - 1)/s)
+ 1, 'same' out = ceil(in/s); Conv2DTranspose 'same' in*s, 'valid' in*s +
max(k - s, 0); UpSampling in*size; ZeroPadding in + a + b; Cropping in - a
- b; Flatten the product; Dense the last axis; Reshape its target (the
same element count, else reshape_mismatch); Concatenate equal shapes but
the axis, Add equal shapes (else skip_mismatch); a size <= 0 is
output_too_small.
"""
import json
import math
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "keras", "json")
SEEDS = os.path.join(ROOT, "tests", "fuzz", "corpus", "keras")


class Fail(Exception):
    def __init__(self, code):
        self.code = code


def conv_out(n, k, s, d, padding):
    if padding == "same":
        return -(-n // s)
    return (n - d * (k - 1) - 1) // s + 1


def check_dims(shape):
    if any(x <= 0 for x in shape[1:]):
        raise Fail("output_too_small")
    return shape


# ---- layer configs and their shape rules --------------------------------------------

GLOROT = {"class_name": "GlorotUniform", "config": {"seed": None}}
ZEROS = {"class_name": "Zeros", "config": {}}


class Layer:
    def __init__(self, cls, name, cfg, rule):
        self.cls, self.name, self.cfg, self.rule = cls, name, cfg, rule


def base(name, **kw):
    c = {"name": name, "trainable": True, "dtype": "float32"}
    c.update(kw)
    return c


def Conv2D(name, filters, k, s=1, padding="valid", d=1, activation="linear", cf=False):
    cfg = base(name, filters=filters, kernel_size=[k, k], strides=[s, s], padding=padding,
               data_format="channels_first" if cf else "channels_last", dilation_rate=[d, d],
               groups=1, activation=activation, use_bias=True, kernel_initializer=GLOROT,
               bias_initializer=ZEROS, kernel_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None, bias_constraint=None)

    def rule(x):
        (x,) = x
        if cf:
            return check_dims([1, filters] + [conv_out(n, k, s, d, padding) for n in x[2:]])
        return check_dims([1] + [conv_out(n, k, s, d, padding) for n in x[1:-1]] + [filters])

    return Layer("Conv2D", name, cfg, rule)


def Conv1D(name, filters, k, s=1, padding="valid"):
    cfg = base(name, filters=filters, kernel_size=[k], strides=[s], padding=padding,
               data_format="channels_last", dilation_rate=[1], groups=1, activation="relu",
               use_bias=True, kernel_initializer=GLOROT, bias_initializer=ZEROS)
    return Layer("Conv1D", name, cfg,
                 lambda x: check_dims([1, conv_out(x[0][1], k, s, 1, padding), filters]))


def SeparableConv2D(name, filters, k, s=1, padding="valid"):
    cfg = base(name, filters=filters, kernel_size=[k, k], strides=[s, s], padding=padding,
               data_format="channels_last", dilation_rate=[1, 1], depth_multiplier=1,
               activation="linear", use_bias=False)

    def rule(x):
        (x,) = x
        return check_dims([1] + [conv_out(n, k, s, 1, padding) for n in x[1:-1]] + [filters])

    return Layer("SeparableConv2D", name, cfg, rule)


def Conv2DTranspose(name, filters, k, s, padding="same"):
    cfg = base(name, filters=filters, kernel_size=[k, k], strides=[s, s], padding=padding,
               output_padding=None, data_format="channels_last", dilation_rate=[1, 1],
               activation="linear", use_bias=True, kernel_initializer=GLOROT,
               bias_initializer=ZEROS)

    def rule(x):
        (x,) = x
        f = (lambda n: n * s) if padding == "same" else (lambda n: n * s + max(k - s, 0))
        return check_dims([1] + [f(n) for n in x[1:-1]] + [filters])

    return Layer("Conv2DTranspose", name, cfg, rule)


def Pool(cls, name, p, s=None, padding="valid", nsp=2):
    s = s or p
    cfg = base(name, pool_size=[p] * nsp, padding=padding, strides=[s] * nsp,
               data_format="channels_last")

    def rule(x):
        (x,) = x
        return check_dims([1] + [conv_out(n, p, s, 1, padding) for n in x[1:-1]] + [x[-1]])

    return Layer(cls, name, cfg, rule)


def Same(cls, name, **kw):
    """Shape-preserving layers: activations, normalization, dropout."""
    return Layer(cls, name, base(name, **kw), lambda x: list(x[0]))


def UpSampling2D(name, size):
    cfg = base(name, size=[size, size], data_format="channels_last", interpolation="nearest")
    return Layer("UpSampling2D", name, cfg,
                 lambda x: [1] + [n * size for n in x[0][1:-1]] + [x[0][-1]])


def ZeroPadding2D(name, pads):
    cfg = base(name, padding=pads, data_format="channels_last")
    return Layer("ZeroPadding2D", name, cfg,
                 lambda x: [1] + [n + a + b for n, (a, b) in zip(x[0][1:-1], pads)] + [x[0][-1]])


def Cropping2D(name, crops):
    cfg = base(name, cropping=crops, data_format="channels_last")
    return Layer("Cropping2D", name, cfg,
                 lambda x: check_dims([1] + [n - a - b for n, (a, b) in zip(x[0][1:-1], crops)] +
                                      [x[0][-1]]))


def Flatten(name):
    return Layer("Flatten", name, base(name, data_format="channels_last"),
                 lambda x: [1, math.prod(x[0][1:])])


def GlobalAveragePooling(name, nsp=2):
    return Layer("GlobalAveragePooling%dD" % nsp, name,
                 base(name, data_format="channels_last", keepdims=False),
                 lambda x: [1, x[0][-1]])


def Dense(name, units, activation="linear"):
    cfg = base(name, units=units, activation=activation, use_bias=True,
               kernel_initializer=GLOROT, bias_initializer=ZEROS)
    return Layer("Dense", name, cfg, lambda x: list(x[0][:-1]) + [units])


def Reshape(name, target):
    def rule(x):
        if math.prod(x[0][1:]) != math.prod(target):
            raise Fail("reshape_mismatch")
        return [1] + list(target)

    return Layer("Reshape", name, base(name, target_shape=list(target)), rule)


def Concatenate(name, axis=-1):
    def rule(xs):
        r = len(xs[0])
        ax = axis % r
        for x in xs[1:]:
            if len(x) != r or any(x[i] != xs[0][i] for i in range(r) if i != ax):
                raise Fail("skip_mismatch")
        out = list(xs[0])
        out[ax] = sum(x[ax] for x in xs)
        return out

    return Layer("Concatenate", name, base(name, axis=axis), rule)


def Add(name):
    def rule(xs):
        if any(x != xs[0] for x in xs):
            raise Fail("skip_mismatch")
        return list(xs[0])

    return Layer("Add", name, base(name), rule)


# ---- models -------------------------------------------------------------------------


class Model:
    """Layers called in order on named inputs; shapes and errors recorded
    as Keras would meet them."""

    def __init__(self, inputs):
        self.inputs = inputs  # name -> shape (batch 1)
        self.shapes = dict(inputs)
        self.calls = []  # (layer, [input names])
        self.records = [{"name": n, "class_name": "InputLayer", "output_shape": s}
                        for n, s in inputs.items()]
        self.first_error = None

    def __call__(self, layer, *ins):
        self.calls.append((layer, list(ins)))
        rec = {"name": layer.name, "class_name": layer.cls}
        if self.first_error is not None:
            rec["skipped"] = "upstream error in " + self.first_error["name"]
            self.shapes[layer.name] = None
        else:
            try:
                out = layer.rule([self.shapes[i] for i in ins])
                rec["output_shape"] = out
                self.shapes[layer.name] = out
            except Fail as e:
                rec["error"] = e.code
                self.shapes[layer.name] = None
                self.first_error = {"name": layer.name, "class_name": layer.cls,
                                    "error": e.code}
        self.records.append(rec)
        return layer.name

    def truth(self, outputs, input_records=True):
        recs = self.records if input_records else self.records[len(self.inputs):]
        t = {"input_shapes": self.inputs, "ok": self.first_error is None, "layers": recs,
             "model_outputs": [self.shapes.get(o) for o in outputs],
             "generator": "tests/keras/gen_json.py (Keras's shape formulas, see its docstring)"}
        if self.first_error:
            t["first_error"] = self.first_error
        return t


def seq(m, x, layers):
    for L in layers:
        x = m(L, x)
    return x


def k2_sequential(name, input_shape, layers, input_name="input_1"):
    """tf.keras 2.4+: an InputLayer first, config {name, layers}."""
    m = Model({input_name: [1] + input_shape})
    out = seq(m, input_name, layers)
    cfg = [{"class_name": "InputLayer",
            "config": {"batch_input_shape": [None] + input_shape, "dtype": "float32",
                       "sparse": False, "ragged": False, "name": input_name}}]
    cfg += [{"class_name": L.cls, "config": L.cfg} for L in layers]
    j = {"class_name": "Sequential", "config": {"name": name, "layers": cfg},
         "keras_version": "2.4.0", "backend": "tensorflow"}
    t = m.truth([out], input_records=False)
    t["layers"].insert(0, {"name": input_name, "class_name": "InputLayer",
                           "output_shape": [1] + input_shape})
    return j, t


def k20_sequential(input_shape, layers):
    """Keras 2.0: config is the bare list, batch_input_shape on the first layer;
    the implicit input is named after the model (convkit: 'input')."""
    m = Model({"input": [1] + input_shape})
    out = seq(m, "input", layers)
    cfg = []
    for i, L in enumerate(layers):
        c = dict(L.cfg)
        if i == 0:
            c["batch_input_shape"] = [None] + input_shape
        cfg.append({"class_name": L.cls, "config": c})
    j = {"class_name": "Sequential", "config": cfg, "keras_version": "2.0.8",
         "backend": "tensorflow"}
    t = m.truth([out])
    t["layers"][0]["class_name"] = "InputLayer(implicit)"
    return j, t


def k2_functional(name, m, outputs, cls="Model"):
    layers = [{"name": n, "class_name": "InputLayer",
               "config": {"batch_input_shape": [None] + [d or None for d in s[1:]],
                          "dtype": "float32",
                          "sparse": False, "name": n}, "inbound_nodes": []}
              for n, s in m.inputs.items()]
    for L, ins in m.calls:
        layers.append({"name": L.name, "class_name": L.cls, "config": L.cfg,
                       "inbound_nodes": [[[i, 0, 0, {}] for i in ins]]})
    j = {"class_name": cls,
         "config": {"name": name, "layers": layers,
                    "input_layers": [[n, 0, 0] for n in m.inputs],
                    "output_layers": [[o, 0, 0] for o in outputs]},
         "keras_version": "2.4.0", "backend": "tensorflow"}
    return j, m.truth(outputs)


def unet(input_hw, name="unet"):
    """A pooling stem without a skip, three levels joined by concatenation,
    an upsampling head: valid where in/2 is a multiple of 8."""
    m = Model({"input_1": [1] + input_hw + [3]})
    x = m(Conv2D("conv2d", 8, 3, padding="same", activation="relu"), "input_1")
    x = m(Pool("MaxPooling2D", "max_pooling2d", 2), x)
    skips = []
    ci, pi = 1, 1
    for f in (16, 32, 64):
        x = m(Conv2D("conv2d_%d" % ci, f, 3, padding="same", activation="relu"), x)
        ci += 1
        skips.append(x)
        x = m(Pool("MaxPooling2D", "max_pooling2d_%d" % pi, 2), x)
        pi += 1
    x = m(Conv2D("conv2d_%d" % ci, 128, 3, padding="same", activation="relu"), x)
    ci += 1
    for t, f in enumerate((64, 32, 16)):
        up = m(Conv2DTranspose("conv2d_transpose" + ("_%d" % t if t else ""), f, 2, 2), x)
        x = m(Concatenate("concatenate" + ("_%d" % t if t else "")), up, skips.pop())
        x = m(Conv2D("conv2d_%d" % ci, f, 3, padding="same", activation="relu"), x)
        ci += 1
    x = m(UpSampling2D("up_sampling2d", 2), x)
    x = m(Conv2D("conv2d_%d" % ci, 1, 1, activation="sigmoid"), x)
    return k2_functional(name, m, [x])


def cnn_layers():
    return [Conv2D("conv2d_1", 32, 3), Same("Activation", "activation_1", activation="relu"),
            Pool("MaxPooling2D", "max_pooling2d_1", 2),
            Conv2D("conv2d_2", 32, 3), Same("Activation", "activation_2", activation="relu"),
            Pool("MaxPooling2D", "max_pooling2d_2", 2),
            Conv2D("conv2d_3", 64, 3), Same("Activation", "activation_3", activation="relu"),
            Pool("MaxPooling2D", "max_pooling2d_3", 2),
            Flatten("flatten_1"), Dense("dense_1", 64),
            Same("Activation", "activation_4", activation="relu"),
            Same("Dropout", "dropout_1", rate=0.5), Dense("dense_2", 1),
            Same("Activation", "activation_5", activation="sigmoid")]


def xception_like():
    """Undeclared spatial size (None), separable convolutions, a residual add."""
    m = Model({"input_1": [1, 0, 0, 3]})
    x = m(Conv2D("block1_conv1", 16, 3, s=2), "input_1")
    x = m(Same("BatchNormalization", "block1_conv1_bn", axis=-1, momentum=0.99, epsilon=0.001,
               center=True, scale=True), x)
    x = m(Same("Activation", "block1_conv1_act", activation="relu"), x)
    r = m(Conv2D("conv2d", 32, 1, s=2, padding="same"), x)
    y = m(SeparableConv2D("block2_sepconv1", 32, 3, padding="same"), x)
    y = m(Same("BatchNormalization", "block2_sepconv1_bn", axis=-1, momentum=0.99,
               epsilon=0.001, center=True, scale=True), y)
    y = m(Pool("MaxPooling2D", "block2_pool", 3, 2, padding="same"), y)
    a = m(Add("add"), y, r)
    g = m(GlobalAveragePooling("avg_pool"), a)
    out = m(Dense("predictions", 4, activation="softmax"), g)
    j, _ = k2_functional("xception_like", m, [out])
    # truth at 71x71 (the model declares no size)
    m2 = Model({"input_1": [1, 71, 71, 3]})
    for L, ins in m.calls:
        m2(L, *ins)
    t = m2.truth([out])
    t["input_note"] = "the model declares no spatial size; checked at 71x71"
    return j, t


def keras1_th():
    """Keras 1, Theano ordering: channels first."""
    m = Model({"input": [1, 1, 28, 28]})
    layers = []

    def conv(name, f, k, mode):
        cfg = {"name": name, "nb_filter": f, "nb_row": k, "nb_col": k, "init": "glorot_uniform",
               "activation": "linear", "border_mode": mode, "subsample": [1, 1],
               "dim_ordering": "th", "bias": True, "trainable": True}
        return Layer("Convolution2D", name, cfg,
                     lambda x: check_dims([1, f] + [conv_out(n, k, 1, 1, mode)
                                                    for n in x[0][2:]]))

    def pool(name):
        cfg = {"name": name, "pool_size": [2, 2], "strides": [2, 2], "border_mode": "valid",
               "dim_ordering": "th", "trainable": True}
        return Layer("MaxPooling2D", name, cfg,
                     lambda x: check_dims([1, x[0][1]] + [(n - 2) // 2 + 1 for n in x[0][2:]]))

    layers = [conv("convolution2d_1", 8, 3, "valid"),
              Layer("Activation", "activation_1", {"name": "activation_1", "activation": "relu",
                                                   "trainable": True}, lambda x: list(x[0])),
              conv("convolution2d_2", 8, 3, "same"), pool("maxpooling2d_1"),
              Layer("Dropout", "dropout_1", {"name": "dropout_1", "p": 0.25, "trainable": True},
                    lambda x: list(x[0])),
              Layer("Flatten", "flatten_1", {"name": "flatten_1", "trainable": True},
                    lambda x: [1, math.prod(x[0][1:])]),
              Layer("Dense", "dense_1", {"name": "dense_1", "output_dim": 10,
                                         "init": "glorot_uniform", "activation": "softmax",
                                         "bias": True, "input_dim": None, "trainable": True},
                    lambda x: [1, 10])]
    out = seq(m, "input", layers)
    cfg = []
    for i, L in enumerate(layers):
        c = dict(L.cfg)
        if i == 0:
            c["batch_input_shape"] = [None, 1, 28, 28]
            c["input_dtype"] = "float32"
        cfg.append({"class_name": L.cls, "config": c})
    j = {"class_name": "Sequential", "config": cfg, "keras_version": "1.2.2", "backend": "theano"}
    t = m.truth([out])
    t["layers"][0]["class_name"] = "InputLayer(implicit)"
    return j, t


def keras3_nested():
    """Keras 3: a functional model calling a Sequential feature extractor,
    then a Cropping2D / ZeroPadding2D pair and a 1-D head."""
    def k3(L, args):
        c = dict(L.cfg)
        c["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": "float32"}, "registered_name": None}
        return {"module": "keras.layers", "class_name": L.cls, "config": c,
                "registered_name": None, "name": L.name,
                "inbound_nodes": [{"args": args, "kwargs": {}}] if args is not None else []}

    def kt(name, shape, node=0):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None] + shape[1:], "dtype": "float32",
                           "keras_history": [name, node, 0]}}

    m = Model({"input_layer": [1, 32, 32, 3]})
    inner = [Conv2D("conv2d", 8, 3, padding="same", activation="relu"),
             Pool("MaxPooling2D", "max_pooling2d", 2),
             Conv2D("conv2d_1", 16, 3, activation="relu")]
    x = "input_layer"
    for L in inner:
        x = m(Layer(L.cls, "features/" + L.name, L.cfg, L.rule), x)
    feat_shape = m.shapes[x]
    m.records.append({"name": "features", "class_name": "Sequential",
                      "output_shape": feat_shape})
    m.shapes["features"] = feat_shape
    outer = [(Cropping2D("cropping2d", [[1, 1], [2, 2]]), "features"),
             (ZeroPadding2D("zero_padding2d", [[1, 1], [2, 2]]), "cropping2d"),
             (Conv2D("conv2d_2", 4, 1), "zero_padding2d"),
             (GlobalAveragePooling("global_average_pooling2d"), "conv2d_2"),
             (Dense("dense", 3), "global_average_pooling2d")]
    for L, i in outer:
        m(L, i)
    seq_layers = [{"module": "keras.layers", "class_name": "InputLayer",
                   "config": {"batch_shape": [None, 32, 32, 3], "dtype": "float32",
                              "sparse": False, "name": "input_layer_1"},
                   "registered_name": None}]
    seq_layers += [k3(L, None) for L in inner]
    for e in seq_layers[1:]:
        del e["inbound_nodes"]
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, 32, 32, 3], "dtype": "float32", "sparse": False,
                          "name": "input_layer"},
               "registered_name": None, "name": "input_layer", "inbound_nodes": []},
              {"module": "keras", "class_name": "Sequential",
               "config": {"name": "features", "trainable": True, "layers": seq_layers},
               "registered_name": None, "name": "features",
               "build_config": {"input_shape": [None, 32, 32, 3]},
               "inbound_nodes": [{"args": [kt("input_layer", [1, 32, 32, 3])],
                                  "kwargs": {"mask": None}}]}]
    for L, i in outer:
        layers.append(k3(L, [kt(i, m.shapes[i], 1 if i == "features" else 0)]))
    j = {"module": "keras.src.models.functional", "class_name": "Functional",
         "config": {"name": "functional", "trainable": True, "layers": layers,
                    "input_layers": [["input_layer", 0, 0]],
                    "output_layers": [["dense", 0, 0]]},
         "registered_name": "Functional", "build_config": {"input_shape": None},
         "compile_config": None}
    return j, m.truth(["dense"])


def tfjs():
    layers = [Conv2D("conv2d", 8, 5, s=2, activation="relu"),
              Pool("AveragePooling2D", "average_pooling2d", 2),
              Flatten("flatten"), Dense("dense", 10, activation="softmax")]
    j, t = k2_sequential("sequential", [48, 48, 1], layers, input_name="conv2d_input")
    manifest = [{"paths": ["group1-shard1of1.bin"],
                 "weights": [{"name": "conv2d/kernel", "shape": [5, 5, 1, 8], "dtype": "float32"},
                             {"name": "conv2d/bias", "shape": [8], "dtype": "float32"},
                             {"name": "dense/kernel", "shape": [968, 10], "dtype": "float32"},
                             {"name": "dense/bias", "shape": [10], "dtype": "float32"}]}]
    j = {"format": "layers-model", "generatedBy": "keras v2.4.0",
         "convertedBy": "TensorFlow.js Converter v2.8.0",
         "modelTopology": {"keras_version": "2.4.0", "backend": "tensorflow", "model_config": j},
         "weightsManifest": manifest}
    return j, t


def conv1d():
    layers = [Conv1D("conv1d", 8, 5, s=2), Pool("MaxPooling1D", "max_pooling1d", 2, nsp=1),
              Conv1D("conv1d_1", 16, 3), GlobalAveragePooling("global_average_pooling1d", 1),
              Dense("dense", 1, activation="sigmoid")]
    return k2_sequential("sequential", [100, 2], layers)


def generator_broken():
    """A DCGAN-style generator whose Reshape asks for twice the Dense's units."""
    layers = [Dense("dense", 7 * 7 * 128), Same("BatchNormalization", "batch_normalization",
                                               axis=-1, momentum=0.99, epsilon=0.001),
              Same("LeakyReLU", "leaky_re_lu", alpha=0.2), Reshape("reshape", [7, 7, 256]),
              Conv2DTranspose("conv2d_transpose", 64, 5, 2),
              Conv2DTranspose("conv2d_transpose_1", 1, 5, 2)]
    return k2_sequential("generator", [100], layers)


def cropping_unet():
    """Keras 2 functional, 'valid' convolutions and Cropping2D on the skip."""
    m = Model({"input_1": [1, 44, 44, 1]})
    a = m(Conv2D("conv2d", 8, 3, activation="relu"), "input_1")
    p = m(Pool("MaxPooling2D", "max_pooling2d", 2), a)
    b = m(Conv2D("conv2d_1", 16, 3, activation="relu"), p)
    u = m(UpSampling2D("up_sampling2d", 2), b)
    c = m(Cropping2D("cropping2d", [[2, 2], [2, 2]]), a)
    x = m(Concatenate("concatenate"), u, c)
    x = m(Conv2D("conv2d_2", 1, 1), x)
    return k2_functional("model", m, [x], cls="Functional")


MODELS = {
    "k2_seq_cnn": lambda: k2_sequential(
        "sequential", [28, 28, 1],
        [Conv2D("conv2d", 16, 3, activation="relu"), Pool("MaxPooling2D", "max_pooling2d", 2),
         Conv2D("conv2d_1", 32, 3, activation="relu"),
         Pool("MaxPooling2D", "max_pooling2d_1", 2), Flatten("flatten"),
         Same("Dropout", "dropout", rate=0.5), Dense("dense", 10, activation="softmax")]),
    "k20_seq_cnn": lambda: k20_sequential([150, 150, 3], cnn_layers()),
    "k20_seq_cnn_too_small": lambda: k20_sequential([12, 12, 3], cnn_layers()),
    "k2_unet": lambda: unet([64, 64]),
    "k2_unet_broken": lambda: unet([32, 40]),
    "k2_xception_like": xception_like,
    "k1_th_seq": keras1_th,
    "k3_nested": keras3_nested,
    "tfjs_seq": tfjs,
    "k2_conv1d": conv1d,
    "k2_generator_broken": generator_broken,
    "k2_cropping_unet": cropping_unet,
}


def dump(path, obj, indent=None):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(SEEDS, exist_ok=True)
    for name, fn in MODELS.items():
        j, t = fn()
        t["model"] = name + ".json"
        dump(os.path.join(OUT, name + ".json"), j)
        dump(os.path.join(OUT, name + ".truth.json"), t, indent=1)
    # fuzz seeds: the small ones, minified
    for name in ("k2_seq_cnn", "k20_seq_cnn_too_small", "k1_th_seq", "k3_nested", "tfjs_seq",
                 "k2_conv1d", "k2_generator_broken", "k2_cropping_unet", "k2_xception_like"):
        j, _ = MODELS[name]()
        with open(os.path.join(SEEDS, "own_" + name + ".json"), "w") as f:
            json.dump(j, f, separators=(",", ":"))
    # the model_config of an HDF5 file as a JSON string, and SavedModel's
    # TensorShape / __tuple__ wrappers
    j, _ = MODELS["k2_seq_cnn"]()
    with open(os.path.join(SEEDS, "own_model_config_string.json"), "w") as f:
        json.dump({"model_config": json.dumps(j)}, f)
    sm = json.loads(json.dumps(j))
    first = sm["config"]["layers"][0]["config"]
    first["batch_input_shape"] = {"class_name": "TensorShape", "items": [None, 28, 28, 1]}
    sm["config"]["layers"][1]["config"]["kernel_size"] = {"class_name": "__tuple__",
                                                          "items": [3, 3]}
    with open(os.path.join(SEEDS, "own_savedmodel_wrappers.json"), "w") as f:
        json.dump(sm, f)


if __name__ == "__main__":
    sys.exit(main())

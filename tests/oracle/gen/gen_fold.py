"""Oracle corpus for the ops of shape arithmetic and detection heads (issue
16): Expand, Tile, Where, ScatterND, Range, the comparisons and logic ops,
Pow, Mod, the elementwise math ops, Mish, Celu, ThresholdedRelu, Size and
LayerNormalization, as one-node ONNX models (opset 16, ScatterND's
reduction needs it) built with python3-onnx.

Each case is run twice by tests/unit/test_oracle_fold.c:
  - "fold": every input is an initializer, so convkit's constant evaluator
    must compute the output when the model is checked (integers exactly,
    floats as float32; float initializers of more than 64 values are
    weights, which checking never reads, and ops that read weights are not
    folded), and a run must give the same values;
  - "run": the data inputs are graph inputs, given at run time.
The answers are PyTorch 1.13's (torch.where, torch.eq, torch.tile, a
broadcast add for ONNX's two-way Expand, torch.arange, F.mish, ...) and,
for ScatterND, numpy following the operator definition; where PyTorch
raises, the row holds the convkit code that names the error. Bool outputs
of "run" cases are cast to float (convkit computes float32 data).

    nice -n 19 /usr/bin/python3 tests/oracle/gen/gen_fold.py
"""
import base64
import json
import os
import random

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from common import oracle_root, versions

OUT = "fold"
R = random.Random(20240616)
OPSET = 16
NP_OF = {TensorProto.FLOAT: np.float32, TensorProto.INT64: np.int64, TensorProto.BOOL: np.bool_}


def model_b64(op, attrs, inputs, out_type, const, cast_out):
    """A one-node model; inputs: [(name, onnx type, numpy value)]."""
    gin, inits = [], []
    for name, t, v in inputs:
        if const or t != TensorProto.FLOAT:
            inits.append(numpy_helper.from_array(np.asarray(v, dtype=NP_OF[t]), name))
        else:
            gin.append(helper.make_tensor_value_info(name, t, list(np.shape(v))))
    nodes = [helper.make_node(op, [n for n, _, _ in inputs], ["Y0" if cast_out else "Y"],
                              **attrs)]
    if cast_out:
        nodes.append(helper.make_node("Cast", ["Y0"], ["Y"], to=TensorProto.FLOAT))
        out_type = TensorProto.FLOAT
    g = helper.make_graph(nodes, "fold", gin, [helper.make_tensor_value_info("Y", out_type, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = 8
    return base64.b64encode(m.SerializeToString()).decode()


def flat(a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        a = a.astype(np.int64)
    return [int(v) for v in a.reshape(-1)] if a.dtype.kind in "iu" else \
        [float(v) for v in a.astype(np.float32).reshape(-1)]


def case(rows, op, attrs, inputs, out_type, fn, oracle="pytorch", err_code=None,
         fold_only=False):
    """inputs: [(name, onnx type, numpy value)]; fn(*numpy inputs) -> numpy or raises."""
    try:
        y = np.asarray(fn(*[v for _, _, v in inputs]))
        answer = {"shape": list(y.shape), "values": flat(y)}
    except Exception as e:  # noqa: BLE001 - the framework's refusal is the answer
        answer = {"error": err_code, "message": str(e).splitlines()[0][:200]}
    for kind in ("fold", "run"):
        has_data = any(t == TensorProto.FLOAT for _, t, _ in inputs)
        if kind == "run" and (not has_data or fold_only):
            continue
        cast = kind == "run" and out_type != TensorProto.FLOAT
        rows.append({"op": op, "kind": kind, "oracle": oracle, "attributes": attrs,
                     "inputs": [{"name": n, "type": int(t), "shape": list(np.shape(v)),
                                 "values": flat(v)} for n, t, v in inputs],
                     "model": model_b64(op, attrs, inputs, out_type, kind == "fold", cast),
                     **answer})


def T(f):
    return lambda *a: f(*[torch.from_numpy(np.asarray(x)) for x in a]).numpy()


def rnd(shape, lo=-3, hi=3, ints=False):
    if ints:
        return np.array([R.randint(lo, hi) for _ in range(int(np.prod(shape)))],
                        dtype=np.int64).reshape(shape)
    return np.array([R.uniform(lo, hi) for _ in range(int(np.prod(shape)))],
                    dtype=np.float32).reshape(shape)


def shapes_pair():
    base = [R.randint(1, 4) for _ in range(R.randint(1, 4))]
    other = [d if R.random() < 0.6 else (1 if R.random() < 0.7 else R.randint(1, 4))
             for d in base]
    other = other[R.randint(0, len(other) - 1):]
    return (base, other) if R.random() < 0.5 else (other, base)


def gen():
    rows = []
    F_, I_, B_ = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
    # Expand: ONNX broadcasts both ways (x + zeros(shape))
    for _ in range(24):
        a, b = shapes_pair()
        x = rnd(a)
        case(rows, "Expand", {}, [("x", F_, x), ("s", I_, np.array(b, np.int64))], F_,
             lambda x, s: (torch.from_numpy(x) + torch.zeros(*[int(d) for d in s])).numpy(),
             err_code="reshape_mismatch")
    # Tile
    for _ in range(16):
        shp = [R.randint(1, 3) for _ in range(R.randint(1, 4))]
        reps = [R.randint(0 if R.random() < 0.1 else 1, 3) for _ in shp]
        case(rows, "Tile", {}, [("x", F_, rnd(shp)), ("r", I_, np.array(reps, np.int64))], F_,
             lambda x, r: torch.tile(torch.from_numpy(x), tuple(int(v) for v in r)).numpy())
    case(rows, "Tile", {}, [("x", F_, rnd([2, 3])), ("r", I_, np.array([2], np.int64))], F_,
         lambda x, r: (_ for _ in ()).throw(ValueError("repeats must have one entry per axis")),
         oracle="onnx-definition", err_code="rank_mismatch")
    # Where (float, and integer values as shape arithmetic does)
    for _ in range(16):
        a, b = shapes_pair()
        c = rnd(a) > 0
        ints = R.random() < 0.4
        t = I_ if ints else F_
        case(rows, "Where", {}, [("c", B_, c), ("x", t, rnd(b, ints=ints)),
                                 ("y", t, rnd(a, ints=ints))], t,
             T(torch.where), err_code="skip_mismatch")
    # comparisons and logic
    cmps = {"Equal": torch.eq, "Less": torch.lt, "LessOrEqual": torch.le, "Greater": torch.gt,
            "GreaterOrEqual": torch.ge}
    for op, f in cmps.items():
        for _ in range(5):
            a, b = shapes_pair()
            ints = R.random() < 0.5
            t = I_ if ints else F_
            x, y = rnd(a, -2, 2, ints), rnd(b, -2, 2, ints)
            if not ints:
                x, y = np.round(x), np.round(y)
            case(rows, op, {}, [("a", t, x), ("b", t, y)], B_, T(f), err_code="skip_mismatch")
    for op, f in {"And": torch.logical_and, "Or": torch.logical_or,
                  "Xor": torch.logical_xor}.items():
        for _ in range(3):
            a, b = shapes_pair()
            case(rows, op, {}, [("a", B_, rnd(a) > 0), ("b", B_, rnd(b) > 0)], B_, T(f),
                 err_code="skip_mismatch")
    case(rows, "Not", {}, [("a", B_, rnd([2, 3]) > 0)], B_, T(torch.logical_not))
    # Pow, Mod
    for _ in range(6):
        a, b = shapes_pair()
        case(rows, "Pow", {}, [("a", F_, rnd(a, 0.5, 3)), ("b", F_, rnd(b, -2, 2))], F_,
             T(torch.pow), err_code="skip_mismatch")
    case(rows, "Pow", {}, [("a", I_, rnd([4], -3, 3, True)), ("b", I_, np.array([0, 1, 2, 3]))],
         I_, T(torch.pow))
    for fmod in (0, 1):
        for ints in (True, False):
            if not ints and fmod == 0:
                continue  # ONNX: fmod=0 is for integers
            a = rnd([3, 4], -9, 9, ints)
            b = rnd([4], 1, 4, ints) * np.array([1, -1, 1, -1], dtype=a.dtype)
            t = I_ if ints else F_
            case(rows, "Mod", {"fmod": fmod}, [("a", t, a), ("b", t, b)], t,
                 T(torch.fmod if fmod else torch.remainder))
    # Range
    for start, limit, delta in ((0, 10, 3), (5, -2, -2), (3, 3, 1), (1.5, 4.0, 0.5),
                                (10, 2, 1), (-4, 4, 2)):
        ints = all(isinstance(v, int) for v in (start, limit, delta))
        t = I_ if ints else F_
        dt = np.int64 if ints else np.float32
        # ONNX Range is numpy's arange (PyTorch's refuses an empty range); its
        # output size comes from its inputs, so it is only folded, never run
        case(rows, "Range", {}, [("s", t, np.array(start, dt)), ("l", t, np.array(limit, dt)),
                                 ("d", t, np.array(delta, dt))], t,
             lambda s, l, d: np.arange(s, l, d).astype(s.dtype), oracle="numpy-onnx-definition",
             fold_only=True)
    # ScatterND: the operator definition
    def scatter(data, idx, upd, reduction="none"):
        out = np.copy(data)
        for i in np.ndindex(idx.shape[:-1]):
            at = tuple(idx[i])
            for q, v in enumerate(at):
                if not -data.shape[q] <= v < data.shape[q]:
                    raise IndexError("index %d out of range" % v)
            if reduction == "add":
                out[at] += upd[i]
            elif reduction == "mul":
                out[at] *= upd[i]
            else:
                out[at] = upd[i]
        return out
    for reduction in ("none", "add", "mul"):
        for q, idx in ((1, [[0], [2]]), (2, [[0, 1], [1, 3]]), (3, [[1, 2, 0], [0, 0, 2]])):
            data = rnd([2, 4, 3])
            idx = np.array(idx, np.int64)
            upd = rnd(list(idx.shape[:-1]) + [2, 4, 3][q:])
            attrs = {} if reduction == "none" else {"reduction": reduction}
            case(rows, "ScatterND", attrs, [("d", F_, data), ("i", I_, idx), ("u", F_, upd)], F_,
                 lambda d, i, u, r=reduction: scatter(d, i, u, r), oracle="onnx-definition")
    case(rows, "ScatterND", {}, [("d", F_, rnd([2, 3])), ("i", I_, np.array([[5]], np.int64)),
                                 ("u", F_, rnd([1, 3]))], F_, scatter, oracle="onnx-definition",
         err_code="invalid_config")
    # elementwise math
    math = {"Neg": torch.neg, "Abs": torch.abs, "Sqrt": torch.sqrt, "Reciprocal": torch.reciprocal,
            "Floor": torch.floor, "Ceil": torch.ceil, "Round": torch.round, "Sign": torch.sign,
            "Log": torch.log, "Erf": torch.erf, "Sin": torch.sin, "Cos": torch.cos,
            "Exp": torch.exp, "Mish": F.mish, "Softplus": F.softplus}
    for op, f in math.items():
        lo = 0.1 if op in ("Sqrt", "Log") else -3
        x = rnd([2, 5], lo, 3)
        if op == "Round":
            x = np.concatenate([x, np.array([[0.5, 1.5, 2.5, -0.5, -2.5]], np.float32)])
        case(rows, op, {}, [("x", F_, x)], F_, T(f))
    case(rows, "Celu", {"alpha": 2.0}, [("x", F_, rnd([3, 4]))], F_,
         T(lambda x: F.celu(x, 2.0)))
    case(rows, "ThresholdedRelu", {"alpha": 0.5}, [("x", F_, rnd([3, 4]))], F_,
         T(lambda x: torch.where(x > 0.5, x, torch.zeros_like(x))))
    case(rows, "Size", {}, [("x", F_, rnd([2, 3, 4]))], I_, lambda x: np.array(x.size))
    # LayerNormalization (PyTorch's LayerNorm at opset 17: Scale has the normalized shape)
    for shp, k in (([2, 3, 4], 1), ([2, 3, 4, 5], 2), ([4, 6], 1)):
        x, w, b = rnd(shp), rnd(shp[-k:]), rnd(shp[-k:])
        case(rows, "LayerNormalization", {"axis": -k, "epsilon": 1e-5},
             [("x", F_, x), ("w", F_, w), ("b", F_, b)], F_,
             T(lambda x, w, b, k=k: F.layer_norm(x, x.shape[-k:], w, b, 1e-5)))
    return rows


def main():
    os.chdir(oracle_root())
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    rows = gen()
    with open(os.path.join(OUT, "cases.jsonl"), "w") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps({"id": "F%04d" % i, **r}) + "\n")
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump({"cases": len(rows), "opset": OPSET, "versions": versions(),
                   "ops": sorted({r["op"] for r in rows})}, f, indent=1)
        f.write("\n")
    print(len(rows), "cases")


if __name__ == "__main__":
    assert onnx.__version__
    main()

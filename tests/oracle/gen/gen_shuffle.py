"""Oracle corpus for the ops that move data between channels and pixels.

PyTorch (a real forward pass): nn.PixelShuffle, nn.PixelUnshuffle and
nn.ChannelShuffle over a grid of factors and input shapes (ranks 1 to 5,
channel counts and sizes that divide and that do not, empty axes): the
output shape or the error PyTorch raised. ONNX (onnx.shape_inference,
strict, opset 13): DepthToSpace in both modes (DCR, CRD) and SpaceToDepth
over a grid; where onnx 1.12 does not check what the operator definition
requires (divisibility, the mode), the row says so and gives the answer
the definition implies (`spec_result`). Forward-pass values for a few
cases of each: PyTorch's own output, and for ONNX the reshape and transpose
the operator definition states, cross-checked with PyTorch where the two
coincide (mode CRD is pixel_shuffle). Writes shuffle/layers.jsonl and
shuffle/numerics.jsonl under tests/oracle/.

    nice -n 19 /usr/bin/python3 tests/oracle/gen/gen_shuffle.py
"""
import collections
import json
import os
import random
import re

import numpy as np
import torch
import torch.nn as nn

from common import classify, onnx_infer, oracle_root, versions

OUT = "shuffle"
R = random.Random(20240611)

# The error classes of these ops' messages (tried before common.py's table,
# which reads "must be divisible by groups" as a constructor error; here it
# is the input's channel count that does not split).
SHUFFLE_CLASSES = [
    ("rank_mismatch", [r"expects input to have at least 3 dimensions",
                       r"expects input with > 2 dims",
                       r"Input tensor must be 4-dimensional"]),
    ("invalid_config", [r"expects a positive (upscale|downscale)_factor",
                        r"Number of groups to divide channels in must be positive",
                        r"Blocksize must be positive"]),
    ("channel_mismatch", [r"'channel' dimension to be divisible by the square",
                          r"Number of channels must be divisible by groups"]),
    ("reshape_mismatch", [r"expects (height|width) to be divisible by downscale_factor"]),
]


def shuffle_class(message):
    for cls, pats in SHUFFLE_CLASSES:
        if any(re.search(p, message) for p in pats):
            return cls
    return classify(message)


def error_fields(exc, stage):
    msg = str(exc).strip()[:2000]
    return {"error": shuffle_class(msg), "exception": type(exc).__name__, "message": msg,
            "stage": stage}


# ---- PyTorch -----------------------------------------------------------------------------

def torch_row(op, arg_name, arg, in_shape):
    rec = collections.OrderedDict()
    rec["op"] = op
    rec["framework"] = "pytorch"
    rec["oracle"] = "pytorch-forward"
    rec["attributes"] = {arg_name: arg}
    rec["code"] = "nn.%s(%s=%d)" % (op, arg_name, arg)
    rec["input_shape"] = list(in_shape)
    m = getattr(nn, op)(arg)
    try:
        with torch.no_grad():
            y = m(torch.randn(*in_shape))
        rec["output_shape"] = [int(d) for d in y.shape]
    except Exception as e:
        rec.update(error_fields(e, "forward"))
    return rec


def small(lo=0, hi=7):
    return R.randint(lo, hi)


def gen_torch():
    rows = []
    for op, arg_name in (("PixelShuffle", "upscale_factor"), ("PixelUnshuffle", "downscale_factor")):
        for _ in range(90):
            r = R.choice([1, 2, 2, 3, 3, 4])
            rank = R.choice([2, 3, 4, 4, 4, 5])
            if op == "PixelShuffle":
                c = R.choice([r * r * small(0, 4), r * r * small(1, 4) + small(1, 3)])
                h, w = small(0, 6), small(1, 6)
            else:
                c = small(1, 5)
                h = R.choice([r * small(0, 4), r * small(1, 4) + small(1, 2)])
                w = R.choice([r * small(1, 4), r * small(1, 4) + small(1, 2)])
            shape = ([small(1, 3) for _ in range(rank - 3)] + [c, h, w])[-rank:]
            rows.append(torch_row(op, arg_name, r, shape))
        for r in (0, -1):
            rows.append(torch_row(op, arg_name, r, [1, 4, 4, 4]))
    for _ in range(90):
        g = R.choice([1, 2, 2, 3, 4, 8])
        rank = R.choice([1, 2, 3, 4, 4, 5])
        c = R.choice([g * small(0, 4), g * small(1, 3) + small(1, 2)])
        shape = ([small(0, 2) if R.random() < 0.1 else small(1, 2)] + [c] +
                 [small(1, 5) for _ in range(rank - 2)])[:rank]
        if rank == 1:
            shape = [c]
        rows.append(torch_row("ChannelShuffle", "groups", g, shape))
    for g in (0, -2):
        rows.append(torch_row("ChannelShuffle", "groups", g, [1, 4, 3, 3]))
    return rows


# ---- ONNX --------------------------------------------------------------------------------

def onnx_row(op, attrs, in_shape):
    rec = collections.OrderedDict()
    rec["op"] = op
    rec["framework"] = "onnx"
    rec["oracle"] = "onnx-shape-inference"
    rec["opset"] = 13
    rec["attributes"] = attrs
    rec["input_shape"] = list(in_shape)
    res = onnx_infer(op, in_shape, attrs)
    if "error" in res:
        res["error"] = shuffle_class(res["message"])
    rec.update(res)
    # what the operator definition requires and onnx 1.12 does not check
    bs = attrs.get("blocksize", 0)
    tags, spec = [], None
    if "output_shape" in res and len(in_shape) == 4 and bs > 0:
        n, c, h, w = in_shape
        if op == "DepthToSpace" and attrs.get("mode", "DCR") not in ("DCR", "CRD"):
            tags.append("mode_not_checked")
            spec = {"error": "invalid_config"}
        elif op == "DepthToSpace" and c % (bs * bs):
            tags.append("divisibility_not_checked")
            spec = {"error": "channel_mismatch"}
        elif op == "SpaceToDepth" and (h % bs or w % bs):
            tags.append("divisibility_not_checked")
            spec = {"error": "reshape_mismatch"}
    if tags:
        rec["onnx_spec_deviation"] = tags
        rec["spec_result"] = spec
    return rec


def gen_onnx():
    rows = []
    for _ in range(70):
        bs = R.choice([1, 2, 2, 3])
        mode = R.choice([None, "DCR", "CRD", "CRD"])
        rank = R.choice([3, 4, 4, 4, 4, 5])
        c = R.choice([bs * bs * small(0, 3), bs * bs * small(1, 3) + small(1, 3)])
        shape = [small(1, 2), c, small(0, 5), small(1, 5), 2][:rank] if rank != 3 else [c, 3, 3]
        attrs = {"blocksize": bs}
        if mode:
            attrs["mode"] = mode
        rows.append(onnx_row("DepthToSpace", attrs, shape))
    for _ in range(50):
        bs = R.choice([1, 2, 2, 3])
        rank = R.choice([3, 4, 4, 4, 4, 5])
        h = R.choice([bs * small(0, 3), bs * small(1, 3) + small(1, 2)])
        w = R.choice([bs * small(1, 3), bs * small(1, 3) + small(1, 2)])
        shape = [small(1, 2), small(1, 4), h, w, 2][:rank] if rank != 3 else [3, h, w]
        rows.append(onnx_row("SpaceToDepth", {"blocksize": bs}, shape))
    for bs in (0, -1):
        rows.append(onnx_row("DepthToSpace", {"blocksize": bs}, [1, 4, 2, 2]))
        rows.append(onnx_row("SpaceToDepth", {"blocksize": bs}, [1, 4, 2, 2]))
    rows.append(onnx_row("DepthToSpace", {}, [1, 4, 2, 2]))  # blocksize is required
    rows.append(onnx_row("DepthToSpace", {"blocksize": 2, "mode": "RCD"}, [1, 8, 2, 2]))
    return rows


# ---- forward-pass values ----------------------------------------------------------------

def depth_to_space(x, bs, mode):
    """The ONNX operator definition (onnx/defs/tensor/defs.cc, DepthToSpace)."""
    b, c, h, w = x.shape
    if mode == "DCR":
        tmp = np.reshape(x, [b, bs, bs, c // (bs ** 2), h, w])
        tmp = np.transpose(tmp, [0, 3, 4, 1, 5, 2])
    else:
        tmp = np.reshape(x, [b, c // (bs ** 2), bs, bs, h, w])
        tmp = np.transpose(tmp, [0, 1, 4, 2, 5, 3])
    return np.reshape(tmp, [b, c // (bs ** 2), h * bs, w * bs])


def space_to_depth(x, bs):
    """The ONNX operator definition (SpaceToDepth)."""
    b, c, h, w = x.shape
    tmp = np.reshape(x, [b, c, h // bs, bs, w // bs, bs])
    tmp = np.transpose(tmp, [0, 3, 5, 1, 2, 4])
    return np.reshape(tmp, [b, c * bs * bs, h // bs, w // bs])


def values(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def numerics():
    rows = []
    torch_cases = [("PixelShuffle", "upscale_factor", 2, [1, 8, 3, 4]),
                   ("PixelShuffle", "upscale_factor", 3, [2, 18, 2, 2]),
                   ("PixelShuffle", "upscale_factor", 2, [8, 2, 3]),
                   ("PixelUnshuffle", "downscale_factor", 2, [1, 3, 4, 6]),
                   ("PixelUnshuffle", "downscale_factor", 3, [2, 1, 2, 6, 3]),
                   ("ChannelShuffle", "groups", 2, [1, 6, 2, 3]),
                   ("ChannelShuffle", "groups", 3, [2, 9, 5])]
    for i, (op, arg_name, arg, shape) in enumerate(torch_cases):
        torch.manual_seed(8100 + i)
        x = torch.randn(*shape)
        with torch.no_grad():
            y = getattr(nn, op)(arg)(x)
        rows.append({"name": "%s_%d_%s" % (op.lower(), arg, "x".join(map(str, shape))),
                     "framework": "pytorch", "op": op, "code": "nn.%s(%s=%d)" % (op, arg_name, arg),
                     "input_shape": shape, "input": values(x),
                     "output_shape": list(y.shape), "output": values(y)})
    onnx_cases = [("DepthToSpace", {"blocksize": 2}, [1, 8, 2, 3]),
                  ("DepthToSpace", {"blocksize": 2, "mode": "CRD"}, [1, 8, 2, 3]),
                  ("DepthToSpace", {"blocksize": 3, "mode": "DCR"}, [2, 18, 2, 1]),
                  ("SpaceToDepth", {"blocksize": 2}, [1, 3, 4, 6]),
                  ("SpaceToDepth", {"blocksize": 3}, [2, 2, 3, 6])]
    for i, (op, attrs, shape) in enumerate(onnx_cases):
        rng = np.random.default_rng(8200 + i)
        x = rng.standard_normal(shape).astype(np.float32)
        if op == "DepthToSpace":
            mode = attrs.get("mode", "DCR")
            y = depth_to_space(x, attrs["blocksize"], mode)
            if mode == "CRD":  # the definition and PyTorch agree here
                t = torch.pixel_shuffle(torch.from_numpy(x), attrs["blocksize"]).numpy()
                assert np.array_equal(t, y)
        else:
            y = space_to_depth(x, attrs["blocksize"])
        name = "%s_%s_%s" % (op.lower(), "_".join("%s%s" % kv for kv in attrs.items()),
                             "x".join(map(str, shape)))
        rows.append({"name": name, "framework": "onnx", "op": op, "attributes": attrs,
                     "input_shape": shape, "input": values(x),
                     "output_shape": list(y.shape), "output": values(y)})
    return rows


def main():
    os.chdir(oracle_root())
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    rows = gen_torch() + gen_onnx()
    ver = versions()
    with open(os.path.join(OUT, "layers.jsonl"), "w") as f:
        for i, r in enumerate(rows):
            r = collections.OrderedDict([("id", "S%04d" % i)] + list(r.items()))
            f.write(json.dumps(r) + "\n")
    with open(os.path.join(OUT, "numerics.jsonl"), "w") as f:
        for r in numerics():
            f.write(json.dumps(r) + "\n")
    counts = collections.Counter((r["framework"], r["op"], r.get("error", "ok")) for r in rows)
    with open(os.path.join(OUT, "summary.json"), "w") as f:
        json.dump({"versions": ver, "rows": len(rows),
                   "by_op_and_result": {"%s %s %s" % k: v for k, v in sorted(counts.items())},
                   "onnx_spec_deviation_rows": sum(1 for r in rows if "onnx_spec_deviation" in r)},
                  f, indent=1)
        f.write("\n")
    print("%d rows, %d numerics cases" % (len(rows), len(numerics())))


if __name__ == "__main__":
    main()

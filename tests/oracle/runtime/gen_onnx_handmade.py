#!/usr/bin/python3
"""ONNX cases PyTorch never exports, written with onnx.helper; references
computed with NumPy from the ONNX operator definitions. Adds its names to
onnx/index.json. Run: /usr/bin/python3 tests/oracle/runtime/gen_onnx_handmade.py"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
D = os.path.join(HERE, "onnx")


def gemm_alpha_beta():
    rng = np.random.default_rng(9001)
    x = rng.standard_normal((3, 5)).astype("<f4")
    b = rng.standard_normal((4, 5)).astype("<f4")  # transB=1: B is [N, K]
    c = rng.standard_normal((4,)).astype("<f4")
    alpha, beta = 0.5, 2.0
    y = (alpha * (x.astype(np.float64) @ b.T.astype(np.float64)) + beta * c).astype("<f4")
    node = helper.make_node("Gemm", ["input", "B", "C"], ["output"], alpha=alpha, beta=beta,
                            transB=1)
    g = helper.make_graph([node], "gemm_alpha_beta",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [3, 5])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [3, 4])],
                          [numpy_helper.from_array(b, "B"), numpy_helper.from_array(c, "C")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    return "gemm_alpha_beta", m, x, y


def main():
    idx_path = os.path.join(D, "index.json")
    with open(idx_path) as f:
        idx = json.load(f)
    for name, m, x, y in [gemm_alpha_beta()]:
        onnx.save(m, os.path.join(D, name + ".onnx"))
        np.save(os.path.join(D, name + ".input.npy"), x)
        np.save(os.path.join(D, name + ".output.npy"), y)
        if name not in idx["cases"]:
            idx["cases"].append(name)
    with open(idx_path, "w") as f:
        json.dump(idx, f, indent=1)


if __name__ == "__main__":
    main()

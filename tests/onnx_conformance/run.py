#!/usr/bin/python3
"""ONNX's own node conformance tests, run through convkit (issue 17).

    /usr/bin/python3 tests/onnx_conformance/run.py [--convkit build/convkit] [-v] [-k SUBSTR]

python3-onnx ships the case scripts of its node tests (onnx/backend/test/case/node);
this script has them generate their models and data (what `python3 -m
onnx.backend.test.cmd_tools generate-data` writes: model.onnx, inputs, expected
outputs) into a temporary folder that is deleted afterwards, keeps the cases of
the ops a CNN is made of, and for each:

  1. `convkit check model.onnx --json` must succeed, and the shape of the
     graph's output must be the expected output's shape;
  2. `convkit run model.onnx --input NAME=x.npy ... -o y.npy ... --json` must
     compute every output within the case's tolerance (ONNX's backend test:
     |y - expected| <= atol + rtol * |expected|, rtol 1e-3 and atol 1e-7 unless
     the case says otherwise; NaN where expected is NaN), with the shapes
     check gave.

Weights the case gives as graph inputs (Conv's W and B, BatchNormalization's
scale, bias, mean and var, ...) stay graph inputs: convkit takes their shapes
from the declared inputs and their values at run time. Inputs that are not data
but attributes in tensor form (Reshape's shape, Slice's starts, Resize's
scales, Pad's pads, ...) are made initializers holding the case's own values:
convkit checks every shape before anything runs, and for these even ONNX's
shape inference leaves the output shape unknown (the list is FOLD below; the
summary counts the cases where it happened).

A case is skipped, with the reason printed, when convkit does not compute what
it tests: a tensor type other than float32 (convkit computes float32), an
output convkit does not compute (MaxPool's indices, Dropout's mask, the running
statistics of BatchNormalization in training mode), or an op convkit does not
implement (SKIP_OPS). DepthToSpace and SpaceToDepth (added by the op registry
work) must pass; a build without them skips them as unknown ops. Cases convkit
gets wrong today are listed in KNOWN_FAIL with the reason: they run, and are
listed with the skips while they fail.

Prints one line per failure (all cases with -v), the skip list with reasons,
and "onnx_conformance: N passed, M failed". Exit status 1 when a case failed.
"""
import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np

# ONNX 1.12's case scripts use aliases numpy 1.24 removed
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _alias, _type in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if not hasattr(np, _alias):
            setattr(np, _alias, _type)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

# The ops of a CNN whose node tests run here.
CNN_OPS = {
    "Conv", "ConvTranspose",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization",
    "LpNormalization", "LRN",
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Softplus", "Softsign", "ThresholdedRelu", "Clip", "Gelu", "Mish",
    "Gemm", "MatMul",
    "Flatten", "Reshape", "Concat", "Transpose", "Slice", "Squeeze", "Unsqueeze", "Split",
    "Identity", "Dropout",
    "Add", "Sub", "Mul", "Div", "Max", "Min", "Mean", "Sum",
    "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth",
    "Softmax", "LogSoftmax",
    "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
    # the ops of shape arithmetic and detection heads (issue 16)
    "Expand", "Tile", "Where", "ScatterND", "Range", "Pow", "Mod", "Equal", "Less",
    "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Neg", "Abs", "Sqrt",
    "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Log", "Exp", "Erf", "Sin", "Cos",
}

# Ops convkit does not implement: their cases are skipped with this reason.
SKIP_OPS = {
    "GroupNormalization": "GroupNormalization (opset 18) is not an op convkit's ONNX reader knows",
    "LpNormalization": "LpNormalization is not an op convkit implements",
    "LRN": "LRN (local response normalization) is not an op convkit implements",
}

# Being added by the op registry work: expected to pass once convkit knows them.
COMING_OPS = {"DepthToSpace", "SpaceToDepth"}

# Cases convkit gets wrong today, with why. They still run: a failure is
# listed with the skips ("known failure"), a pass counts as a pass and asks
# for its line here to go.
KNOWN_FAIL = {
}

# Inputs (by position) that are attributes in tensor form, made initializers.
FOLD = {
    "Reshape": {1}, "Slice": {1, 2, 3, 4}, "Squeeze": {1}, "Unsqueeze": {1}, "Split": {1},
    "Pad": {1, 2, 3}, "Resize": {1, 2, 3}, "Upsample": {1},
    "ReduceMean": {1}, "ReduceMax": {1}, "ReduceMin": {1}, "ReduceSum": {1}, "ReduceProd": {1},
    "ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSum": {1}, "ReduceLogSumExp": {1},
    "ReduceSumSquare": {1}, "Dropout": {1, 2},
    "Clip": {1, 2},  # scalar bounds (attributes before opset 11)
    "Expand": {1}, "Tile": {1}, "ScatterND": {1}, "Range": {0, 1, 2},
}

FLOAT = onnx.TensorProto.FLOAT


def collect():
    """Every node test case, with the op it tests."""
    import onnx.backend.test.case.node as node_cases
    op_of = {}
    expect = node_cases.expect

    def recording_expect(node, inputs, outputs, name, **kw):
        op_of[name] = node.op_type
        op_of[name + "_expanded"] = node.op_type
        return expect(node, inputs, outputs, name, **kw)

    node_cases.expect = recording_expect
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases(None)
    # a few names are used twice (ONNX 1.12): the second case becomes NAME#2
    seen, out = {}, []
    for c in cases:
        op = op_of.get(c.name, "?")
        seen[c.name] = seen.get(c.name, 0) + 1
        if seen[c.name] > 1:
            c = dataclasses.replace(c, name="%s#%d" % (c.name, seen[c.name]))
        out.append((c, op))
    return out


def type_name(t):
    return onnx.TensorProto.DataType.Name(t)


def elem_type(vi):
    return vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else None


def first_node_op(model, op):
    for n in model.graph.node:
        if n.op_type == op:
            return n
    return None


def prepare(case, op, folder):
    """Writes the case's model (attribute inputs folded) and float inputs.
    Returns (skip reason or None, input args, expected outputs, folded?)."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    g = model.graph
    inputs, outputs = case.data_sets[0]  # node tests have one data set
    node = first_node_op(model, op)
    fold_names = set()
    if node is not None:
        for pos in FOLD.get(op, ()):
            if pos < len(node.input) and node.input[pos]:
                fold_names.add(node.input[pos])
    keep, args, folded = [], [], False
    for vi, value in zip(list(g.input), inputs):
        et = elem_type(vi)
        if vi.name in fold_names or (et is not None and et != FLOAT and vi.name not in
                                     {i for n in g.node for i in n.input[:1]}):
            if et is None:
                return "input '%s' is not a tensor" % vi.name, None, None, False
            g.initializer.append(numpy_helper.from_array(np.asarray(value), vi.name))
            folded = True
            continue
        if et is None:
            return "input '%s' is not a tensor (a sequence or optional)" % vi.name, None, None, \
                False
        if et != FLOAT:
            return "input '%s' is %s (convkit computes float32)" % (vi.name, type_name(et)), \
                None, None, False
        keep.append(vi)
        path = os.path.join(folder, "in_%d.npy" % len(args))
        np.save(path, np.asarray(value, dtype=np.float32))
        args += ["--input", "%s=%s" % (vi.name, path)]
    del g.input[:]
    g.input.extend(keep)
    for vo in g.output:
        et = elem_type(vo)
        if et != FLOAT:
            return "output '%s' is %s, which convkit does not compute" % (
                vo.name, type_name(et) if et is not None else "not a tensor"), None, None, False
    if op == "BatchNormalization" and node is not None and len(node.output) > 1:
        return "training mode (running mean and variance outputs)", None, None, False
    if op == "Dropout" and len(g.output) > 1:
        return "Dropout's mask output is not computed", None, None, False
    if op == "LayerNormalization" and len(g.output) > 1:
        # Y is compared; Mean and InvStdDev (training outputs) are not computed
        del g.output[1:]
        outputs = outputs[:1]
    if op == "Dropout" and node is not None and len(node.input) > 2 and node.input[2]:
        names = [vi.name for vi in case.model.graph.input]
        if node.input[2] in names and bool(np.asarray(inputs[names.index(node.input[2])])):
            return "Dropout in training mode (a random mask; convkit runs inference)", None, \
                None, False
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    return None, args, [np.asarray(o) for o in outputs], folded


def close(y, ref, rtol, atol):
    if y.shape != ref.shape:
        return False, "shape %s, expected %s" % (list(y.shape), list(ref.shape))
    ref = ref.astype(np.float64)
    y = y.astype(np.float64)
    nan = np.isnan(ref)
    if np.any(np.isnan(y) != nan):
        return False, "NaN where the expected value is not (or the reverse)"
    err = np.abs(y - ref)
    bound = atol + rtol * np.abs(ref)
    bad = (err > bound) & ~nan
    bad &= ~(np.isinf(ref) & (y == ref))
    if np.any(bad):
        i = np.unravel_index(np.argmax(np.where(bad, err - bound, -np.inf)), ref.shape)
        return False, "%d of %d values off; at %s: %r, expected %r" % (
            int(bad.sum()), ref.size, list(i), float(y[i]), float(ref[i]))
    return True, ""


def convkit_json(cmd, what):
    """Runs convkit; (its JSON document or None, its error messages)."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        return None, ["%s printed no JSON (exit %d): %s" % (what, r.returncode, r.stderr[-300:])]
    if r.returncode == 0 and doc.get("ok"):
        return doc, []
    msgs = [d.get("message", "") for d in doc.get("diagnostics", [])
            if d.get("severity") == "error"] or [doc.get("message") or "exit %d" % r.returncode]
    return doc, msgs


def run_case(convkit, case, op, folder):
    """Returns ("pass"|"fail"|"skip", reason, folded)."""
    skip, args, expected, folded = prepare(case, op, folder)
    if skip:
        return "skip", skip, False
    model = os.path.join(folder, "model.onnx")
    doc, msgs = convkit_json([convkit, "check", model, "--json"], "check")
    if msgs:
        diags = doc.get("diagnostics", []) if doc else []
        codes = [d.get("code") for d in diags if d.get("severity") == "error"]
        if op in COMING_OPS and "unsupported_op" in codes:
            return "skip", "%s is not in this build yet (being added by the op registry work)" % op, folded
        other = sorted({d.get("op") for d in diags
                        if d.get("code") == "unsupported_op" and d.get("op") not in CNN_OPS})
        if case.name.endswith("_expanded") and other:
            return "skip", "its expanded form uses %s, which convkit does not implement" % (
                ", ".join(o or "?" for o in other)), folded
        return "fail", "check: %s" % "; ".join(msgs)[:300], folded
    layers = doc.get("layers") or []
    outputs = doc.get("outputs") or []
    if len(expected) == 1 and (outputs or layers):
        shape = outputs[0].get("shape") if outputs else layers[-1].get("output_shape")
        if shape != list(expected[0].shape):
            return "fail", "check: output shape %s, expected %s" % (
                shape, list(expected[0].shape)), folded
    outs = [os.path.join(folder, "out_%d.npy" % i) for i in range(len(expected))]
    cmd = [convkit, "run", model, "--json"] + args
    for o in outs:
        cmd += ["-o", o]
    doc, msgs = convkit_json(cmd, "run")
    if msgs:
        return "fail", "run: %s" % "; ".join(msgs)[:300], folded
    got = doc.get("outputs") or []
    if len(got) != len(expected):
        return "fail", "run: %d outputs, expected %d" % (len(got), len(expected)), folded
    for i, (o, ref) in enumerate(zip(outs, expected)):
        if got[i].get("shape") != list(ref.shape):
            return "fail", "output %d: shape %s from check, expected %s" % (
                i, got[i].get("shape"), list(ref.shape)), folded
        ok, why = close(np.load(o), ref, case.rtol, case.atol)
        if not ok:
            return "fail", "output %d: %s" % (i, why), folded
    return "pass", "", folded


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--convkit", default=os.environ.get("CONVKIT", "build/convkit"))
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("-k", default=None, help="only cases whose name contains this")
    ap.add_argument("--keep", default=None, help="write the cases here and keep them")
    a = ap.parse_args()
    convkit = os.path.abspath(a.convkit)
    if not os.access(convkit, os.X_OK):
        print("onnx_conformance: %s is not a program (make first)" % convkit)
        print("onnx_conformance: 0 passed, 1 failed")
        return 1
    cases = [(c, op) for c, op in collect() if op in CNN_OPS and c.kind == "node"]
    if a.k:
        cases = [(c, op) for c, op in cases if a.k in c.name]
    cases.sort(key=lambda x: x[0].name)
    root = a.keep or tempfile.mkdtemp(prefix="convkit_onnx_conformance_")
    passed, failed, skipped, folded_n = [], [], [], 0
    try:
        for c, op in cases:
            folder = os.path.join(root, c.name.replace("#", "_"))
            os.makedirs(folder, exist_ok=True)
            if op in SKIP_OPS:
                res, why, folded = "skip", SKIP_OPS[op], False
            else:
                try:
                    res, why, folded = run_case(convkit, c, op, folder)
                except subprocess.TimeoutExpired:
                    res, why, folded = "fail", "timed out", False
            folded_n += folded
            if res == "pass":
                passed.append(c.name)
                if c.name in KNOWN_FAIL:
                    print("note %s now passes: remove it from KNOWN_FAIL" % c.name)
                elif a.verbose:
                    print("ok   %s (%s)" % (c.name, op))
            elif res == "skip":
                skipped.append((c.name, why))
            elif c.name in KNOWN_FAIL:
                skipped.append((c.name, "known failure: %s (%s)" % (KNOWN_FAIL[c.name], why)))
            else:
                failed.append((c.name, why))
                print("FAIL %s (%s): %s" % (c.name, op, why))
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    print("skipped %d:" % len(skipped))
    for name, why in skipped:
        print("  skip %s: %s" % (name, why))
    print("%d cases of %d ops; attribute inputs made initializers in %d" % (
        len(cases), len({op for _, op in cases}), folded_n))
    print("onnx_conformance: %d passed, %d failed" % (len(passed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

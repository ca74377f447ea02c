#!/usr/bin/python3
"""convkit against PyTorch on the corpus of models.py (issue 16).

    /usr/bin/python3 tests/onnx_corpus/sweep.py [--convkit build/convkit]
        [--models a,b] [--opsets 11,13,17] [--work DIR] [--json FILE] [-v]

For every model and opset:
  1. export it with torch.onnx.export at the nominal input, the batch and
     spatial axes dynamic (C3D keeps its 16 frames), into --work (a
     temporary folder unless given; nothing is written to the repository);
     an export torch refuses is reported as such;
  2. the truth: PyTorch 1.13 runs the model (eval mode, autograd on) at
     every square size 1..R (N x N, N x N x N) and, per spatial axis, at
     every size 1..R with the other axes at the nominal input; a size is
     valid when the forward pass returns an output without an empty axis;
  3. `convkit check --input` at each of those sizes: valid exactly where
     PyTorch is, with PyTorch's output shape;
  4. `convkit sizes --input NOMINAL --range 1:R --json`: the valid runs of the
     square scan and of each axis scan equal PyTorch's valid sizes;
  5. `convkit check --json` without --input (symbolic dimensions): exit 0
     exactly when some scanned size is valid, the valid_sizes runs equal the
     square scan's, and every layer with a symbolic output has output_expr;
  6. for the models that pad or resample (PAD_RESIZE), `convkit run` at a
     valid size on a random input matches PyTorch's output (max |diff| <=
     1e-4 * max(1, max |y|)).

Prints one row per model and opset (sizes agreeing of those swept, the
checks that failed), then "onnx_corpus: N passed, M failed" (one check per
model, opset and step). --json writes the table.
"""
import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

warnings.filterwarnings("ignore")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models as M  # noqa: E402

torch.set_num_threads(1)

# scan range per model (default 96): where the valid sizes start late
RANGE = {"unet_valid": 220, "pix2pix_unet": 272, "m5": 2048, "c3d": 130, "dcgan_gen": 24}
# the models whose graphs pad or resample: `run` must match PyTorch
PAD_RESIZE = {"unet_padded": 61, "deeplab_aspp": 45, "cyclegan_gen": 36, "yolov3_tiny": 64,
              "wavenet": 300, "espcn": 17, "edsr": 19, "srgan_gen": 13, "fsrcnn": 15,
              "unet_valid": 188, "dcgan_gen": 2, "pix2pix_unet": 256}
# axes that stay fixed in the export (C3D: clips of 16 frames)
FIXED = {"c3d": {2}}


def shape_str(s):
    return "x".join(str(d) for d in s)


def torch_truth(name, sizes):
    """{shape tuple: output shape list or None (invalid)} for each size.

    The forward pass runs with autograd on, as training does: under no_grad
    PyTorch 1.13's MaxPool1d returns an empty tensor where its window leaves
    0 positions instead of raising, and a global pool after it turns that
    into NaNs (M5 at lengths 1004-1771) - a size convkit reports invalid at
    the pool, with a note on that behaviour."""
    m = M.build(name)
    out = {}
    for s in sizes:
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                y = m(torch.randn(*s))
            out[s] = None if 0 in y.shape else list(y.shape)
        except Exception:  # noqa: BLE001 - any raise is "invalid at this size"
            out[s] = None
    return out


def scan_sizes(nominal, nsp, hi):
    """The square scan and the per-axis scans, as input shapes."""
    lead = tuple(nominal[:2])
    sq = [lead + (n,) * nsp for n in range(1, hi + 1)]
    axes = []
    for i in range(nsp):
        row = []
        for n in range(1, hi + 1):
            s = list(nominal)
            s[2 + i] = n
            row.append(tuple(s))
        axes.append(row)
    return sq, axes


def clip(rs, hi):
    return [[a, min(b, hi)] for a, b in rs if a <= hi]


def runs(values):
    """[[first, last], ...] of the ascending ints given."""
    r = []
    for v in values:
        if r and r[-1][1] == v - 1:
            r[-1][1] = v
        else:
            r.append([v, v])
    return r


def ck(cmd, *args):
    p = subprocess.run([cmd, *args], capture_output=True, text=True)
    return p.returncode, p.stdout


def ck_check(cmd, model, s):
    rc, out = ck(cmd, "check", model, "--input", shape_str(s), "--json")
    try:
        j = json.loads(out)
    except ValueError:
        return "bad json", None
    if rc == 0:
        if "outputs" in j:
            return "ok", j["outputs"][0]["shape"]
        return "ok", j["layers"][-1]["output_shape"]  # a convkit from before outputs[]
    return ("invalid" if rc == 1 else f"rc {rc}"), None


def export(name, opset, path):
    ctor, nsp, nominal, _ = M.MODELS[name]
    m = M.build(name)
    dyn = {0: "N"}
    names = ["D", "H", "W"][3 - nsp:] if nsp > 1 else ["L"]
    for i in range(nsp):
        if 2 + i not in FIXED.get(name, set()):
            dyn[2 + i] = names[i]
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        torch.onnx.export(m, torch.randn(*nominal), path, opset_version=opset,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": dyn, "y": {0: "N"}})


def compare_run(cmd, name, model, work):
    """convkit run against PyTorch at PAD_RESIZE's size; None when they agree."""
    _, nsp, nominal, _ = M.MODELS[name]
    n = PAD_RESIZE[name]
    s = list(nominal[:2]) + [n] * nsp
    if name in FIXED:
        for ax in FIXED[name]:
            s[ax] = nominal[ax]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(s).astype(np.float32)
    xp, yp = os.path.join(work, name + "_x.npy"), os.path.join(work, name + "_y.npy")
    np.save(xp, x)
    rc, out = ck(cmd, "run", model, "--input", xp, "-o", yp, "--json")
    if rc != 0:
        return f"run failed (exit {rc}): {out[:300]}"
    y = np.load(yp)
    with torch.no_grad():
        t = M.build(name)(torch.from_numpy(x)).numpy()
    if y.shape != t.shape:
        return f"run: output {y.shape}, PyTorch {t.shape}"
    err = float(np.max(np.abs(y - t))) if t.size else 0.0
    tol = 1e-4 * max(1.0, float(np.max(np.abs(t))) if t.size else 1.0)
    return None if err <= tol else f"run: max |diff| {err:.3g} > {tol:.3g}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convkit", default=os.environ.get("CONVKIT", "build/convkit"))
    ap.add_argument("--models", default=",".join(M.MODELS))
    ap.add_argument("--opsets", default="11,13,17")
    ap.add_argument("--work")
    ap.add_argument("--json")
    ap.add_argument("--range", type=int, help="scan 1..R for every model")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    cmd = os.path.abspath(a.convkit)
    work = a.work or tempfile.mkdtemp(prefix="ck_corpus_")
    os.makedirs(work, exist_ok=True)
    passed = failed = 0
    table = []
    for name in a.models.split(","):
        _, nsp, nominal, note = M.MODELS[name]
        hi = a.range or RANGE.get(name, 96)
        sq, axes = scan_sizes(nominal, nsp, hi)
        truth = torch_truth(name, sorted(set(sq + [s for row in axes for s in row])))
        t_sq = [s[2] for s in sq if truth[s] is not None]
        t_axes = [[s[2 + i] for s in row if truth[s] is not None] for i, row in enumerate(axes)]
        for opset in (int(o) for o in a.opsets.split(",")):
            row = {"model": name, "opset": opset, "range": hi, "failures": []}
            table.append(row)
            model = os.path.join(work, f"{name}_op{opset}.onnx")
            try:
                export(name, opset, model)
            except Exception as e:  # noqa: BLE001
                row["export"] = f"torch refuses: {str(e).splitlines()[0][:120]}"
                print(f"{name:14s} opset {opset}: {row['export']}")
                continue
            fails = row["failures"]
            # 3. check at every size
            shapes = sorted(set(sq + [s for r in axes for s in r]))
            with ThreadPoolExecutor(2) as ex:
                res = dict(zip(shapes, ex.map(lambda s: ck_check(cmd, model, s), shapes)))
            agree = 0
            for s in shapes:
                st, shp = res[s]
                want = truth[s]
                good = (st == "ok" and shp == want) if want is not None else st == "invalid"
                agree += good
                if not good and len(fails) < 8:
                    fails.append(f"check {shape_str(s)}: convkit {st} {shp or ''}, PyTorch "
                                 f"{want if want is not None else 'raises'}")
            row["check"] = [agree, len(shapes)]
            # 4. sizes
            rc, out = ck(cmd, "sizes", model, "--input", shape_str(nominal), "--range",
                         f"1:{hi}", "--json")
            sizes_ok = False
            try:
                j = json.loads(out)
                got_sq = j["valid_square"]
                got_axes = [ax["valid"] for ax in j["axes"]]
                sizes_ok = got_sq == runs(t_sq) and got_axes == [runs(v) for v in t_axes]
                if not sizes_ok:
                    fails.append(f"sizes: square {got_sq} vs PyTorch {runs(t_sq)}; axes "
                                 f"{got_axes} vs {[runs(v) for v in t_axes]}")
            except (ValueError, KeyError) as e:
                fails.append(f"sizes: no JSON ({e}): {out[:200]}")
            row["sizes"] = sizes_ok
            # 5. symbolic check
            rc, out = ck(cmd, "check", model, "--json")
            sym_ok = False
            try:
                j = json.loads(out)
                fixed = FIXED.get(name, set())
                if fixed:  # only the dynamic axes vary: the truth of the per-axis scans
                    want_any = any(t_axes[i] for i in range(nsp) if 2 + i not in fixed)
                else:
                    want_any = bool(t_sq)
                vs = j.get("valid_sizes")
                sym_ok = (rc == 0) == want_any and vs is not None
                if sym_ok and not fixed:
                    # the runs convkit found, within the range PyTorch ran
                    got = clip(vs.get("square", []), hi)
                    sym_ok = got == runs(t_sq)
                missing = [layer["name"] for layer in j.get("layers", [])
                           if layer.get("status") == "ok" and layer.get("output_shape") is None
                           and not layer.get("output_expr")]
                if missing:
                    sym_ok = False
                    fails.append(f"symbolic: no output_expr for {missing[:3]}")
                if not sym_ok and not missing:
                    fails.append(f"symbolic check: exit {rc}, valid_sizes {vs}, PyTorch "
                                 f"{'valid' if want_any else 'invalid'} ({runs(t_sq)[:4]})")
            except (ValueError, KeyError, AttributeError, TypeError) as e:
                fails.append(f"symbolic check: {e}: {out[:200]}")
            row["symbolic"] = sym_ok
            # 6. run
            if name in PAD_RESIZE:
                err = compare_run(cmd, name, model, work)
                row["run"] = err is None
                if err:
                    fails.append(err)
            steps = [row["check"][0] == row["check"][1], sizes_ok, sym_ok] + (
                [row["run"]] if "run" in row else [])
            passed += sum(steps)
            failed += len(steps) - sum(steps)
            print(f"{name:14s} opset {opset}: check {agree}/{len(shapes)}  sizes "
                  f"{'=' if sizes_ok else 'DIFFERS'}  symbolic {'ok' if sym_ok else 'WRONG'}"
                  + (f"  run {'ok' if row['run'] else 'DIFFERS'}" if "run" in row else ""))
            if a.v or not all(steps):
                for f in fails:
                    print("    " + f)
            sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(table, f, indent=1)
    print(f"onnx_corpus: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

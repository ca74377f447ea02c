#!/usr/bin/python3
"""How fast `convkit check` reads an ONNX model, against python3-onnx (issue 17).

    /usr/bin/python3 bench/check_speed.py [--convkit build/convkit] [--dir DIR] [--runs N]

makes the models with bench/onnx_models.py into DIR (default
/tmp/convkit_check_speed; torchvision ResNet-50, 102 MB, and VGG-16, 553 MB,
random weights, weights inside the file) unless they are there already, then
times whole processes, each run a fresh process, interleaved:

  convkit:     CONVKIT check MODEL
  python3-onnx: /usr/bin/python3 -c "import onnx, sys;
                m = onnx.load(sys.argv[1]); onnx.shape_inference.infer_shapes(m)" MODEL

and prints, per model, the median wall time and the peak resident memory
(ru_maxrss of the child from wait4, the number `/usr/bin/time -v` calls
"Maximum resident set size") of each, and their ratios, as a Markdown table.
The first run of each command is not counted (it pulls the file into the
page cache).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY_CHECK = ("import onnx, sys; m = onnx.load(sys.argv[1]); "
            "onnx.shape_inference.infer_shapes(m)")


def run(cmd):
    """(wall seconds, peak RSS bytes) of one process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), rc, err[-500:]))
    return wall, ru.ru_maxrss * 1024


def mb(b):
    return b / (1 << 20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--convkit", default="build/convkit")
    ap.add_argument("--dir", default="/tmp/convkit_check_speed")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("models", nargs="*", default=["resnet50", "vgg16"])
    a = ap.parse_args()
    missing = [m for m in a.models if not os.path.exists(os.path.join(a.dir, m + ".onnx"))]
    if missing:
        subprocess.run([sys.executable, os.path.join(HERE, "onnx_models.py"), a.dir] + missing,
                       check=True)
    rows = []
    for m in a.models:
        path = os.path.join(a.dir, m + ".onnx")
        cmds = {"convkit": [a.convkit, "check", path],
                "python3-onnx": ["/usr/bin/python3", "-c", PY_CHECK, path]}
        res = {k: [] for k in cmds}
        for k, c in cmds.items():
            run(c)  # warm the page cache
        for _ in range(a.runs):
            for k, c in cmds.items():
                res[k].append(run(c))
        ck_t = statistics.median(w for w, _ in res["convkit"])
        ck_m = max(r for _, r in res["convkit"])
        py_t = statistics.median(w for w, _ in res["python3-onnx"])
        py_m = max(r for _, r in res["python3-onnx"])
        rows.append((m, os.path.getsize(path), ck_t, ck_m, py_t, py_m))
    print("| model | file | convkit check | peak RSS | python3-onnx load + infer_shapes | "
          "peak RSS | time ratio | memory ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for m, size, ck_t, ck_m, py_t, py_m in rows:
        print("| %s | %.0f MB | %.1f ms | %.1f MB | %.0f ms | %.0f MB | %.0fx | %.0fx |" % (
            m, mb(size), ck_t * 1e3, mb(ck_m), py_t * 1e3, mb(py_m), py_t / ck_t, py_m / ck_m))
    print("\nmedian of %d runs each (interleaved, after one warm-up run); peak RSS is the "
          "largest ru_maxrss of the runs" % a.runs)


if __name__ == "__main__":
    main()

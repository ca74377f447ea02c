"""convkit.check on a live nn.Module against what a PyTorch user does today.

    /usr/bin/python3 bench/python_check.py [--runs N] [--models resnet50,...]

For each torchvision model, in one process and interleaved round by round:
  convkit   convkit.check(model, input_size=(1, 3, 224, 224)): fx trace + C check
  forward   model(torch.randn(1, 3, 224, 224)) under no_grad, eval (torchinfo's way: it runs the model)
  meta      the model moved to the meta device and called on a meta tensor (shapes only, no memory),
            the move included (.to('meta') of a copy is what a user would write)
Prints the median and min milliseconds of each and the ratios to convkit.
"""

import argparse
import copy
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

import torch  # noqa: E402
import torchvision  # noqa: E402

import convkit  # noqa: E402


def build(name):
    kw = {}
    if name in ("googlenet", "inception_v3"):
        kw = dict(aux_logits=False, init_weights=False)
    return getattr(torchvision.models, name)(weights=None, **kw).eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--models", default="resnet18,resnet50,mobilenet_v2,densenet121")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print("torch %s, torchvision %s, convkit %s, %d threads, %d runs (medians; min in brackets)"
          % (torch.__version__, torchvision.__version__, convkit.version(), a.threads, a.runs))
    print("%-14s %12s %14s %14s %10s %10s" % ("model", "convkit ms", "forward ms", "meta ms", "fwd/ck", "meta/ck"))
    for name in a.models.split(","):
        m = build(name)
        x = torch.randn(1, 3, 224, 224)
        t = {"convkit": [], "forward": [], "meta": []}

        def run_convkit():
            r = convkit.check(m, input_size=(1, 3, 224, 224))
            assert r.ok, r

        def run_forward():
            with torch.no_grad():
                m(x)

        def run_meta():
            mm = copy.deepcopy(m).to("meta")
            with torch.no_grad():
                mm(torch.empty(1, 3, 224, 224, device="meta"))

        for f in (run_convkit, run_forward, run_meta):  # warm-up
            f()
        for _ in range(a.runs):
            for key, f in (("convkit", run_convkit), ("forward", run_forward), ("meta", run_meta)):
                t0 = time.perf_counter()
                f()
                t[key].append((time.perf_counter() - t0) * 1e3)
        med = {k: statistics.median(v) for k, v in t.items()}
        mn = {k: min(v) for k, v in t.items()}
        print("%-14s %5.1f [%5.1f] %6.1f [%5.1f] %6.1f [%5.1f] %9.1fx %9.1fx"
              % (name, med["convkit"], mn["convkit"], med["forward"], mn["forward"], med["meta"], mn["meta"],
                 med["forward"] / med["convkit"], med["meta"] / med["convkit"]))


if __name__ == "__main__":
    main()

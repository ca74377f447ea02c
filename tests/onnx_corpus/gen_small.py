#!/usr/bin/python3
"""Writes tests/onnx_corpus/small: narrow copies of corpus models (models.py)
exported by PyTorch 1.13 at opsets 11, 13 and 17 with dynamic batch and
spatial axes, small enough to keep in the repository, and PyTorch's answers
for them, so that `make test` checks convkit against PyTorch without
PyTorch:

  NAME_opK.onnx   the model, exported at opset K
  truth.json      per model: the nominal input, the scan range, PyTorch's
                  output shape (null where it raises or returns an empty
                  tensor) at every square size 1..R and, per spatial axis, at
                  every size 1..R with the other axes at the nominal input,
                  and its parameter count
  NAME.x.npy, NAME.y.npy   for the models that pad or resample: an input at
                  a valid size and PyTorch's output for it

    nice -n 19 /usr/bin/python3 tests/onnx_corpus/gen_small.py
"""
import contextlib
import io
import json
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models as M  # noqa: E402

torch.set_num_threads(2)
OUT = os.path.join(HERE, "small")

class NormAt1x1(torch.nn.Module):
    """Not an architecture: two strided convolutions, then InstanceNorm2d and
    GroupNorm, which PyTorch refuses over a single value (issue 16, point
    5): a PyTorch export that ONNX itself would compute."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.n = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.InstanceNorm2d(4), nn.ReLU(),
                               nn.Conv2d(4, 4, 3, 2, 1), nn.GroupNorm(4, 4), nn.Conv2d(4, 2, 1))

    def forward(self, x):
        return self.n(x)


class Pool1dEmpty(torch.nn.Module):
    """Not an architecture: a MaxPool1d whose window leaves 0 positions on
    short inputs, where PyTorch under no_grad returns an empty tensor and the
    next convolution raises (issue 16, the MaxPool1d note)."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.n = nn.Sequential(nn.Conv1d(1, 2, 3), nn.MaxPool1d(4), nn.Conv1d(2, 2, 3))

    def forward(self, x):
        return self.n(x)


# name -> (model, nominal input, scan range, size at which `run` is compared or None)
SMALL = {
    "norm_1x1": (NormAt1x1, (1, 3, 16, 16), 24, None),
    "pool1d_empty": (Pool1dEmpty, (1, 1, 40), 40, None),
    "unet_padded": (lambda: M.UNetPadded(w=1), (1, 3, 32, 32), 64, 29),
    "unet_valid": (lambda: M.UNetValid(w=1), (1, 1, 188, 188), 220, None),
    "deeplab_aspp": (lambda: M.DeepLabASPP(w=2, classes=2), (1, 3, 32, 32), 64, 27),
    "cyclegan_gen": (lambda: M.CycleGANGenerator(w=2, blocks=1), (1, 3, 32, 32), 64, 21),
    "patchgan": (lambda: M.PatchGAN(cin=2, w=2), (1, 2, 32, 32), 64, None),
    "yolov3_tiny": (lambda: M.YOLOv3Tiny(b=1, classes=1), (1, 3, 64, 64), 128, 64),
    "wavenet": (lambda: M.WaveNetStack(r=2, s=2), (1, 1, 64), 96, 40),
    "espcn": (lambda: M.ESPCN(n1=4, n2=2), (1, 1, 16, 16), 48, 11),
    "fsrcnn": (lambda: M.FSRCNN(d=4, s=2, m=1), (1, 1, 16, 16), 48, 9),
    "edsr": (lambda: M.EDSRBaseline(f=4, blocks=1), (1, 3, 16, 16), 48, 13),
    "gn_resnet_se": (lambda: M.GNResNetSE(w=4, g=2), (1, 3, 32, 32), 64, None),
    "srcnn": (lambda: M.SRCNN(), (1, 1, 33, 33), 64, None),
}


def build(name):
    torch.manual_seed(0)
    m = SMALL[name][0]().eval()
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            mod.running_mean.uniform_(-0.2, 0.2, generator=g)
            mod.running_var.uniform_(0.5, 1.5, generator=g)
    return m


def answer(m, shape):
    """PyTorch's output shape at an input shape, autograd on (under no_grad
    MaxPool1d returns an empty tensor instead of raising: see sweep.py)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            y = m(torch.randn(*shape))
        return None if 0 in y.shape else list(y.shape)
    except Exception:  # noqa: BLE001 - PyTorch raising is the answer
        return None


def main():
    os.makedirs(OUT, exist_ok=True)
    truth = {}
    for name, (_, nominal, hi, run_at) in SMALL.items():
        m = build(name)
        nsp = len(nominal) - 2
        sq = {n: answer(m, nominal[:2] + (n,) * nsp) for n in range(1, hi + 1)}
        axes = []
        for i in range(nsp):
            row = {}
            for n in range(1, hi + 1):
                s = list(nominal)
                s[2 + i] = n
                row[n] = answer(m, tuple(s))
            axes.append(row)
        truth[name] = {"nominal": list(nominal), "range": hi, "square": sq, "axes": axes,
                       "params": sum(p.numel() for p in m.parameters())}
        names = ["D", "H", "W"][3 - nsp:] if nsp > 1 else ["L"]
        dyn = {0: "N"}
        dyn.update({2 + i: names[i] for i in range(nsp)})
        for opset in (11, 13, 17):
            path = os.path.join(OUT, f"{name}_op{opset}.onnx")
            with contextlib.redirect_stderr(io.StringIO()), \
                    contextlib.redirect_stdout(io.StringIO()):
                torch.onnx.export(m, torch.randn(*nominal), path, opset_version=opset,
                                  input_names=["x"], output_names=["y"],
                                  dynamic_axes={"x": dyn, "y": {0: "N"}})
        if run_at:
            x = np.random.default_rng(0).standard_normal(nominal[:2] + (run_at,) * nsp)
            x = x.astype(np.float32)
            with torch.no_grad():
                y = m(torch.from_numpy(x)).numpy()
            np.save(os.path.join(OUT, name + ".x.npy"), x)
            np.save(os.path.join(OUT, name + ".y.npy"), y)
        print(name, "valid squares:", [n for n, v in sq.items() if v][:6], "...")
    with open(os.path.join(OUT, "truth.json"), "w") as f:
        json.dump(truth, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()

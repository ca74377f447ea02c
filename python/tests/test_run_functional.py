"""`convkit run` of what convkit.check traced, against PyTorch's own forward:
models made only of functional calls (F.pad in every mode with pads computed
from the input's size, permute, transpose, mean/sum/amax/amin, indexing with
None), so the .cnn convkit writes (r.cnn) holds everything the forward does
and the outputs must match PyTorch's to float32 rounding."""
import os
import subprocess

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convkit

HERE = os.path.dirname(os.path.abspath(__file__))


def convkit_cli():
    lib = os.environ.get("CONVKIT_LIB")
    cands = [os.path.join(os.path.dirname(lib), "convkit")] if lib else []
    cands.append(os.path.join(HERE, "..", "..", "build", "convkit"))
    for c in cands:
        if os.access(c, os.X_OK):
            return os.path.abspath(c)
    pytest.skip("no convkit binary next to the library (make builds it)")


class PadToMultiple(nn.Module):
    """The pad-to-a-multiple-of-8 idiom of U-Nets and transformers."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        h, w = x.shape[-2:]
        return F.pad(x, (0, (8 - w % 8) % 8, 1, (8 - h % 8) % 8), mode=self.mode)


class ConstantPad(nn.Module):
    def forward(self, x):
        return F.pad(x, (2, 1, 0, 3), value=0.5)


class Pad1d(nn.Module):
    def forward(self, x):
        return F.pad(x, (3, 2), mode="reflect")


class Layout(nn.Module):
    def forward(self, x):
        y = x.permute(0, 2, 3, 1).transpose(1, 2)
        return torch.transpose(y, -1, 0).contiguous()


class Reductions(nn.Module):
    def forward(self, x):
        a = x.mean(dim=1, keepdim=True).amax(dim=-1)
        b = x.sum(dim=(2, 3)).amin(dim=1, keepdim=True)[:, :, None]
        return a + b + torch.mean(x, dim=[2, 3])[:, :, None].sum(dim=1, keepdim=True)


class NewAxes(nn.Module):
    def forward(self, x):
        return x[:, None, 1] + x.amax(dim=1)[:, None] * x[0, None, 2, :, None, 3]


CASES = [
    (PadToMultiple("constant"), (2, 3, 13, 10)),
    (PadToMultiple("reflect"), (1, 2, 11, 9)),
    (PadToMultiple("replicate"), (2, 3, 13, 10)),
    (PadToMultiple("circular"), (1, 4, 9, 14)),
    (ConstantPad(), (1, 2, 5, 6)),
    (Pad1d(), (2, 3, 7)),
    (Layout(), (2, 3, 5, 7)),
    (Reductions(), (2, 3, 5, 7)),
    (NewAxes(), (2, 3, 5, 7)),
]


@pytest.mark.parametrize("model,shape", CASES,
                         ids=["%s-%s" % (type(m).__name__, getattr(m, "mode", "")) for m, _ in CASES])
def test_run_matches_pytorch(tmp_path, model, shape):
    r = convkit.check(model, input_size=shape)
    assert r.ok, str(r)
    (tmp_path / "net.cnn").write_text(r.cnn)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    np.save(tmp_path / "x.npy", x.numpy())
    # the binary links its own sanitizer runtime: the one preloaded into
    # this interpreter under `make asan` must not reach it
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    p = subprocess.run([convkit_cli(), "run", "net.cnn", "--input", "x.npy", "-o", "y.npy"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    got = np.load(tmp_path / "y.npy")
    with torch.no_grad():
        want = model(x).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

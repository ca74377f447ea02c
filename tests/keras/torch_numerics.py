"""The network of tests/keras/numerics/num.h5 computed with PyTorch (float64)
from the weights in that file (read with h5py), transposed from Keras's
layouts to PyTorch's, and compared with convkit's outputs:

    /usr/bin/python3 tests/keras/torch_numerics.py DIR y1.npy [y2.npy ...]

Each y.npy (from `convkit run DIR/num.h5 --input DIR/num.x.npy -o y.npy`)
must agree within the fast kernels' bar: max |y - ref| <= 1e-5 * max |ref|.
Prints one line per file; exit 1 on a difference.

Layouts: Conv2D kernel [kh, kw, in, out] -> weight [out, in, kh, kw];
DepthwiseConv2D [kh, kw, C, M] -> [C*M, 1, kh, kw] (output channel c*M + m,
groups C); SeparableConv2D: that depthwise step, then the pointwise [1, 1,
C, F] -> [F, C, 1, 1]; Conv2DTranspose [kh, kw, out, in] -> ConvTranspose2d
[in, out, kh, kw], TensorFlow's 'same' keeping the first in*s rows and
columns of the full output; BatchNormalization's four arrays with the
file's epsilon; Dense [in, out] on the NHWC flattening.
"""
import json
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def main():
    d, outs = sys.argv[1], sys.argv[2:]
    f = h5py.File(d + "/num.h5", "r")
    cfg = f.attrs["model_config"]
    cfg = json.loads(cfg.decode() if isinstance(cfg, bytes) else cfg)
    eps = {L["config"]["name"]: L["config"].get("epsilon") for L in cfg["config"]["layers"]}

    def W(layer, name):
        return torch.from_numpy(np.array(f["model_weights/%s/%s/%s:0" % (layer, layer, name)],
                                         dtype=np.float64))

    x = torch.from_numpy(np.load(d + "/num.x.npy").astype(np.float64)).permute(0, 3, 1, 2)
    # conv2d: 3x3, 'same' (stride 1: one pixel each side), relu
    x = F.relu(F.conv2d(x, W("conv2d", "kernel").permute(3, 2, 0, 1), W("conv2d", "bias"),
                        padding=1))
    bn = "batch_normalization"
    x = F.batch_norm(x, W(bn, "moving_mean"), W(bn, "moving_variance"), W(bn, "gamma"),
                     W(bn, "beta"), training=False, eps=eps[bn])
    # depthwise_conv2d: multiplier 2, 'valid'
    dk = W("depthwise_conv2d", "depthwise_kernel")
    kh, kw, c, m = dk.shape
    x = F.conv2d(x, dk.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw),
                 W("depthwise_conv2d", "bias"), groups=c)
    # separable_conv2d: depthwise 3x3 'same', pointwise 1x1, bias, relu
    sd = W("separable_conv2d", "depthwise_kernel")
    kh, kw, c, m = sd.shape
    x = F.conv2d(x, sd.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw), None, padding=1, groups=c)
    x = F.relu(F.conv2d(x, W("separable_conv2d", "pointwise_kernel").permute(3, 2, 0, 1),
                        W("separable_conv2d", "bias")))
    x = F.max_pool2d(x, 2)
    # conv2d_transpose: 3x3, stride 2, 'same': out = 2 * in
    n = x.shape[2]
    x = F.conv_transpose2d(x, W("conv2d_transpose", "kernel").permute(3, 2, 0, 1),
                           W("conv2d_transpose", "bias"), stride=2)[:, :, : 2 * n, : 2 * n]
    x = F.conv2d(x, W("conv2d_1", "kernel").permute(3, 2, 0, 1), W("conv2d_1", "bias"), stride=2)
    x = x.permute(0, 2, 3, 1).reshape(1, -1)  # Keras flattens NHWC
    ref = (x @ W("dense", "kernel") + W("dense", "bias")).numpy()
    scale = float(np.abs(ref).max())
    bad = 0
    for o in outs:
        y = np.load(o).astype(np.float64)
        if y.shape != ref.shape:
            print("%s: shape %s, PyTorch %s" % (o, y.shape, ref.shape))
            bad += 1
            continue
        err = float(np.abs(y - ref).max())
        ok = err <= 1e-5 * scale
        print("%s: max |convkit - PyTorch| = %.3g (%.2g of max |y| = %.4g) %s"
              % (o, err, err / scale, scale, "ok" if ok else "DIFFERS"))
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

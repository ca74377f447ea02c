#!/usr/bin/python3
"""Forward-pass references for the runtime beyond numerics/ (norms,
activations, padding layers, more convolution and pooling forms, resize
modes), written by PyTorch 1.13 (Debian's python3-torch), plus small ONNX
exports of PyTorch modules that exercise the ONNX-only ops (Resize,
Pad, Slice, Gather, Split, Reduce*, Transpose, MatMul, Gemm, Clip, ...).

    nice -n 19 /usr/bin/python3 gen_runtime.py      # from any folder, ~10 s

numerics/NAME.json + .bin use the format of ../numerics (README.md there).
onnx/NAME.onnx with onnx/NAME.input.npy and onnx/NAME.output.npy.
Deterministic: torch.manual_seed per case.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS = {"torch": torch.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0]}

# (name, constructor text, input shape[, forward kwargs])
MODULES = [
    ("instancenorm2d", "nn.InstanceNorm2d(3)", [2, 3, 5, 6]),
    ("instancenorm2d_affine", "nn.InstanceNorm2d(3, affine=True)", [1, 3, 5, 6]),
    ("instancenorm1d_unbatched", "nn.InstanceNorm1d(4)", [4, 9]),
    ("groupnorm_2x6", "nn.GroupNorm(2, 6)", [2, 6, 4, 3]),
    ("groupnorm_3d", "nn.GroupNorm(3, 3, eps=1e-3)", [1, 3, 2, 3, 4]),
    ("layernorm_2d", "nn.LayerNorm([5, 7])", [2, 3, 5, 7]),
    ("layernorm_last", "nn.LayerNorm(7, elementwise_affine=False)", [3, 7]),
    ("batchnorm1d_2d", "nn.BatchNorm1d(4)", [3, 4]),
    ("batchnorm1d_3d", "nn.BatchNorm1d(4, eps=1e-3)", [2, 4, 5]),
    ("batchnorm3d", "nn.BatchNorm3d(2)", [1, 2, 3, 4, 2]),
    ("relu6", "nn.ReLU6()", [2, 3, 4, 5]),
    ("leakyrelu", "nn.LeakyReLU(0.2)", [2, 3, 4, 5]),
    ("elu", "nn.ELU(alpha=0.5)", [2, 3, 4, 5]),
    ("selu", "nn.SELU()", [2, 3, 4, 5]),
    ("gelu", "nn.GELU()", [2, 3, 4, 5]),
    ("gelu_tanh", "nn.GELU(approximate='tanh')", [2, 3, 4, 5]),
    ("silu", "nn.SiLU()", [2, 3, 4, 5]),
    ("hardswish", "nn.Hardswish()", [2, 3, 4, 5]),
    ("hardsigmoid", "nn.Hardsigmoid()", [2, 3, 4, 5]),
    ("hardtanh", "nn.Hardtanh(-0.5, 0.7)", [2, 3, 4, 5]),
    ("sigmoid", "nn.Sigmoid()", [2, 3, 4, 5]),
    ("tanh", "nn.Tanh()", [2, 3, 4, 5]),
    ("softsign", "nn.Softsign()", [2, 3, 4, 5]),
    ("softplus", "nn.Softplus(beta=2, threshold=1.5)", [2, 3, 4, 5]),
    ("softmax_dim1", "nn.Softmax(dim=1)", [2, 3, 4, 5]),
    ("softmax_last", "nn.Softmax(dim=-1)", [2, 3, 4, 5]),
    ("logsoftmax_dim1", "nn.LogSoftmax(dim=1)", [2, 3, 4, 5]),
    ("prelu", "nn.PReLU()", [2, 3, 4, 5]),
    ("prelu_channels", "nn.PReLU(num_parameters=3)", [2, 3, 4, 5]),
    ("zeropad2d", "nn.ZeroPad2d((1, 2, 0, 3))", [1, 2, 4, 5]),
    ("constantpad2d", "nn.ConstantPad2d(2, 0.5)", [1, 2, 3, 4]),
    ("reflectionpad2d", "nn.ReflectionPad2d((2, 1, 1, 2))", [1, 2, 4, 5]),
    ("replicationpad2d", "nn.ReplicationPad2d(2)", [1, 2, 3, 4]),
    ("reflectionpad1d", "nn.ReflectionPad1d(3)", [2, 3, 5]),
    ("constantpad3d", "nn.ConstantPad3d(1, -1.0)", [1, 1, 2, 3, 2]),
    ("replicationpad3d", "nn.ReplicationPad3d((1, 0, 2, 1, 0, 1))", [1, 2, 2, 3, 2]),
    ("zeropad2d_crop", "nn.ZeroPad2d((-1, 1, 2, -2))", [1, 2, 5, 6]),
    ("conv2d_reflect", "nn.Conv2d(2, 3, 3, padding=2, padding_mode='reflect')", [1, 2, 5, 6]),
    ("conv2d_same_dil2", "nn.Conv2d(3, 4, 3, padding='same', dilation=2)", [1, 3, 7, 8]),
    ("conv2d_valid", "nn.Conv2d(3, 2, (2, 3), padding='valid')", [2, 3, 6, 7]),
    ("conv1d_groups", "nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)", [2, 4, 11]),
    ("conv1d_unbatched", "nn.Conv1d(3, 2, 2)", [3, 7]),
    ("conv3d_circular", "nn.Conv3d(2, 2, 3, padding=1, padding_mode='circular')", [1, 2, 3, 4, 5]),
    ("convT1d", "nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1, output_padding=2)", [1, 3, 5]),
    ("convT3d", "nn.ConvTranspose3d(2, 3, 2, stride=2)", [1, 2, 2, 3, 2]),
    ("convT2d_groups3", "nn.ConvTranspose2d(6, 3, 3, stride=2, groups=3, bias=False)", [1, 6, 3, 4]),
    ("maxpool1d", "nn.MaxPool1d(3, stride=2, padding=1)", [2, 3, 10]),
    ("maxpool3d_ceil", "nn.MaxPool3d(2, stride=2, ceil_mode=True)", [1, 2, 3, 5, 4]),
    ("maxpool2d_dil_ceil", "nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True)",
     [1, 2, 9, 10]),
    ("avgpool1d_exclude", "nn.AvgPool1d(4, stride=3, padding=2, count_include_pad=False)",
     [2, 3, 11]),
    ("avgpool3d", "nn.AvgPool3d(2, stride=1, padding=1)", [1, 2, 3, 3, 4]),
    ("adaptiveavgpool1d", "nn.AdaptiveAvgPool1d(5)", [2, 3, 13]),
    ("adaptivemaxpool3d", "nn.AdaptiveMaxPool3d((2, 3, 2))", [1, 2, 5, 7, 3]),
    ("adaptiveavgpool2d_none", "nn.AdaptiveAvgPool2d((None, 3))", [1, 2, 5, 8]),
    ("upsample_nearest_exact", "nn.Upsample(scale_factor=1.7, mode='nearest-exact')", [1, 2, 5, 6]),
    ("upsample_nearest_down", "nn.Upsample(size=(3, 4), mode='nearest')", [1, 2, 7, 9]),
    ("upsample_bilinear_down", "nn.Upsample(size=(4, 5), mode='bilinear')", [1, 2, 9, 11]),
    ("upsample_bicubic_ac_false", "nn.Upsample(scale_factor=1.5, mode='bicubic')", [1, 2, 4, 6]),
    ("upsample_bicubic_size", "nn.Upsample(size=(7, 3), mode='bicubic', align_corners=True)",
     [1, 2, 4, 5]),
    ("upsample_trilinear", "nn.Upsample(scale_factor=2, mode='trilinear')", [1, 2, 2, 3, 2]),
    ("upsample_linear_ac", "nn.Upsample(size=9, mode='linear', align_corners=True)", [2, 3, 4]),
    ("upsample_nearest3d", "nn.Upsample(scale_factor=(1, 2, 3), mode='nearest')", [1, 1, 2, 2, 2]),
    ("upsample_bilinear_recompute",
     "nn.Upsample(scale_factor=2.5, mode='bilinear', recompute_scale_factor=True)", [1, 2, 3, 4]),
    ("linear_3d_input", "nn.Linear(6, 4)", [2, 3, 6]),
    ("linear_nobias", "nn.Linear(5, 3, bias=False)", [4, 5]),
    ("seq_flatten_unflatten",
     "nn.Sequential(nn.Flatten(), nn.Unflatten(1, (6, 5)), nn.Linear(5, 2), nn.Tanh())",
     [2, 3, 2, 5]),
    ("seq_conv_bn_relu",
     "nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), "
     "nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(), nn.Linear(16, 3), nn.Softmax(dim=1))",
     [2, 2, 4, 4]),
]


def randomise(m):
    """Non-trivial parameters and running statistics."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("weight") and isinstance(m, (nn.PReLU,)) or "norm" in type(m).__name__.lower():
                p.copy_(torch.rand_like(p) + 0.5 if name.endswith("weight") else torch.randn_like(p))
        for mod in m.modules():
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                mod.running_mean.copy_(torch.randn_like(mod.running_mean))
                mod.running_var.copy_(torch.rand_like(mod.running_var) + 0.5)
                mod.weight.copy_(torch.rand_like(mod.weight) + 0.5)
                mod.bias.copy_(torch.randn_like(mod.bias))
            if isinstance(mod, (nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d)) and \
                    getattr(mod, "weight", None) is not None:
                mod.weight.copy_(torch.rand_like(mod.weight) + 0.5)
                mod.bias.copy_(torch.randn_like(mod.bias))
            if isinstance(mod, nn.PReLU):
                mod.weight.copy_(torch.rand_like(mod.weight))


def write_case(name, code, m, x, seed):
    os.makedirs(os.path.join(HERE, "numerics"), exist_ok=True)
    with torch.no_grad():
        y = m(x)
    tensors = [("input", x)]
    for k, v in m.state_dict().items():
        if v.dtype.is_floating_point:
            tensors.append((k, v))
    tensors.append(("output", y))
    blob, meta, off = b"", [], 0
    for k, v in tensors:
        a = v.detach().contiguous().numpy().astype("<f4")
        meta.append({"name": k, "shape": list(a.shape), "offset_bytes": off, "count": int(a.size)})
        blob += a.tobytes()
        off += 4 * a.size
    hdr = {"name": name, "op": code.split("(")[0].replace("nn.", ""), "code": code,
           "dtype": "float32", "byte_order": "little", "data_file": name + ".bin",
           "tensors": meta, "total_bytes": off,
           "suggested_tolerance": {"abs": 1e-4, "rel": 1e-4}, "torch_seed": seed,
           "versions": VERSIONS}
    with open(os.path.join(HERE, "numerics", name + ".bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(HERE, "numerics", name + ".json"), "w") as f:
        json.dump(hdr, f, indent=1)
    return hdr


# ---- ONNX exports of modules that use ONNX-only ops ----------------------

class Fn(nn.Module):
    def __init__(self, f, mods=None):
        super().__init__()
        self.f = f
        self.m = nn.ModuleList(mods or [])

    def forward(self, x):
        return self.f(x, self.m)


ONNX = [
    ("resize_nearest_x2", lambda x, m: F.interpolate(x, scale_factor=2, mode="nearest"), [1, 2, 3, 4]),
    ("resize_nearest_size", lambda x, m: F.interpolate(x, size=(5, 7), mode="nearest"), [1, 2, 3, 4]),
    ("resize_bilinear", lambda x, m: F.interpolate(x, scale_factor=2, mode="bilinear"), [1, 2, 3, 4]),
    ("resize_bilinear_ac", lambda x, m: F.interpolate(x, size=(5, 9), mode="bilinear",
                                                      align_corners=True), [1, 2, 3, 4]),
    ("resize_bicubic", lambda x, m: F.interpolate(x, scale_factor=2, mode="bicubic"), [1, 2, 3, 4]),
    ("pad_reflect", lambda x, m: F.pad(x, (1, 2, 2, 1), mode="reflect"), [1, 2, 4, 5]),
    ("pad_replicate", lambda x, m: F.pad(x, (2, 0, 1, 1), mode="replicate"), [1, 2, 4, 5]),
    ("pad_constant", lambda x, m: F.pad(x, (1, 1, 0, 2), value=0.25), [1, 2, 4, 5]),
    ("view_gemm", lambda x, m: m[0](x.view(x.size(0), -1)), [2, 3, 2, 2], [nn.Linear(12, 5)]),
    ("matmul_nobias", lambda x, m: m[0](x), [2, 3, 6], [nn.Linear(6, 4, bias=False)]),
    ("permute", lambda x, m: x.permute(0, 2, 3, 1).contiguous() * 2.0, [1, 2, 3, 4]),
    ("slice_step", lambda x, m: x[:, :, 1:5, ::2] - 1.0, [1, 2, 6, 7]),
    ("gather_channel", lambda x, m: x[:, 1] + x[:, 2], [2, 3, 4, 5]),
    ("split_chunks", lambda x, m: torch.cat(list(torch.chunk(x, 3, dim=1))[::-1], 1), [1, 6, 2, 3]),
    ("reduce_mean", lambda x, m: x.mean((2, 3), keepdim=True) * x, [2, 3, 4, 5]),
    ("reduce_sum_max", lambda x, m: x.sum(1) + x.amax(1), [2, 3, 4, 5]),
    ("matmul_batched", lambda x, m: torch.matmul(x, x.transpose(-1, -2)), [2, 3, 4, 5]),
    ("clip_hardsigmoid", lambda x, m: torch.clamp(x, -0.5, 0.8) + F.hardsigmoid(x), [2, 3, 4]),
    ("softmax_axis1", lambda x, m: torch.softmax(x, 1), [2, 3, 4, 5]),
    ("prelu_leaky", lambda x, m: m[0](x) + F.leaky_relu(x, 0.1) + F.elu(x), [1, 3, 4, 4],
     [nn.PReLU(3)]),
    ("instancenorm_affine", lambda x, m: m[0](x), [2, 3, 4, 5], [nn.InstanceNorm2d(3, affine=True)]),
    ("arith_consts", lambda x, m: (x * 2.0 + 1.0) / 3.0 - torch.maximum(x, x * 0.5), [2, 3, 4]),
    ("pools", lambda x, m: m[0](x) + m[1](x), [1, 2, 8, 7],
     [nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), nn.AvgPool2d(3, 2, padding=1, count_include_pad=False,
                                                        ceil_mode=True)]),
    ("global_pool_flatten", lambda x, m: torch.flatten(m[0](x), 1), [2, 3, 4, 5],
     [nn.AdaptiveAvgPool2d(1)]),
    ("convT_outpad", lambda x, m: m[0](x), [1, 2, 3, 4],
     [nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)]),
    ("unsqueeze_squeeze", lambda x, m: (x.unsqueeze(1) * 3.0).squeeze(1), [2, 3, 4]),
]


# PyTorch exports F.pad at opset >= 11 through a Shape/ConstantOfShape/
# Transpose chain that the checker does not fold; at opset 10 pads is an
# attribute.
OPSET = {"pad_reflect": 10, "pad_replicate": 10, "pad_constant": 10}


def write_onnx(name, f, shape, mods, seed):
    d = os.path.join(HERE, "onnx")
    os.makedirs(d, exist_ok=True)
    m = Fn(f, mods).eval()
    randomise(m)
    x = torch.randn(shape)
    with torch.no_grad():
        y = m(x)
    torch.onnx.export(m, (x,), os.path.join(d, name + ".onnx"), opset_version=OPSET.get(name, 13),
                      input_names=["input"], output_names=["output"])
    np.save(os.path.join(d, name + ".input.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(d, name + ".output.npy"), y.numpy().astype("<f4"))


def main():
    index = []
    for i, case in enumerate(MODULES):
        name, code, shape = case[:3]
        seed = 7000 + i
        torch.manual_seed(seed)
        m = eval(code).eval()
        randomise(m)
        x = torch.randn(shape)
        hdr = write_case(name, code, m, x, seed)
        index.append({"name": name, "op": hdr["op"], "code": code, "input_shape": shape,
                      "header": name + ".json", "data": name + ".bin"})
    with open(os.path.join(HERE, "numerics", "index.json"), "w") as f:
        json.dump({"cases": index, "versions": VERSIONS}, f, indent=1)
    onames = []
    for i, case in enumerate(ONNX):
        name, f, shape = case[:3]
        mods = case[3] if len(case) > 3 else None
        torch.manual_seed(8000 + i)
        write_onnx(name, f, shape, mods, 8000 + i)
        onames.append(name)
    with open(os.path.join(HERE, "onnx", "index.json"), "w") as fh:
        json.dump({"cases": onames, "versions": VERSIONS, "opset": 13, "opset_overrides": OPSET},
                  fh, indent=1)


if __name__ == "__main__":
    main()

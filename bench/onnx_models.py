#!/usr/bin/python3
"""ONNX models for the check-speed comparison (bench/check_speed.py) and the
ONNX Runtime comparison of bench/bench.c.

    /usr/bin/python3 bench/onnx_models.py [--batch N] DIR [resnet18] [resnet50] [mobilenet_v2] [vgg16]

writes DIR/NAME.onnx (torchvision ResNet-18, ResNet-50 about 102 MB,
MobileNetV2, VGG-16 about 553 MB), the weights inside the file (no external
data), random weights (weights=None, seeded) with BatchNorm statistics and
affine parameters randomised (so that a wrong normalisation would show),
eval mode, opset 13, input Nx3x224x224 (batch 1 unless --batch; a batch N
other than 1 is written as DIR/NAME_bN.onnx). The files are not committed:
they are made again wherever the comparison runs.

Needs python3-torch, python3-torchvision and python3-onnx (Debian 12:
torch 1.13, torchvision 0.14, onnx 1.12).
"""
import os
import sys

import torch
import torchvision

MODELS = {
    "resnet18": torchvision.models.resnet18,
    "resnet50": torchvision.models.resnet50,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
    "vgg16": torchvision.models.vgg16,
}


def export(name, path, batch):
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n) * 0.1)
            m.running_var.copy_(torch.rand(n) + 0.5)
            m.weight.data.copy_(torch.rand(n) + 0.5)
            m.bias.data.copy_(torch.randn(n) * 0.1)
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
    print("%s: %d bytes" % (path, os.path.getsize(path)))


def main(argv):
    batch = 1
    if len(argv) > 2 and argv[1] == "--batch":
        batch = int(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    names = argv[2:] or sorted(MODELS)
    os.makedirs(out, exist_ok=True)
    for n in names:
        if n not in MODELS:
            sys.stderr.write("unknown model %s (known: %s)\n" % (n, ", ".join(sorted(MODELS))))
            return 2
        export(n, os.path.join(out, n + (".onnx" if batch == 1 else "_b%d.onnx" % batch)), batch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

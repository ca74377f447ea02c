#!/usr/bin/python3
"""ONNX models for the check-speed comparison (bench/check_speed.sh).

    /usr/bin/python3 bench/onnx_models.py DIR [resnet50] [vgg16]

writes DIR/resnet50.onnx (torchvision ResNet-50, about 102 MB) and
DIR/vgg16.onnx (torchvision VGG-16, about 553 MB), both with the weights
inside the file (no external data), random weights (weights=None, seeded),
eval mode, opset 13, input 1x3x224x224. The files are not committed: they
are made again wherever the comparison runs.

Needs python3-torch, python3-torchvision and python3-onnx (Debian 12:
torch 1.13, torchvision 0.14, onnx 1.12).
"""
import os
import sys

import torch
import torchvision

MODELS = {
    "resnet50": torchvision.models.resnet50,
    "vgg16": torchvision.models.vgg16,
}


def export(name, path):
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
    print("%s: %d bytes" % (path, os.path.getsize(path)))


def main(argv):
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
        export(n, os.path.join(out, n + ".onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Writes resnet50.cnn: torchvision's resnet50 (v1.5, stride on the 3x3 conv)
as a .cnn spec, with torchvision's module names. Run from this folder."""

lines = ["# torchvision.models.resnet50 as a .cnn spec (written by gen_resnet50.py)",
         "input: [1, 3, 224, 224]",
         "conv1 = Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)",
         "bn1 = BatchNorm2d(64)",
         "relu = ReLU(inplace=True)",
         "maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)"]
prev, inplanes = "maxpool", 64
for li, (planes, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
    for b in range(blocks):
        p = f"layer{li}.{b}"
        s = stride if b == 0 else 1
        width, out = planes, planes * 4
        lines += [f"{p}.conv1 = Conv2d({inplanes}, {width}, kernel_size=1, bias=False)({prev})",
                  f"{p}.bn1 = BatchNorm2d({width})",
                  f"{p}.relu1 = ReLU(inplace=True)",
                  f"{p}.conv2 = Conv2d({width}, {width}, kernel_size=3, stride={s}, padding=1, bias=False)",
                  f"{p}.bn2 = BatchNorm2d({width})",
                  f"{p}.relu2 = ReLU(inplace=True)",
                  f"{p}.conv3 = Conv2d({width}, {out}, kernel_size=1, bias=False)",
                  f"{p}.bn3 = BatchNorm2d({out})"]
        skip = prev
        if s != 1 or inplanes != out:
            lines += [f"{p}.downsample.0 = Conv2d({inplanes}, {out}, kernel_size=1, stride={s}, bias=False)({prev})",
                      f"{p}.downsample.1 = BatchNorm2d({out})"]
            skip = f"{p}.downsample.1"
        lines += [f"{p}.add = add({p}.bn3, {skip})",
                  f"{p}.relu3 = ReLU(inplace=True)"]
        prev, inplanes = f"{p}.relu3", out
lines += [f"avgpool = AdaptiveAvgPool2d((1, 1))({prev})",
          "flatten = Flatten(1)",
          "fc = Linear(2048, 1000)"]
open("resnet50.cnn", "w").write("\n".join(lines) + "\n")

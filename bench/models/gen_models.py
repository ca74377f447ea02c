#!/usr/bin/env python3
"""Writes resnet18.cnn and mobilenet_v2.cnn: torchvision's resnet18 and
mobilenet_v2 (torchvision 0.14, weights=None) as .cnn specs with
torchvision's module names, so that a PyTorch state_dict maps onto them
name for name. ResNet-50 is tests/oracle/runtime/resnet50.cnn (written by
tests/oracle/runtime/gen_resnet50.py the same way). Run from this folder;
bench/torch_models.py holds the same three networks in torch.nn and
`make bench` checks that both give the same output on the same weights."""


def resnet18():
    lines = ["# torchvision.models.resnet18 as a .cnn spec (written by gen_models.py)",
             "input: [1, 3, 224, 224]",
             "conv1 = Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)",
             "bn1 = BatchNorm2d(64)",
             "relu = ReLU(inplace=True)",
             "maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)"]
    prev, inplanes = "maxpool", 64
    for li, (planes, blocks, stride) in enumerate([(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)], 1):
        for b in range(blocks):
            p = f"layer{li}.{b}"
            s = stride if b == 0 else 1
            lines += [f"{p}.conv1 = Conv2d({inplanes}, {planes}, kernel_size=3, stride={s}, padding=1, bias=False)({prev})",
                      f"{p}.bn1 = BatchNorm2d({planes})",
                      f"{p}.relu1 = ReLU(inplace=True)",
                      f"{p}.conv2 = Conv2d({planes}, {planes}, kernel_size=3, stride=1, padding=1, bias=False)",
                      f"{p}.bn2 = BatchNorm2d({planes})"]
            skip = prev
            if s != 1 or inplanes != planes:
                lines += [f"{p}.downsample.0 = Conv2d({inplanes}, {planes}, kernel_size=1, stride={s}, bias=False)({prev})",
                          f"{p}.downsample.1 = BatchNorm2d({planes})"]
                skip = f"{p}.downsample.1"
            lines += [f"{p}.add = add({p}.bn2, {skip})",
                      f"{p}.relu2 = ReLU(inplace=True)"]
            prev, inplanes = f"{p}.relu2", planes
    lines += [f"avgpool = AdaptiveAvgPool2d((1, 1))({prev})",
              "flatten = Flatten(1)",
              "fc = Linear(512, 1000)"]
    return lines


def mobilenet_v2():
    lines = ["# torchvision.models.mobilenet_v2 as a .cnn spec (written by gen_models.py)",
             "input: [1, 3, 224, 224]",
             "features.0.0 = Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False)",
             "features.0.1 = BatchNorm2d(32)",
             "features.0.2 = ReLU6(inplace=True)"]
    prev, inp, idx = "features.0.2", 32, 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(inp * t))
            p = f"features.{idx}.conv"
            k = 0
            first = f"({prev})"
            if t != 1:
                lines += [f"{p}.{k}.0 = Conv2d({inp}, {hidden}, kernel_size=1, stride=1, bias=False){first}",
                          f"{p}.{k}.1 = BatchNorm2d({hidden})",
                          f"{p}.{k}.2 = ReLU6(inplace=True)"]
                k, first = k + 1, ""
            lines += [f"{p}.{k}.0 = Conv2d({hidden}, {hidden}, kernel_size=3, stride={stride}, padding=1, groups={hidden}, bias=False){first}",
                      f"{p}.{k}.1 = BatchNorm2d({hidden})",
                      f"{p}.{k}.2 = ReLU6(inplace=True)",
                      f"{p}.{k + 1} = Conv2d({hidden}, {c}, kernel_size=1, stride=1, bias=False)",
                      f"{p}.{k + 2} = BatchNorm2d({c})"]
            out = f"{p}.{k + 2}"
            if stride == 1 and inp == c:
                lines.append(f"features.{idx}.add = add({out}, {prev})")
                out = f"features.{idx}.add"
            prev, inp, idx = out, c, idx + 1
    lines += [f"features.{idx}.0 = Conv2d({inp}, 1280, kernel_size=1, stride=1, bias=False)({prev})",
              f"features.{idx}.1 = BatchNorm2d(1280)",
              f"features.{idx}.2 = ReLU6(inplace=True)",
              "avgpool = AdaptiveAvgPool2d((1, 1))",
              "flatten = Flatten(1)",
              "classifier.0 = Dropout(p=0.2)",
              "classifier.1 = Linear(1280, 1000)"]
    return lines


if __name__ == "__main__":
    for name, f in (("resnet18", resnet18), ("mobilenet_v2", mobilenet_v2)):
        with open(f"{name}.cnn", "w") as fh:
            fh.write("\n".join(f()) + "\n")

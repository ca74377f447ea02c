#!/usr/bin/python3
"""PyTorch side of the convkit benchmark (bench/README.md).

ResNet-18, ResNet-50 and MobileNetV2 written with torch.nn exactly as
torchvision 0.14 builds them (same modules, same module names, so that a
state_dict is the same one torchvision would have): this interpreter has
torch 1.13 but no torchvision. Run in eval mode under torch.no_grad().

Used as a child process of bench/bench.c, which sends one command per line
on stdin and reads one line back per command, so that the C harness can
interleave PyTorch runs with its own:

  load NAME                    build NAME (seeded), randomise BatchNorm
                               statistics; -> "ok PARAMS"
  export NAME PATH             float parameters and buffers of the
                               state_dict to PATH (format below); -> "ok N"
  forward NAME IN.npy OUT.npy  one forward pass on IN, output to OUT; -> "ok"
  time NAME BATCH THREADS      torch.set_num_threads(THREADS), one untimed
                               pass, one timed pass on a seeded input of
                               batch BATCH at 224x224; -> "ok MS"
  quit

Export format (little endian): b"CKW1", u32 count, then per tensor: u32
name length, name bytes, u32 rank, rank x i64 dims, float32 data.

`/usr/bin/python3 bench/torch_models.py` alone prints the parameter counts
and one latency per network as a quick check.
"""
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


# ---- ResNet (torchvision.models.resnet, v1.5: stride on the 3x3) ----------

def conv3x3(inp, out, stride=1):
    return nn.Conv2d(inp, out, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(inp, out, stride=1):
    return nn.Conv2d(inp, out, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---- MobileNetV2 (torchvision.models.mobilenetv2) --------------------------

def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    def __init__(self, inp, out, kernel_size=3, stride=1, groups=1):
        padding = (kernel_size - 1) // 2
        super().__init__(nn.Conv2d(inp, out, kernel_size, stride, padding, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
        layers += [Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                   nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
                   nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0, round_nearest=8, dropout=0.2):
        super().__init__()
        input_channel = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2)]
        for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                           [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel,
                                                 s if i == 0 else 1, expand_ratio=t))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(torch.flatten(x, 1))


BUILDERS = {
    "resnet18": lambda: ResNet(BasicBlock, [2, 2, 2, 2]),
    "resnet50": lambda: ResNet(Bottleneck, [3, 4, 6, 3]),
    "mobilenet_v2": lambda: MobileNetV2(),
}


def build(name):
    torch.manual_seed(0)
    m = BUILDERS[name]()
    # trained-looking BatchNorm statistics, so that a wrong normalisation
    # shows in the output comparison (the defaults 0/1/1/0 are an identity)
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            mod.weight.data.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
            mod.bias.data.copy_(torch.randn(c, generator=g) * 0.1)
    return m.eval()


def export(model, path):
    sd = [(k, v) for k, v in model.state_dict().items() if v.dtype == torch.float32]
    with open(path, "wb") as f:
        f.write(b"CKW1" + struct.pack("<I", len(sd)))
        for k, v in sd:
            name = k.encode()
            f.write(struct.pack("<I", len(name)) + name + struct.pack("<I", v.dim()))
            f.write(struct.pack(f"<{v.dim()}q", *v.shape))
            f.write(v.detach().contiguous().numpy().astype("<f4").tobytes())
    return len(sd)


def serve():
    models, inputs = {}, {}
    out = sys.stdout
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        try:
            if a[0] == "quit":
                break
            if a[0] == "load":
                models[a[1]] = build(a[1])
                n = sum(p.numel() for p in models[a[1]].parameters())
                out.write(f"ok {n}\n")
            elif a[0] == "export":
                out.write(f"ok {export(models[a[1]], a[2])}\n")
            elif a[0] == "forward":
                x = torch.from_numpy(np.load(a[2]).astype(np.float32))
                with torch.no_grad():
                    y = models[a[1]](x)
                np.save(a[3], y.numpy().astype("<f4"))
                out.write("ok\n")
            elif a[0] == "time":
                name, batch, threads = a[1], int(a[2]), int(a[3])
                torch.set_num_threads(threads)
                if batch not in inputs:
                    inputs[batch] = torch.randn(batch, 3, 224, 224,
                                                generator=torch.Generator().manual_seed(batch))
                x = inputs[batch]
                with torch.no_grad():
                    models[name](x)  # untimed: settles the thread pool after a change
                    t0 = time.perf_counter()
                    models[name](x)
                    ms = (time.perf_counter() - t0) * 1e3
                out.write(f"ok {ms:.6f}\n")
            else:
                out.write(f"error unknown command {a[0]}\n")
        except Exception as e:  # the harness reports it; keep serving
            out.write(f"error {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}\n")
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    else:
        print(f"torch {torch.__version__}")
        for name in BUILDERS:
            m = build(name)
            n = sum(p.numel() for p in m.parameters())
            x = torch.randn(1, 3, 224, 224)
            with torch.no_grad():
                for _ in range(3):
                    m(x)
                t0 = time.perf_counter()
                m(x)
            print(f"{name}: {n} parameters, {(time.perf_counter() - t0) * 1e3:.1f} ms "
                  f"(batch 1, {torch.get_num_threads()} threads)")

"""The model zoo that convkit.check is tested against (see torch_truth.py).

Every entry is a ZooEntry(name, build, shapes): `build()` returns a fresh
nn.Module (random weights, nothing downloaded) and `shapes` the input sizes to
probe. The sizes sit on both sides of each model's boundaries: the usual
size, the smallest valid size and the one below it, odd sizes, and for the
broken classics the size that breaks them. Comments give PyTorch's own answer
(torch 1.13 / torchvision 0.14), established by running torch_truth.truth.

The architectures written here are our own, from the published descriptions
of the networks (layer sizes, strides, paddings); none is copied from a
repository.

    /usr/bin/python3 python/tests/zoo.py        # list the zoo: models x sizes
"""
import collections

import torch
import torch.nn as nn
import torch.nn.functional as F

ZooEntry = collections.namedtuple("ZooEntry", "name build shapes")


# ---------------------------------------------------------------------------
# torchvision 0.14
# ---------------------------------------------------------------------------
def _tv(fn_name, **kw):
    def build():
        import torchvision.models as models
        return getattr(models, fn_name)(weights=None, **kw)
    build.__name__ = "torchvision.models." + fn_name
    return build


def _seg(fn_name):
    def build():
        import torchvision.models.segmentation as seg
        return getattr(seg, fn_name)(weights=None, weights_backbone=None, aux_loss=False)
    build.__name__ = "torchvision.models.segmentation." + fn_name
    return build


def _sq(*sizes, c=3):
    return [(1, c, s, s) for s in sizes]


def torchvision_models():
    """torchvision classifiers and segmentation models, weights=None.
    Smallest square input PyTorch accepts (scanned 0..79): 1 for the resnets,
    mobilenets, efficientnet, shufflenet, regnet, mnasnet and the three
    segmentation models; googlenet 15, squeezenet1_0 21, densenet121 29,
    vgg11 32, alexnet 63, inception_v3 75."""
    return [
        # 0: conv1's 7x7 kernel does not fit the 6-pixel padded input (output_too_small)
        ZooEntry("resnet18", _tv("resnet18"),
                 _sq(224, 64, 33, 1, 0) + [(1, 3, 48, 17), (1, 1, 64, 64), (2, 3, 32, 32)]),
        ZooEntry("resnet50", _tv("resnet50"), _sq(224, 32, 17, 1)),
        ZooEntry("resnext50_32x4d", _tv("resnext50_32x4d"), _sq(64, 31, 1)),
        # 28: the last transition's AvgPool2d(2) gets 1x1
        ZooEntry("densenet121", _tv("densenet121"), _sq(224, 29, 28, 37) + [(1, 3, 64, 28)]),
        ZooEntry("googlenet", _tv("googlenet", aux_logits=False, init_weights=False),
                 _sq(224, 15, 14, 31)),
        ZooEntry("inception_v3", _tv("inception_v3", aux_logits=False, init_weights=False),
                 _sq(299, 75, 74, 107) + [(1, 3, 299, 74)]),
        ZooEntry("mobilenet_v2", _tv("mobilenet_v2"), _sq(224, 33, 1)),
        ZooEntry("mobilenet_v3_small", _tv("mobilenet_v3_small"), _sq(224, 15, 1, 0)),
        ZooEntry("mobilenet_v3_large", _tv("mobilenet_v3_large"), _sq(64, 33, 1)),
        ZooEntry("efficientnet_b0", _tv("efficientnet_b0"), _sq(224, 31, 1)),
        ZooEntry("shufflenet_v2_x1_0", _tv("shufflenet_v2_x1_0"), _sq(224, 33, 1)),
        ZooEntry("regnet_y_400mf", _tv("regnet_y_400mf"), _sq(64, 29, 1)),
        ZooEntry("mnasnet0_5", _tv("mnasnet0_5"), _sq(64, 37, 1)),
        ZooEntry("squeezenet1_0", _tv("squeezenet1_0"), _sq(224, 21, 20, 45)),
        # 31: the fifth MaxPool2d(2) (features.20) gets 1x1
        ZooEntry("vgg11", _tv("vgg11"), _sq(224, 32, 31, 33) + [(1, 3, 32, 31)]),
        # 62: features.12 (the third MaxPool2d(3, 2)) gets 2x2
        ZooEntry("alexnet", _tv("alexnet"), _sq(224, 63, 62, 127) + [(1, 3, 224, 62)]),
        ZooEntry("fcn_resnet50", _seg("fcn_resnet50"), _sq(64, 33, 1)),
        ZooEntry("deeplabv3_mobilenet_v3_large", _seg("deeplabv3_mobilenet_v3_large"),
                 _sq(128, 33, 1)),
        ZooEntry("lraspp_mobilenet_v3_large", _seg("lraspp_mobilenet_v3_large"),
                 _sq(128, 33, 1) + [(1, 3, 64, 47)]),
    ]


# ---------------------------------------------------------------------------
# U-Nets
# ---------------------------------------------------------------------------
class DoubleConv(nn.Sequential):
    """Two (conv 3x3 -> BatchNorm -> ReLU); padding 1 keeps the size, padding 0
    (the original U-Net) takes 4 pixels off each axis."""

    def __init__(self, cin, cout, padding=1):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=padding, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=padding, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    def __init__(self, cin, cout, padding=1):
        super().__init__(nn.MaxPool2d(2), DoubleConv(cin, cout, padding))


class UpTranspose(nn.Module):
    """ConvTranspose2d(k=2, s=2) doubles the size, then cat with the skip.
    align="output_size" asks the transposed conv for the skip's size (2n or
    2n+1 are both reachable); align="none" does nothing, so an odd skip is
    one pixel larger than the upsampled tensor and torch.cat fails."""

    def __init__(self, cin, cout, align):
        super().__init__()
        self.align = align
        self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x, skip):
        if self.align == "output_size":
            x = self.up(x, output_size=skip.shape[-2:])
        else:
            x = self.up(x)
        x = torch.cat([skip, x], dim=1)
        return self.conv(x)


class UpPad(nn.Module):
    """Bilinear nn.Upsample, then F.pad the upsampled tensor to the skip's size."""

    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x, skip):
        x = self.up(x)
        diffY = skip.size()[2] - x.size()[2]
        diffX = skip.size()[3] - x.size()[3]
        x = F.pad(x, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([skip, x], dim=1)
        return self.conv(x)


class UpInterp(nn.Module):
    """F.interpolate straight to the skip's spatial size."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = DoubleConv(cin, cout)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
        x = torch.cat([skip, x], dim=1)
        return self.conv(x)


class UNet(nn.Module):
    """Four MaxPool2d(2) levels, base channels `base`, decoder up1 (deepest) to
    up4. The decoder is chosen by `up`:
      "transpose"  ConvTranspose2d(..., output_size=skip size): any size >= 16
      "offbyone"   ConvTranspose2d without alignment: H, W multiples of 16 only
      "bilinear"   up1, up2 Upsample + F.pad; up3, up4 F.interpolate(size=...)
    Bilinear decoders carry the skip's channels through (no halving conv), so
    every level concatenates c + c channels."""

    def __init__(self, up="transpose", in_channels=3, num_classes=2, base=8):
        super().__init__()
        c = [base, base * 2, base * 4, base * 8, base * 16]
        self.inc = DoubleConv(in_channels, c[0])
        self.down1 = Down(c[0], c[1])
        self.down2 = Down(c[1], c[2])
        self.down3 = Down(c[2], c[3])
        if up == "bilinear":
            self.down4 = Down(c[3], c[3])
            self.up1 = UpPad(c[4], c[2])
            self.up2 = UpPad(c[3], c[1])
            self.up3 = UpInterp(c[2], c[0])
            self.up4 = UpInterp(c[1], c[0])
        else:
            align = "output_size" if up == "transpose" else "none"
            self.down4 = Down(c[3], c[4])
            self.up1 = UpTranspose(c[4], c[3], align)
            self.up2 = UpTranspose(c[3], c[2], align)
            self.up3 = UpTranspose(c[2], c[1], align)
            self.up4 = UpTranspose(c[1], c[0], align)
        self.outc = nn.Conv2d(c[0], num_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


class UpCrop(nn.Module):
    """Original U-Net decoder step: ConvTranspose2d(k=2, s=2) halving the
    channels, centre-crop the (larger) encoder map to the upsampled size by
    slicing, cat, two unpadded 3x3 convs."""

    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, kernel_size=2, stride=2)
        self.conv = DoubleConv(cin, cout, padding=0)

    def forward(self, x, skip):
        x = self.up(x)
        h, w = x.size(2), x.size(3)
        top = (skip.size(2) - h) // 2
        left = (skip.size(3) - w) // 2
        skip = skip[:, :, top:top + h, left:left + w]
        return self.conv(torch.cat([skip, x], dim=1))


class UNetValid(nn.Module):
    """The 2015 U-Net layout with unpadded convolutions (572x572 -> 388x388),
    channels scaled down to `base` at the top level."""

    def __init__(self, in_channels=1, num_classes=2, base=4):
        super().__init__()
        c = [base, base * 2, base * 4, base * 8, base * 16]
        self.inc = DoubleConv(in_channels, c[0], padding=0)
        self.down1 = Down(c[0], c[1], padding=0)
        self.down2 = Down(c[1], c[2], padding=0)
        self.down3 = Down(c[2], c[3], padding=0)
        self.down4 = Down(c[3], c[4], padding=0)
        self.up1 = UpCrop(c[4], c[3])
        self.up2 = UpCrop(c[3], c[2])
        self.up3 = UpCrop(c[2], c[1])
        self.up4 = UpCrop(c[1], c[0])
        self.outc = nn.Conv2d(c[0], num_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


# ---------------------------------------------------------------------------
# GANs
# ---------------------------------------------------------------------------
class DCGANGenerator(nn.Module):
    """Latent [N, nz, 1, 1] -> 4x4 (k4 s1 p0) -> 8 -> 16 -> 32 -> 64 (k4 s2 p1)."""

    def __init__(self, nz=100, ngf=16, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class DCGANDiscriminator(nn.Module):
    """64x64 -> 32 -> 16 -> 8 -> 4 (k4 s2 p1) -> 1x1 (k4 s1 p0), then
    view(-1, 1).squeeze(1): one score per image at 64..79; at 80 and above the
    map is larger than 1x1 and the view silently turns it into more scores."""

    def __init__(self, nc=3, ndf=16):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


class SkipBlock(nn.Module):
    """One level of the pix2pix encoder-decoder generator: down (conv k4 s2 p1),
    the inner levels, up (transposed conv k4 s2 p1), and except at the outermost
    level the block's input concatenated with what comes back up.
    InstanceNorm2d (no running stats) normalises over H*W, so it refuses a 1x1
    map even in eval mode."""

    def __init__(self, outer, inner, in_channels=None, inner_block=None,
                 outermost=False, innermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        in_channels = outer if in_channels is None else in_channels
        conv = nn.Conv2d(in_channels, inner, kernel_size=4, stride=2, padding=1, bias=True)
        if outermost:
            self.down = nn.Sequential(conv)
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            self.down = nn.Sequential(nn.LeakyReLU(0.2, True), conv)
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner, outer, 4, 2, 1),
                  nn.InstanceNorm2d(outer)]
        else:
            self.down = nn.Sequential(nn.LeakyReLU(0.2, True), conv, nn.InstanceNorm2d(inner))
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1),
                  nn.InstanceNorm2d(outer)]
            if dropout:
                up.append(nn.Dropout(0.5))
        self.inner = inner_block
        self.up = nn.Sequential(*up)

    def forward(self, x):
        y = self.down(x)
        if self.inner is not None:
            y = self.inner(y)
        y = self.up(y)
        if self.outermost:
            return y
        return torch.cat([x, y], 1)


class Pix2PixGenerator(nn.Module):
    """The 256x256 pix2pix U-Net generator: 8 stride-2 levels down to 1x1."""

    def __init__(self, in_channels=3, out_channels=3, ngf=8):
        super().__init__()
        b = SkipBlock(ngf * 8, ngf * 8, innermost=True)
        for _ in range(3):
            b = SkipBlock(ngf * 8, ngf * 8, inner_block=b, dropout=True)
        b = SkipBlock(ngf * 4, ngf * 8, inner_block=b)
        b = SkipBlock(ngf * 2, ngf * 4, inner_block=b)
        b = SkipBlock(ngf, ngf * 2, inner_block=b)
        self.net = SkipBlock(out_channels, ngf, in_channels=in_channels, inner_block=b,
                             outermost=True)

    def forward(self, x):
        return self.net(x)


class PatchGAN(nn.Module):
    """The 70x70 PatchGAN: three k4 s2 p1 convs, a k4 s1 p1 conv, a k4 s1 p1
    conv to one channel (256x256 -> 30x30). It sees the input image and the
    output image concatenated (6 channels)."""

    def __init__(self, in_channels=6, ndf=16):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1),
            nn.InstanceNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1),
            nn.InstanceNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 1, 1),
            nn.InstanceNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 1),
        )

    def forward(self, x):
        return self.model(x)


# ---------------------------------------------------------------------------
# 1-D and 3-D
# ---------------------------------------------------------------------------
class AudioCNN(nn.Module):
    """Raw 16 kHz waveform [N, 1, L]: an 80-tap stride-16 conv, three 3-tap
    convs, a MaxPool1d(4) after each, global average pool, Linear."""

    def __init__(self, num_classes=10, channels=32):
        super().__init__()
        c = channels
        self.conv1 = nn.Conv1d(1, c, kernel_size=80, stride=16)
        self.bn1 = nn.BatchNorm1d(c)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(c, c, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(c)
        self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(c, 2 * c, kernel_size=3)
        self.bn3 = nn.BatchNorm1d(2 * c)
        self.pool3 = nn.MaxPool1d(4)
        self.conv4 = nn.Conv1d(2 * c, 2 * c, kernel_size=3)
        self.bn4 = nn.BatchNorm1d(2 * c)
        self.pool4 = nn.MaxPool1d(4)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * c, num_classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = self.pool3(F.relu(self.bn3(self.conv3(x))))
        x = self.pool4(F.relu(self.bn4(self.conv4(x))))
        return self.fc(self.flatten(self.gap(x)))


class VideoCNN(nn.Module):
    """Clips [N, 3, T, H, W]: three Conv3d(3x3x3, padding 1) + BatchNorm3d +
    ReLU, pooling (1,2,2) then 2 then 2, global pool, Linear. Needs T >= 4
    and H, W >= 8."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(3, 16, kernel_size=3, padding=1),
            nn.BatchNorm3d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=(1, 2, 2)),
            nn.Conv3d(16, 32, kernel_size=3, padding=1),
            nn.BatchNorm3d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=2),
            nn.Conv3d(32, 64, kernel_size=3, padding=1),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=2),
        )
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


# ---------------------------------------------------------------------------
# small classics and mistakes
# ---------------------------------------------------------------------------
class LeNet5(nn.Module):
    """LeNet-5 for 32x32 grayscale: fc1 = Linear(16 * 5 * 5, 120) fits only
    inputs of 32..35 pixels (MNIST's 28x28 and any 64x64 break it at fc1)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class RGBNet(nn.Module):
    """A small RGB classifier: its first Conv2d(3, ...) refuses grayscale
    (1 channel) and RGBA (4 channels), and its BatchNorm2d refuses an image
    passed without the batch dimension."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class TwoPath(nn.Module):
    """Concatenates a stride-2 conv (ceil(n/2)) with an average-pooled 1x1 conv
    (floor(n/2)): the two disagree at odd sizes."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.proj = nn.Conv2d(c, c, 1)

    def forward(self, x):
        a = F.relu(self.conv(x))
        b = self.proj(F.avg_pool2d(x, 2))
        return torch.cat([a, b], dim=1)


class FunctionalNet(nn.Module):
    """A classifier written in functional style. Valid for H, W in
    {32, 33, 36, 37, 40, 41, 44, 45}: odd H/2 breaks block's cat, and the
    view() head's Linear(32 * 2 * 2) wants a 2x2 map at H/16."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.block = TwoPath(16)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc = nn.Linear(32 + 32 * 2 * 2, num_classes)
        self.head = nn.Linear(32 * 2 * 2, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = self.block(x)
        x = F.relu(x + self.conv2(x))
        x = F.max_pool2d(x, 2)
        g = x.mean((2, 3))
        p = torch.flatten(F.adaptive_avg_pool2d(x, 2), 1)
        y = self.fc(torch.cat([g, p], 1))
        v = F.max_pool2d(x, kernel_size=2)
        v = v.view(v.size(0), -1)
        return y + self.head(v)


class ShapeBranchNet(nn.Module):
    """Control flow on the input's width, which torch.fx cannot trace: inputs
    wider than 32 are pooled once more. The Linear(8 * 8 * 8) then fits square
    inputs of exactly 32 and of 64..71; 33..35 would fit without the extra pool."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        if x.shape[-1] > 32:
            x = F.max_pool2d(x, 2)
        x = F.max_pool2d(x, 4)
        x = torch.flatten(x, 1)
        return self.fc(x)


class ValueBranchNet(nn.Module):
    """Control flow on the data (`if x.sum() > 0`), which torch.fx cannot
    trace. Both branches keep the shape, so PyTorch's answer does not depend
    on the input's values. The unpadded stride-2 stem and MaxPool2d(2) need
    H, W >= 5."""

    def __init__(self, num_classes=4):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2)
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes))

    def forward(self, x):
        x = F.relu(self.stem(x))
        if x.sum() > 0:
            x = self.a(x)
        else:
            x = self.b(x)
        return self.head(self.pool(x))


def custom_models():
    return [
        # any H, W >= 16; 15: down4's MaxPool2d gets 1x1
        ZooEntry("unet_transpose", lambda: UNet("transpose"),
                 _sq(64, 16, 15, 17, 33) + [(1, 3, 48, 37)]),
        ZooEntry("unet_bilinear", lambda: UNet("bilinear"),
                 _sq(64, 16, 15, 17, 33) + [(1, 3, 40, 23)]),
        # H, W multiples of 16; 17 breaks up4's cat, 18 up3's, 20 up2's, 24 up1's
        ZooEntry("unet_offbyone", lambda: UNet("offbyone"),
                 _sq(64, 16, 17, 18, 20, 24) + [(1, 3, 32, 48), (1, 3, 32, 40)]),
        # smallest 188 (-> 4x4); 172..187 break up2's second conv, 156..171
        # up1's second, 140..155 up1's first, 108..139 down4's second
        ZooEntry("unet_valid_crop", UNetValid, _sq(572, 188, 187, 189, 157, 139, c=1)),
        ZooEntry("dcgan_generator", DCGANGenerator,
                 [(1, 100, 1, 1), (1, 100, 2, 2), (1, 100), (1, 128, 1, 1)]),
        ZooEntry("dcgan_discriminator", DCGANDiscriminator,
                 _sq(64, 63, 65, 80, 32) + [(1, 1, 64, 64)]),
        # 128 and 255: an InstanceNorm2d gets 1x1; 258 and 384: a cat is one pixel off
        ZooEntry("pix2pix_generator", Pix2PixGenerator, _sq(256, 257, 258, 128, 255, 384, 512)),
        # smallest 24 (-> 1x1); 16..23: model.9 (InstanceNorm2d) gets 1x1, 8..15: model.6
        ZooEntry("patchgan70", PatchGAN, _sq(256, 70, 24, 23, 31, 15, c=6) + [(1, 3, 256, 256)]),
        # 6848: pool4 gets 4 samples. 3776..6847: pool4 gets 1..3 and PyTorch's
        # MaxPool1d under no_grad returns an empty [1, 64, 0] instead of raising
        # (the record is flagged "degenerate"); 3775: conv4's kernel does not fit
        ZooEntry("audio_cnn1d", AudioCNN,
                 [(1, 1, 16000), (1, 1, 6848), (1, 1, 6847), (1, 1, 3775), (1, 1, 8001),
                  (1, 2, 16000)]),
        ZooEntry("video_cnn3d", VideoCNN,
                 [(1, 3, 8, 32, 32), (1, 3, 4, 8, 8), (1, 3, 3, 32, 32), (1, 3, 8, 7, 7),
                  (1, 3, 9, 33, 17), (1, 3, 16, 64, 64)]),
        ZooEntry("lenet5", LeNet5, _sq(32, 35, 36, 31, 28, 64, 13, c=1) + [(1, 3, 32, 32)]),
        ZooEntry("rgb_net", RGBNet, _sq(32, 2, 1) + [(1, 1, 32, 32), (1, 4, 32, 32), (3, 32, 32)]),
        ZooEntry("functional_net", FunctionalNet,
                 _sq(32, 45, 34, 64, 16, 8, 2) + [(1, 3, 32, 36), (1, 1, 32, 32)]),
        ZooEntry("shape_branch_net", ShapeBranchNet, _sq(32, 35, 36, 48, 64, 71, 72)),
        ZooEntry("value_branch_net", ValueBranchNet, _sq(32, 5, 4, 2)),
    ]


def all_models():
    return torchvision_models() + custom_models()


def get(name):
    for e in all_models():
        if e.name == name:
            return e
    raise KeyError(name)


def cases(names=None):
    """(entry, shape) for every probe, model by model."""
    out = []
    for e in all_models():
        if names and e.name not in names:
            continue
        out.extend((e, tuple(s)) for s in e.shapes)
    return out


if __name__ == "__main__":
    n = 0
    for e in all_models():
        n += len(e.shapes)
        print(f"{e.name:30s} {len(e.shapes):2d}  " + "  ".join("x".join(map(str, s)) for s in e.shapes))
    print(f"{len(all_models())} models, {n} input sizes")

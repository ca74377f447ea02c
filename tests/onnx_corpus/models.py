"""A corpus of real CNN architectures for issue 16, written for convkit from
their published descriptions (the papers' layer tables and hyperparameters;
no code is taken from any repository). Each class is what a user exports
with torch.onnx.export; sweep.py checks convkit against PyTorch on them.

Widths marked "scaled" are divided by the factor given (so that a sweep over
hundreds of input sizes runs in minutes on a CPU); every kernel, stride,
padding, dilation, pooling, normalisation and join is the paper's, so the
shape behaviour, which is what convkit checks, is the paper's.

Each entry of MODELS: name -> (constructor, spatial rank, nominal input
shape, what it exercises).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout, k, s=1, p=0, d=1, act=None):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p, dilation=d, bias=False),
                         nn.BatchNorm2d(cout), act if act is not None else nn.ReLU(inplace=True))


# ---- classifiers -----------------------------------------------------------

class ResNet18(nn.Module):
    """He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition"
    (CVPR 2016), Table 1, 18-layer: conv1 7x7/2 64, 3x3/2 max pool, four
    stages of two basic blocks (3x3, 3x3) with 64, 128, 256, 512 channels,
    the first block of stages 2-4 strided with a 1x1 projection shortcut
    (option B), global average pool, 1000-way fc."""

    class Basic(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.proj = None
            if stride != 1 or cin != cout:
                self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            y = F.relu(self.b1(self.c1(x)))
            y = self.b2(self.c2(y))
            return F.relu(y + (x if self.proj is None else self.proj(x)))

    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [self.Basic(cin, cout, stride), self.Basic(cout, cout, 1)]
            cin = cout
        self.stages = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class GNResNetSE(nn.Module):
    """Wu & He, "Group Normalization" (ECCV 2018): ResNet blocks with
    GroupNorm (32 groups) in place of BatchNorm; each block with the
    squeeze-and-excitation of Hu, Shen, Sun, "Squeeze-and-Excitation
    Networks" (CVPR 2018): global average pool, fc C/16, ReLU, fc C,
    sigmoid, channel-wise scaling. Stages 64-128-256 with strided 3x3
    convolutions; scaled by 2 in width."""

    class Block(nn.Module):
        def __init__(self, cin, cout, stride, g):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.n1 = nn.GroupNorm(g, cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.n2 = nn.GroupNorm(g, cout)
            self.se1 = nn.Linear(cout, max(1, cout // 16))
            self.se2 = nn.Linear(max(1, cout // 16), cout)
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.GroupNorm(g, cout))

        def forward(self, x):
            y = F.relu(self.n1(self.c1(x)))
            y = self.n2(self.c2(y))
            s = y.mean((2, 3))
            s = torch.sigmoid(self.se2(F.relu(self.se1(s))))
            y = y * s[:, :, None, None]
            return F.relu(y + self.short(x))

    def __init__(self, w=32, g=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.GroupNorm(g, w),
                                  nn.ReLU())
        self.b = nn.Sequential(self.Block(w, w, 1, g), self.Block(w, 2 * w, 2, g),
                               self.Block(2 * w, 4 * w, 2, g))
        self.fc = nn.Linear(4 * w, 10)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.b(self.stem(x)), 1).flatten(1))


class MobileNetV2(nn.Module):
    """Sandler et al., "MobileNetV2: Inverted Residuals and Linear
    Bottlenecks" (CVPR 2018), Table 2: conv 3x3/2 32, then bottlenecks
    (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1)
    (6,160,3,2) (6,320,1,1), conv 1x1 1280, global pool, classifier; ReLU6,
    residual where stride 1 and channels agree."""

    class Inverted(nn.Module):
        def __init__(self, cin, cout, stride, t):
            super().__init__()
            h = cin * t
            layers = []
            if t != 1:
                layers += [nn.Conv2d(cin, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6()]
            layers += [nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h),
                       nn.ReLU6(), nn.Conv2d(h, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            self.body = nn.Sequential(*layers)
            self.res = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.body(x) if self.res else self.body(x)

    def __init__(self):
        super().__init__()
        cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
               (6, 160, 3, 2), (6, 320, 1, 1)]
        layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()]
        cin = 32
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(self.Inverted(cin, c, s if i == 0 else 1, t))
                cin = c
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

    def forward(self, x):
        return self.classifier(self.features(x).mean([2, 3]))


class SqueezeNet(nn.Module):
    """Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer
    parameters" (2016), Table 1 (v1.0): conv1 7x7/2 96, max pool 3x3/2,
    fire2-4, max pool, fire5-8, max pool, fire9, dropout, conv10 1x1 1000,
    global average pool. Max pools round up (ceil mode), as the paper's
    Caffe model does; fire = squeeze 1x1 s, expand 1x1 e and 3x3 e
    concatenated."""

    class Fire(nn.Module):
        def __init__(self, cin, s, e):
            super().__init__()
            self.sq = nn.Conv2d(cin, s, 1)
            self.e1 = nn.Conv2d(s, e, 1)
            self.e3 = nn.Conv2d(s, e, 3, padding=1)

        def forward(self, x):
            x = F.relu(self.sq(x))
            return torch.cat([F.relu(self.e1(x)), F.relu(self.e3(x))], 1)

    def __init__(self):
        super().__init__()
        F_ = self.Fire
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
            F_(96, 16, 64), F_(128, 16, 64), F_(128, 32, 128), nn.MaxPool2d(3, 2, ceil_mode=True),
            F_(256, 32, 128), F_(256, 48, 192), F_(384, 48, 192), F_(384, 64, 256),
            nn.MaxPool2d(3, 2, ceil_mode=True), F_(512, 64, 256))
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, 1000, 1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.head(self.features(x)), 1)


class CSPMish(nn.Module):
    """Bochkovskiy, Wang, Liao, "YOLOv4" (2020), CSPDarknet53's stem and
    first cross-stage-partial stage: conv 3x3 32, conv 3x3/2 64, the stage
    splitting into two 1x1 branches, one through a residual unit (1x1, 3x3),
    concatenated and fused by a 1x1; Mish activations (Misra 2019:
    x * tanh(softplus(x))) after batch norm; then conv 3x3/2 128."""

    def __init__(self):
        super().__init__()
        m = nn.Mish
        self.stem = nn.Sequential(conv_bn_relu(3, 32, 3, 1, 1, act=m()),
                                  conv_bn_relu(32, 64, 3, 2, 1, act=m()))
        self.a = conv_bn_relu(64, 64, 1, act=m())
        self.b = conv_bn_relu(64, 64, 1, act=m())
        self.res = nn.Sequential(conv_bn_relu(64, 32, 1, act=m()), conv_bn_relu(32, 64, 3, 1, 1,
                                                                                 act=m()))
        self.b2 = conv_bn_relu(64, 64, 1, act=m())
        self.fuse = conv_bn_relu(128, 64, 1, act=m())
        self.down = conv_bn_relu(64, 128, 3, 2, 1, act=m())

    def forward(self, x):
        x = self.stem(x)
        b = self.b(x)
        b = self.b2(b + self.res(b))
        return self.down(self.fuse(torch.cat([b, self.a(x)], 1)))


# ---- segmentation ---------------------------------------------------------------

class _UNet(nn.Module):
    """The U-Net frame both variants share: five levels of two 3x3
    convolutions (`dbl`), 2x2 max pools down, 2x2 up-convolutions halving
    the channels, the skip joined (`join`) and two 3x3 convolutions up, a
    1x1 output."""

    def __init__(self, dbl, cin, w, classes):
        super().__init__()
        ch = [w, 2 * w, 4 * w, 8 * w, 16 * w]
        self.down = nn.ModuleList([dbl(cin if i == 0 else ch[i - 1], ch[i]) for i in range(5)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(ch[i], ch[i - 1], 2, 2)
                                 for i in range(4, 0, -1)])
        self.dec = nn.ModuleList([dbl(ch[i], ch[i - 1]) for i in range(4, 0, -1)])
        self.out = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            if i < 4:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec, s in zip(self.up, self.dec, reversed(skips)):
            x = dec(self.join(s, up(x)))
        return self.out(x)


class UNetValid(_UNet):
    """Ronneberger, Fischer, Brox, "U-Net" (MICCAI 2015), Figure 1: two 3x3
    unpadded convolutions per level, 2x2 max pool, four levels down; up:
    2x2 up-convolution halving the channels, the skip center-cropped to the
    upsampled size and concatenated, two 3x3 unpadded convolutions; 1x1
    output. The crop offsets are computed from the tensors' sizes. Widths
    scaled by 8 (8 ... 128)."""

    def __init__(self, w=8, classes=2):
        def dbl(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU(), nn.Conv2d(cout, cout, 3),
                                 nn.ReLU())
        super().__init__(dbl, 1, w, classes)

    @staticmethod
    def join(s, x):
        dy = (s.shape[2] - x.shape[2]) // 2
        dx = (s.shape[3] - x.shape[3]) // 2
        return torch.cat([s[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]], x], 1)


class UNetPadded(_UNet):
    """The U-Net of Ronneberger et al. as most reimplementations use it:
    3x3 convolutions padded by 1 with batch norm, four 2x2 max pools, 2x2
    up-convolutions, and where an odd size lost a row, the upsampled map
    zero-padded (F.pad by the size difference split in two) to the skip's
    size before concatenation. Widths scaled by 8."""

    def __init__(self, w=8, classes=2):
        def dbl(cin, cout):
            return nn.Sequential(conv_bn_relu(cin, cout, 3, 1, 1), conv_bn_relu(cout, cout, 3, 1, 1))
        super().__init__(dbl, 3, w, classes)

    @staticmethod
    def join(s, x):
        dy = s.size(2) - x.size(2)
        dx = s.size(3) - x.size(3)
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return torch.cat([s, x], 1)


class DeepLabASPP(nn.Module):
    """Chen, Papandreou, Schroff, Adam, "Rethinking Atrous Convolution for
    Semantic Image Segmentation" (DeepLabv3, 2017): a backbone with output
    stride 8 (two strided stages, then 3x3 convolutions dilated by 2 and 4
    instead of striding), ASPP of a 1x1 and three 3x3 atrous convolutions
    at rates 6, 12, 18 (the paper's rates for output stride 16), and image
    pooling (global average pool, 1x1, bilinearly upsampled to the feature
    size); concatenated, 1x1, then bilinearly upsampled to the input size.
    Widths scaled by 8."""

    def __init__(self, w=32, classes=21):
        super().__init__()
        self.backbone = nn.Sequential(
            conv_bn_relu(3, w, 3, 2, 1), conv_bn_relu(w, w, 3, 1, 1),
            conv_bn_relu(w, 2 * w, 3, 2, 1), conv_bn_relu(2 * w, 4 * w, 3, 2, 1),
            conv_bn_relu(4 * w, 4 * w, 3, 1, 2, d=2), conv_bn_relu(4 * w, 4 * w, 3, 1, 4, d=4))
        c = 4 * w
        self.aspp = nn.ModuleList([conv_bn_relu(c, w, 1)] +
                                  [conv_bn_relu(c, w, 3, 1, r, d=r) for r in (6, 12, 18)])
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, w, 1), nn.ReLU())
        self.proj = conv_bn_relu(5 * w, w, 1)
        self.cls = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        f = self.backbone(x)
        p = F.interpolate(self.pool(f), size=f.shape[2:], mode="bilinear", align_corners=False)
        y = self.proj(torch.cat([m(f) for m in self.aspp] + [p], 1))
        return F.interpolate(self.cls(y), size=x.shape[2:], mode="bilinear", align_corners=False)


# ---- image-to-image GANs ---------------------------------------------------------------

class CycleGANGenerator(nn.Module):
    """Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks" (ICCV 2017), appendix 7.2, after
    Johnson et al. 2016: c7s1-64, d128, d256, R256 x 6 (the 128x128
    network), u128, u64, c7s1-3. c7s1-k: 7x7 conv stride 1 with reflection
    padding, instance norm, ReLU; dk: 3x3 conv stride 2 (padding 1),
    instance norm, ReLU; Rk: two 3x3 convs with reflection padding; uk: 3x3
    fractional-strided conv stride 1/2 (output padding 1). Widths scaled by
    4."""

    def __init__(self, w=16, blocks=6):
        super().__init__()

        def inorm(c):
            return nn.InstanceNorm2d(c)
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, w, 7), inorm(w), nn.ReLU(True),
                  nn.Conv2d(w, 2 * w, 3, 2, 1), inorm(2 * w), nn.ReLU(True),
                  nn.Conv2d(2 * w, 4 * w, 3, 2, 1), inorm(4 * w), nn.ReLU(True)]
        self.enc = nn.Sequential(*layers)
        self.res = nn.ModuleList([nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(4 * w, 4 * w, 3), inorm(4 * w), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(4 * w, 4 * w, 3), inorm(4 * w))
            for _ in range(blocks)])
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1), inorm(2 * w),
            nn.ReLU(True), nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1), inorm(w),
            nn.ReLU(True), nn.ReflectionPad2d(3), nn.Conv2d(w, 3, 7), nn.Tanh())

    def forward(self, x):
        x = self.enc(x)
        for r in self.res:
            x = x + r(x)
        return self.dec(x)


class PatchGAN(nn.Module):
    """Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional
    Adversarial Networks" (pix2pix, CVPR 2017), the 70x70 discriminator:
    C64-C128-C256-C512 with 4x4 convolutions (stride 2, the last stride 1,
    padding 1), no normalisation on C64, leaky ReLU 0.2, then a 4x4
    convolution to one channel. Instance norm, as CycleGAN uses it."""

    def __init__(self, cin=6, w=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(cin, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.InstanceNorm2d(2 * w), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.InstanceNorm2d(4 * w), nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * w, 8 * w, 4, 1, 1), nn.InstanceNorm2d(8 * w), nn.LeakyReLU(0.2, True),
            nn.Conv2d(8 * w, 1, 4, 1, 1))

    def forward(self, x):
        return self.net(x)


class Pix2PixUNet(nn.Module):
    """pix2pix's generator (Isola et al. 2017, appendix 6.1.1), U-Net-256:
    encoder C64-C128-C256-C512-C512-C512-C512-C512 (4x4 convolutions,
    stride 2, padding 1, leaky ReLU 0.2, batch norm except on the first and
    the innermost), decoder CD512-CD512-CD512-C512-C256-C128-C64 (4x4
    transposed convolutions stride 2, ReLU, dropout 0.5 on the first three)
    with skips concatenated, a last transposed convolution to 3 channels and
    tanh. Widths scaled by 8."""

    def __init__(self, w=8):
        super().__init__()
        enc = [w, 2 * w, 4 * w, 8 * w, 8 * w, 8 * w, 8 * w, 8 * w]
        self.enc = nn.ModuleList()
        cin = 3
        for i, c in enumerate(enc):
            mods = [nn.Conv2d(cin, c, 4, 2, 1)]
            if 0 < i < len(enc) - 1:
                mods.append(nn.BatchNorm2d(c))
            self.enc.append(nn.Sequential(*mods))
            cin = c
        self.dec = nn.ModuleList()
        dec_out = [8 * w, 8 * w, 8 * w, 8 * w, 4 * w, 2 * w, w]
        cin = enc[-1]
        for i, c in enumerate(dec_out):
            mods = [nn.ConvTranspose2d(cin if i == 0 else 2 * cin, c, 4, 2, 1), nn.BatchNorm2d(c)]
            if i < 3:
                mods.append(nn.Dropout(0.5))
            self.dec.append(nn.Sequential(*mods))
            cin = c
        self.last = nn.ConvTranspose2d(2 * w, 3, 4, 2, 1)

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.enc):
            x = e(x if i == 0 else F.leaky_relu(x, 0.2))
            skips.append(x)
        skips.pop()
        for d in self.dec:
            x = d(F.relu(x))
            x = torch.cat([x, skips.pop()], 1)
        return torch.tanh(self.last(F.relu(x)))


class DCGANDiscriminator(nn.Module):
    """Radford, Metz, Chintala, "Unsupervised Representation Learning with
    Deep Convolutional GANs" (ICLR 2016), the 64x64 discriminator: 4x4
    convolutions stride 2 padding 1 with 64, 128, 256, 512 channels (batch
    norm except on the first), leaky ReLU 0.2, then a 4x4 valid convolution
    to one output and a sigmoid."""

    def __init__(self, w=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 8 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(8 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(8 * w, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.net(x)


class DCGANGenerator(nn.Module):
    """The DCGAN generator (Radford et al. 2016, Figure 1): a 100-d code as
    a 1x1 map, a 4x4 transposed convolution to 4x4x1024 (here from the
    map's own size), then fractionally-strided 4x4 convolutions (stride 2,
    padding 1) to 512, 256, 128 and 3 channels, batch norm and ReLU, tanh.
    Widths scaled by 8."""

    def __init__(self, nz=100, w=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, 8 * w, 4, 1, 0, bias=False), nn.BatchNorm2d(8 * w), nn.ReLU(),
            nn.ConvTranspose2d(8 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.net(z)


# ---- super-resolution -----------------------------------------------------------------

class SRCNN(nn.Module):
    """Dong, Loy, He, Tang, "Image Super-Resolution Using Deep Convolutional
    Networks" (TPAMI 2016), the 9-1-5 network: 9x9 conv 64, ReLU, 1x1 conv
    32, ReLU, 5x5 conv 1; no padding (the output is 12 pixels smaller)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 64, 9), nn.ReLU(), nn.Conv2d(64, 32, 1), nn.ReLU(),
                                 nn.Conv2d(32, 1, 5))

    def forward(self, x):
        return self.net(x)


class FSRCNN(nn.Module):
    """Dong, Loy, Tang, "Accelerating the Super-Resolution Convolutional
    Neural Network" (ECCV 2016), FSRCNN(d=56, s=12, m=4) for x3: 5x5 conv d
    (feature extraction), 1x1 conv s (shrinking), m 3x3 convs s (mapping),
    1x1 conv d (expanding), all with PReLU and 'same' padding, then a 9x9
    deconvolution with stride 3 (padding 4, output padding 2: the output is
    exactly 3x the input)."""

    def __init__(self, d=56, s=12, m=4, scale=3):
        super().__init__()
        layers = [nn.Conv2d(1, d, 5, padding=2), nn.PReLU(d), nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d),
                   nn.ConvTranspose2d(d, 1, 9, scale, 4, output_padding=scale - 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class ESPCN(nn.Module):
    """Shi et al., "Real-Time Single Image and Video Super-Resolution Using
    an Efficient Sub-Pixel Convolutional Neural Network" (CVPR 2016): (f1,
    n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3 to r^2 channels, tanh, and
    the periodic shuffling (PixelShuffle) by r = 3."""

    def __init__(self, r=3, n1=64, n2=32):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, n1, 5, padding=2), nn.Tanh(),
                                 nn.Conv2d(n1, n2, 3, padding=1), nn.Tanh(),
                                 nn.Conv2d(n2, r * r, 3, padding=1), nn.PixelShuffle(r))

    def forward(self, x):
        return self.net(x)


class EDSRBaseline(nn.Module):
    """Lim, Son, Kim, Nah, Lee, "Enhanced Deep Residual Networks for Single
    Image Super-Resolution" (CVPRW 2017), EDSR baseline x2: mean shift of
    the RGB input, 3x3 conv 64, 16 residual blocks (conv-ReLU-conv, no batch
    norm, residual scaling 1), 3x3 conv and the global skip, the upsampler
    conv 3x3 to 4x64 channels and PixelShuffle(2), 3x3 conv to RGB, mean
    added back. Eight blocks here."""

    def __init__(self, f=64, blocks=8):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1))
        self.head = nn.Conv2d(3, f, 3, padding=1)
        self.body = nn.ModuleList([nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.ReLU(True),
                                                 nn.Conv2d(f, f, 3, padding=1))
                                   for _ in range(blocks)])
        self.tail_conv = nn.Conv2d(f, f, 3, padding=1)
        self.up = nn.Sequential(nn.Conv2d(f, 4 * f, 3, padding=1), nn.PixelShuffle(2))
        self.out = nn.Conv2d(f, 3, 3, padding=1)

    def forward(self, x):
        x = self.head(x - self.mean)
        y = x
        for b in self.body:
            y = y + b(y)
        y = self.tail_conv(y) + x
        return self.out(self.up(y)) + self.mean


class SRGANGenerator(nn.Module):
    """Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a
    Generative Adversarial Network" (CVPR 2017), Figure 4: 9x9 conv 64 and
    PReLU, B residual blocks (3x3 conv, BN, PReLU, 3x3 conv, BN,
    elementwise sum), 3x3 conv, BN and the skip, two sub-pixel blocks (3x3
    conv 256, PixelShuffle x2, PReLU), 9x9 conv 3. B = 4 here."""

    def __init__(self, blocks=4, f=64):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, f, 9, padding=4), nn.PReLU())
        self.body = nn.ModuleList([nn.Sequential(
            nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f), nn.PReLU(),
            nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f)) for _ in range(blocks)])
        self.mid = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.BatchNorm2d(f))
        self.up = nn.Sequential(*[nn.Sequential(nn.Conv2d(f, 4 * f, 3, padding=1),
                                                nn.PixelShuffle(2), nn.PReLU())
                                  for _ in range(2)])
        self.out = nn.Conv2d(f, 3, 9, padding=4)

    def forward(self, x):
        x = self.head(x)
        y = x
        for b in self.body:
            y = y + b(y)
        return self.out(self.up(self.mid(y) + x))


# ---- detection -----------------------------------------------------------------------

class YOLOv3Tiny(nn.Module):
    """Redmon & Farhadi, "YOLOv3: An Incremental Improvement" (2018), the
    tiny network: 3x3 convs 16, 32, 64, 128, 256, 512 each followed by a
    2x2 max pool (stride 2; after 512 stride 1, the map padded by one pixel
    right and bottom to keep its size), 3x3 conv 1024, 1x1 256, 3x3 512 and
    a 1x1 detection conv (3 anchors x (5 + 80 classes)) at stride 32; a 1x1
    128 route upsampled x2 (nearest) and concatenated with the stride-16
    map, 3x3 256 and the second detection conv. Batch norm and leaky ReLU
    0.1. The heads decode boxes as in the paper (section 2.1): sigmoid
    offsets plus the cell grid, times the stride; exp sizes times the
    anchors; the grid built from the map's size, written into the output
    in place as deployed exporters do. Widths scaled by 16 / b (4)."""

    ANCHORS = ((10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319))

    def __init__(self, b=4, classes=80):
        super().__init__()
        lrelu = nn.LeakyReLU(0.1)
        c = lambda i, o, k: conv_bn_relu(ch(i), ch(o), k, 1, k // 2, act=lrelu)  # noqa: E731

        def ch(paper):  # the paper's width scaled by b / 16
            return 3 if paper == 3 else max(1, paper * b // 16)
        self.no = 5 + classes
        self.b1 = nn.Sequential(c(3, 16, 3), nn.MaxPool2d(2, 2), c(16, 32, 3), nn.MaxPool2d(2, 2),
                                c(32, 64, 3), nn.MaxPool2d(2, 2), c(64, 128, 3),
                                nn.MaxPool2d(2, 2), c(128, 256, 3))
        self.b2 = nn.Sequential(nn.MaxPool2d(2, 2), c(256, 512, 3), nn.ZeroPad2d((0, 1, 0, 1)),
                                nn.MaxPool2d(2, 1), c(512, 1024, 3), c(1024, 256, 1))
        self.h1 = nn.Sequential(c(256, 512, 3), nn.Conv2d(ch(512), 3 * self.no, 1))
        self.route = c(256, 128, 1)
        self.h2 = nn.Sequential(conv_bn_relu(ch(128) + ch(256), ch(256), 3, 1, 1, act=lrelu),
                                nn.Conv2d(ch(256), 3 * self.no, 1))

    def decode(self, p, stride, anchors):
        n, _, h, w = p.shape
        p = p.view(n, 3, self.no, h, w).permute(0, 1, 3, 4, 2).contiguous()
        y = p.sigmoid()
        yv, xv = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        grid = torch.stack((xv, yv), 2).view(1, 1, h, w, 2).float()
        anchor = torch.tensor(anchors, dtype=torch.float32).view(1, 3, 1, 1, 2)
        anchor = anchor.expand(1, 3, h, w, 2)
        y[..., 0:2] = (y[..., 0:2] + grid) * stride
        y[..., 2:4] = torch.exp(p[..., 2:4]) * anchor
        return y.view(n, -1, self.no)

    def forward(self, x):
        x1 = self.b1(x)
        x2 = self.b2(x1)
        p1 = self.h1(x2)
        r = F.interpolate(self.route(x2), scale_factor=2, mode="nearest")
        p2 = self.h2(torch.cat([r, x1], 1))
        return torch.cat([self.decode(p1, 32, self.ANCHORS[3:]),
                          self.decode(p2, 16, self.ANCHORS[:3])], 1)


# ---- 1-D and 3-D ---------------------------------------------------------------------

class M5(nn.Module):
    """Dai, Dai, Qu, Li, Das, "Very Deep Convolutional Neural Networks for
    Raw Waveforms" (ICASSP 2017), M5: conv 80/4 128, 4 max pool, conv 3 128,
    pool 4, conv 3 256, pool 4, conv 3 512, pool 4, global average pool,
    softmax over 10 classes; batch norm and ReLU after each conv."""

    def __init__(self):
        super().__init__()

        def c(i, o, k, s=1):
            return nn.Sequential(nn.Conv1d(i, o, k, s), nn.BatchNorm1d(o), nn.ReLU())
        self.net = nn.Sequential(c(1, 128, 80, 4), nn.MaxPool1d(4), c(128, 128, 3),
                                 nn.MaxPool1d(4), c(128, 256, 3), nn.MaxPool1d(4),
                                 c(256, 512, 3), nn.MaxPool1d(4))
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        x = self.net(x)
        return F.log_softmax(self.fc(F.adaptive_avg_pool1d(x, 1).squeeze(-1)), -1)


class WaveNetStack(nn.Module):
    """van den Oord et al., "WaveNet: A Generative Model for Raw Audio"
    (2016): causal convolutions (kernel 2, the input left-padded by the
    dilation) dilated 1, 2, 4, ..., 512, gated activations tanh(Wf x) *
    sigmoid(Wg x), residual and skip 1x1 convolutions, the skips summed,
    ReLU, 1x1, ReLU, 1x1 to 256 quantisation levels. One stack; widths
    scaled by 2."""

    def __init__(self, r=16, s=32):
        super().__init__()
        self.inp = nn.Conv1d(1, r, 1)
        self.dil = [2 ** i for i in range(10)]
        self.f = nn.ModuleList([nn.Conv1d(r, r, 2, dilation=d) for d in self.dil])
        self.g = nn.ModuleList([nn.Conv1d(r, r, 2, dilation=d) for d in self.dil])
        self.res = nn.ModuleList([nn.Conv1d(r, r, 1) for _ in self.dil])
        self.skip = nn.ModuleList([nn.Conv1d(r, s, 1) for _ in self.dil])
        self.out = nn.Sequential(nn.ReLU(), nn.Conv1d(s, s, 1), nn.ReLU(), nn.Conv1d(s, 256, 1))

    def forward(self, x):
        x = self.inp(x)
        total = 0
        for d, f, g, r, s in zip(self.dil, self.f, self.g, self.res, self.skip):
            p = F.pad(x, (d, 0))
            z = torch.tanh(f(p)) * torch.sigmoid(g(p))
            total = total + s(z)
            x = x + r(z)
        return self.out(total)


class C3D(nn.Module):
    """Tran, Bourdev, Fergus, Torresani, Paluri, "Learning Spatiotemporal
    Features with 3D Convolutional Networks" (ICCV 2015): eight 3x3x3
    convolutions (padding 1) 64, 128, 256, 256, 512, 512, 512, 512, pool1
    1x2x2, pool2-5 2x2x2 (pool5 padded 0x1x1), fc6 4096 on the 512x1x4x4
    map of a 16x112x112 clip, fc7 4096, fc8. Widths scaled by 16; the fc
    layers by 64."""

    def __init__(self, w=4, classes=101):
        super().__init__()
        c = lambda i, o: nn.Sequential(nn.Conv3d(i, o, 3, padding=1), nn.ReLU())  # noqa: E731
        self.features = nn.Sequential(
            c(3, w), nn.MaxPool3d((1, 2, 2), (1, 2, 2)),
            c(w, 2 * w), nn.MaxPool3d(2, 2),
            c(2 * w, 4 * w), c(4 * w, 4 * w), nn.MaxPool3d(2, 2),
            c(4 * w, 8 * w), c(8 * w, 8 * w), nn.MaxPool3d(2, 2),
            c(8 * w, 8 * w), c(8 * w, 8 * w), nn.MaxPool3d(2, 2, padding=(0, 1, 1)))
        self.fc = nn.Sequential(nn.Linear(8 * w * 16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                                nn.Linear(64, classes))

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


# name -> (constructor, spatial rank, nominal input, note)
MODELS = {
    "resnet18": (ResNet18, 2, (1, 3, 224, 224), "residual adds, strided projections, global pool"),
    "gn_resnet_se": (GNResNetSE, 2, (1, 3, 64, 64), "GroupNorm, squeeze-and-excitation"),
    "mobilenet_v2": (MobileNetV2, 2, (1, 3, 224, 224), "depthwise, ReLU6, inverted residuals"),
    "squeezenet": (SqueezeNet, 2, (1, 3, 224, 224), "ceil-mode pooling, fire concats"),
    "csp_mish": (CSPMish, 2, (1, 3, 64, 64), "Mish (Softplus, Tanh, Mul), CSP concat"),
    "unet_valid": (UNetValid, 2, (1, 1, 188, 188), "valid convs, crops computed from sizes"),
    "unet_padded": (UNetPadded, 2, (1, 3, 64, 64), "F.pad by computed size differences"),
    "deeplab_aspp": (DeepLabASPP, 2, (1, 3, 64, 64), "atrous convs, interpolate to sizes"),
    "cyclegan_gen": (CycleGANGenerator, 2, (1, 3, 64, 64), "ReflectionPad, InstanceNorm, tconv"),
    "patchgan": (PatchGAN, 2, (1, 6, 64, 64), "InstanceNorm, 4x4 convs"),
    "pix2pix_unet": (Pix2PixUNet, 2, (1, 3, 256, 256), "eight halvings, skips"),
    "dcgan_disc": (DCGANDiscriminator, 2, (1, 3, 64, 64), "valid 4x4 head"),
    "dcgan_gen": (DCGANGenerator, 2, (1, 100, 1, 1), "transposed convs from a 1x1 map"),
    "srcnn": (SRCNN, 2, (1, 1, 33, 33), "unpadded convs"),
    "fsrcnn": (FSRCNN, 2, (1, 1, 32, 32), "PReLU, 9x9 deconvolution x3"),
    "espcn": (ESPCN, 2, (1, 1, 32, 32), "PixelShuffle (DepthToSpace)"),
    "edsr": (EDSRBaseline, 2, (1, 3, 32, 32), "mean shift constants, PixelShuffle"),
    "srgan_gen": (SRGANGenerator, 2, (1, 3, 24, 24), "PReLU, two PixelShuffles"),
    "yolov3_tiny": (YOLOv3Tiny, 2, (1, 3, 256, 256),
                    "ZeroPad + stride-1 pool, Resize, grid from Range/Expand, ScatterND"),
    "m5": (M5, 1, (1, 1, 8000), "1-D, MaxPool1d"),
    "wavenet": (WaveNetStack, 1, (1, 1, 1024), "1-D causal F.pad, dilations to 512"),
    "c3d": (C3D, 3, (1, 3, 16, 112, 112), "3-D convs and pools, fc on a fixed size"),
}


def build(name):
    ctor = MODELS[name][0]
    torch.manual_seed(0)
    m = ctor().eval()
    # non-trivial statistics, so that runs compare real numbers
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            mod.running_mean.uniform_(-0.2, 0.2, generator=g)
            mod.running_var.uniform_(0.5, 1.5, generator=g)
    return m


if __name__ == "__main__":
    for k, (ctor, nsp, shape, note) in MODELS.items():
        m = build(k)
        with torch.no_grad():
            y = m(torch.randn(*shape))
        print(f"{k:14s} {tuple(shape)} -> {tuple(y.shape)}  ({note})")

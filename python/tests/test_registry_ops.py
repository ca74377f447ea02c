"""The ops added through the op registry (PixelShuffle, PixelUnshuffle,
ChannelShuffle) reach Python users by themselves: the modules are leaves
because the library reports their types, and the functional forms
(F.pixel_shuffle, F.pixel_unshuffle, F.channel_shuffle) become the same
layers. Every answer is compared with what PyTorch itself does."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convkit
from convkit import _trace


def torch_result(model, shape):
    """PyTorch's output shape, or None when its forward raises."""
    try:
        with torch.no_grad():
            return list(model.eval()(torch.randn(shape)).shape)
    except RuntimeError:
        return None


def first_error(r):
    return next(d for d in r.diagnostics if d["severity"] == "error")


class SubPixel(nn.Module):
    """ESPCN-style upsampling: a convolution to r*r*C channels, then PixelShuffle."""

    def __init__(self, c=3, r=2):
        super().__init__()
        self.conv = nn.Conv2d(c, 16, 3, padding=1)
        self.shuffle = nn.ChannelShuffle(4)
        self.up = nn.Conv2d(16, c * r * r, 3, padding=1)
        self.ps = nn.PixelShuffle(r)

    def forward(self, x):
        return self.ps(self.up(self.shuffle(F.relu(self.conv(x)))))


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        x = F.pixel_unshuffle(self.conv(x), 2)
        x = torch.nn.functional.channel_shuffle(x, 4)
        return F.pixel_shuffle(x, upscale_factor=2)


class Unshuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.PixelUnshuffle(downscale_factor=2)
        self.conv = nn.Conv2d(12, 4, 1)

    def forward(self, x):
        return self.conv(self.down(x))


@pytest.mark.parametrize("cls", [nn.PixelShuffle, nn.PixelUnshuffle, nn.ChannelShuffle])
def test_modules_are_known_leaves(cls):
    assert cls in _trace.known_modules()
    assert _trace.leaf_type(cls(2)) == cls.__name__


def test_to_cnn_names_the_modules():
    text = convkit.to_cnn(SubPixel(), (1, 3, 8, 8))
    assert "shuffle = ChannelShuffle(groups=4)(" in text
    assert "ps = PixelShuffle(upscale_factor=2)(" in text


@pytest.mark.parametrize("model, shape", [
    (SubPixel(), (1, 3, 8, 8)),
    (SubPixel(1, 3), (2, 1, 5, 7)),
    (Functional(), (1, 3, 6, 10)),
    (Unshuffle(), (1, 3, 8, 6)),
])
def test_shapes_agree_with_torch(model, shape):
    r = convkit.check(model, input_size=shape)
    assert r.ok, str(r)
    assert list(r.output_shape) == torch_result(model, shape)


def test_functional_calls_become_the_layers():
    r = convkit.check(Functional(), input_size=(1, 3, 6, 10))
    types = [layer.type for layer in r.layers]
    assert types.count("PixelUnshuffle") == 1
    assert types.count("ChannelShuffle") == 1
    assert types.count("PixelShuffle") == 1


def test_channel_shuffle_groups_that_do_not_split_the_channels():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 1)
            self.shuffle = nn.ChannelShuffle(4)

        def forward(self, x):
            return self.shuffle(self.conv(x))

    assert torch_result(Bad(), (1, 3, 4, 4)) is None
    r = convkit.check(Bad(), input_size=(1, 3, 4, 4))
    assert not r.ok
    e = first_error(r)
    assert e["code"] == "channel_mismatch" and e["layer"] == "shuffle"


def test_pixel_shuffle_channels_not_divisible():
    model = nn.Sequential(nn.Conv2d(3, 6, 1), nn.PixelShuffle(2))
    assert torch_result(model, (1, 3, 4, 4)) is None
    r = convkit.check(model, input_size=(1, 3, 4, 4))
    assert not r.ok
    e = first_error(r)
    assert e["code"] == "channel_mismatch" and e["layer"] == "1"


def test_pixel_unshuffle_odd_size_and_its_fix():
    assert torch_result(Unshuffle(), (1, 3, 7, 6)) is None
    r = convkit.check(Unshuffle(), input_size=(1, 3, 7, 6))
    assert not r.ok
    assert first_error(r)["code"] == "reshape_mismatch"
    sizes = [f for f in r.fixes if f.kind == "input"]
    assert sizes, str(r)
    for f in sizes:  # each input size a fix proposes works in PyTorch, with that output
        assert torch_result(Unshuffle(), tuple(f.args["input"])) == list(f.output_shape)


def test_sizes_follow_the_block():
    s = convkit.sizes(Unshuffle(), (1, 3, 8, 8), range=(1, 40))
    valid = {n for a, b in s.json["valid_square"] for n in range(a, b + 1)}
    for n in range(1, 41):
        assert (n in valid) == (torch_result(Unshuffle(), (1, 3, n, n)) is not None), n

"""The truth side on its own (no convkit needed): torch_truth's records for
the zoo are what PyTorch really does, classified and located correctly.

    /usr/bin/python3 -m pytest python/tests/test_torch_truth.py
"""
import pytest
import torch
import torch.nn as nn

import agreement
import torch_truth
import zoo

RUNNER = torch_truth.RUNNER

OK = "ok"
# (model, input) -> ("ok", output shape) or (class, module path, functional)
EXPECT = {
    ("resnet18", (1, 3, 224, 224)): (OK, [1, 1000]),
    ("resnet18", (1, 3, 1, 1)): (OK, [1, 1000]),
    ("resnet18", (1, 3, 0, 0)): ("output_too_small", "conv1", False),
    ("resnet18", (1, 1, 64, 64)): ("channel_mismatch", "conv1", False),
    ("resnet18", (2, 3, 32, 32)): (OK, [2, 1000]),
    ("densenet121", (1, 3, 28, 28)): ("output_too_small", "features.transition3.pool", False),
    ("googlenet", (1, 3, 14, 14)): ("output_too_small", "maxpool3", False),
    ("inception_v3", (1, 3, 75, 75)): (OK, [1, 1000]),
    ("inception_v3", (1, 3, 74, 74)): ("output_too_small", "Mixed_7a.branch3x3_2.conv", False),
    ("squeezenet1_0", (1, 3, 20, 20)): ("output_too_small", "features.11", False),
    ("vgg11", (1, 3, 31, 31)): ("output_too_small", "features.20", False),
    ("vgg11", (1, 3, 32, 31)): ("output_too_small", "features.20", False),
    ("alexnet", (1, 3, 63, 63)): (OK, [1, 1000]),
    ("alexnet", (1, 3, 62, 62)): ("output_too_small", "features.12", False),
    ("fcn_resnet50", (1, 3, 33, 33)): (OK, [1, 21, 33, 33]),
    ("lraspp_mobilenet_v3_large", (1, 3, 64, 47)): (OK, [1, 21, 64, 47]),
    ("unet_transpose", (1, 3, 17, 17)): (OK, [1, 2, 17, 17]),
    ("unet_transpose", (1, 3, 15, 15)): ("output_too_small", "down4.0", False),
    ("unet_bilinear", (1, 3, 40, 23)): (OK, [1, 2, 40, 23]),
    ("unet_offbyone", (1, 3, 16, 16)): (OK, [1, 2, 16, 16]),
    ("unet_offbyone", (1, 3, 17, 17)): ("skip_mismatch", "up4", True),
    ("unet_offbyone", (1, 3, 18, 18)): ("skip_mismatch", "up3", True),
    ("unet_offbyone", (1, 3, 20, 20)): ("skip_mismatch", "up2", True),
    ("unet_offbyone", (1, 3, 24, 24)): ("skip_mismatch", "up1", True),
    ("unet_valid_crop", (1, 1, 572, 572)): (OK, [1, 2, 388, 388]),
    ("unet_valid_crop", (1, 1, 187, 187)): ("output_too_small", "up2.conv.3", False),
    ("dcgan_generator", (1, 100, 1, 1)): (OK, [1, 3, 64, 64]),
    ("dcgan_generator", (1, 100)): ("rank_mismatch", "main.0", False),
    ("dcgan_generator", (1, 128, 1, 1)): ("channel_mismatch", "main.0", False),
    ("dcgan_discriminator", (1, 3, 64, 64)): (OK, [1]),
    ("dcgan_discriminator", (1, 3, 80, 80)): (OK, [4]),
    ("dcgan_discriminator", (1, 3, 63, 63)): ("output_too_small", "main.11", False),
    ("pix2pix_generator", (1, 3, 257, 257)): (OK, [1, 3, 256, 256]),
    ("pix2pix_generator", (1, 3, 258, 258)): ("skip_mismatch", "net.inner", True),
    ("pix2pix_generator", (1, 3, 128, 128)):
        ("output_too_small", "net.inner.inner.inner.inner.inner.inner.down.2", False),
    ("patchgan70", (1, 6, 256, 256)): (OK, [1, 1, 30, 30]),
    ("patchgan70", (1, 6, 23, 23)): ("output_too_small", "model.9", False),
    ("audio_cnn1d", (1, 1, 16000)): (OK, [1, 10]),
    ("audio_cnn1d", (1, 1, 3775)): ("output_too_small", "conv4", False),
    ("audio_cnn1d", (1, 2, 16000)): ("channel_mismatch", "conv1", False),
    ("video_cnn3d", (1, 3, 3, 32, 32)): ("output_too_small", "features.11", False),
    ("lenet5", (1, 1, 32, 32)): (OK, [1, 10]),
    ("lenet5", (1, 1, 35, 35)): (OK, [1, 10]),
    ("lenet5", (1, 1, 36, 36)): ("feature_mismatch", "fc1", False),
    ("lenet5", (1, 1, 28, 28)): ("feature_mismatch", "fc1", False),
    ("lenet5", (1, 1, 64, 64)): ("feature_mismatch", "fc1", False),
    ("lenet5", (1, 1, 13, 13)): ("output_too_small", "conv2", False),
    ("rgb_net", (1, 1, 32, 32)): ("channel_mismatch", "features.0", False),
    ("rgb_net", (3, 32, 32)): ("rank_mismatch", "features.1", False),
    ("functional_net", (1, 3, 34, 34)): ("skip_mismatch", "block", True),
    ("functional_net", (1, 3, 64, 64)): ("feature_mismatch", "head", False),
    ("functional_net", (1, 3, 8, 8)): ("output_too_small", "", True),
    ("functional_net", (1, 3, 2, 2)): ("output_too_small", "block", True),
    ("shape_branch_net", (1, 3, 64, 64)): (OK, [1, 10]),
    ("shape_branch_net", (1, 3, 35, 35)): ("feature_mismatch", "fc", False),
    ("value_branch_net", (1, 3, 4, 4)): ("output_too_small", "pool", False),
}

CASES = zoo.cases()


def test_expectations_are_zoo_probes():
    probes = {(e.name, s) for e, s in CASES}
    assert set(EXPECT) <= probes, sorted(set(EXPECT) - probes)


@pytest.mark.parametrize("key", sorted(EXPECT), ids=lambda k: f"{k[0]}-{'x'.join(map(str, k[1]))}")
def test_truth_record(key):
    rec = RUNNER.truth(zoo.get(key[0]), key[1])
    want = EXPECT[key]
    if want[0] == OK:
        assert rec["ok"], rec
        assert rec["output_shape"] == want[1]
    else:
        assert not rec["ok"], rec
        assert (rec["error"], rec["module"], rec["functional"]) == want, rec


@pytest.mark.parametrize("entry,shape", CASES,
                         ids=[f"{e.name}-{'x'.join(map(str, s))}" for e, s in CASES])
def test_every_probe_has_a_clean_record(entry, shape):
    """Each probe runs, is classified within the vocabulary (never "other"),
    and names a module that exists; a valid probe's leaf shapes are recorded."""
    rec = RUNNER.truth(entry, shape)
    names = {n for n, _ in RUNNER.model(entry).named_modules()}
    if rec["ok"]:
        assert all(isinstance(d, int) for d in rec["output_shape"])
        assert rec["layer_shapes"] and set(rec["layer_shapes"]) <= names
    else:
        assert rec["error"] in torch_truth.VOCABULARY
        assert rec["error"] != "other", rec["message"]
        assert rec["module"] in names
        assert rec["functional"] == (rec["module"] == ""
                                     or not torch_truth.is_leaf(
                                         dict(RUNNER.model(entry).named_modules())[rec["module"]]))
    m = RUNNER.model(entry)
    for mod in m.modules():
        assert not mod._forward_hooks and not mod._forward_pre_hooks, "hooks left behind"


def test_resnet18_is_valid_at_16():
    rec = torch_truth.truth(zoo.get("resnet18").build(), (1, 3, 16, 16))
    assert rec["ok"] and rec["output_shape"] == [1, 1000]
    assert rec["layer_shapes"]["layer4.1.conv2"] == [1, 512, 1, 1]


def test_dict_output_records_every_tensor():
    rec = RUNNER.truth(zoo.get("deeplabv3_mobilenet_v3_large"), (1, 3, 33, 33))
    assert rec["ok"] and rec["outputs"] == {"out": [1, 21, 33, 33]}


def test_degenerate_maxpool1d_is_flagged():
    """PyTorch 1.13's MaxPool1d under no_grad returns an empty tensor where its
    window does not fit; the forward goes on (AdaptiveAvgPool1d makes NaNs)."""
    rec = RUNNER.truth(zoo.get("audio_cnn1d"), (1, 1, 6847))
    assert rec["ok"] and rec["output_shape"] == [1, 10]
    assert rec["degenerate"]["module"] == "pool4"
    assert rec["degenerate"]["output_shape"] == [1, 64, 0]
    assert "degenerate" not in RUNNER.truth(zoo.get("audio_cnn1d"), (1, 1, 6848))


def test_untraceable_models_really_are_untraceable():
    import torch.fx
    for name in ("shape_branch_net", "value_branch_net"):
        with pytest.raises(Exception):
            torch.fx.symbolic_trace(zoo.get(name).build())


def test_hooks_removed_after_an_exception():
    m = zoo.LeNet5()
    rec = torch_truth.truth(m, (1, 1, 64, 64))
    assert rec["error"] == "feature_mismatch" and rec["module"] == "fc1"
    assert all(not x._forward_hooks and not x._forward_pre_hooks for x in m.modules())


def test_innermost_module_after_a_caught_exception():
    """A forward that catches an exception of a child leaves no stale entry."""
    class Tolerant(nn.Module):
        def __init__(self):
            super().__init__()
            self.bad = nn.Conv2d(3, 4, 7)
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            try:
                x = self.bad(x)
            except RuntimeError:
                pass
            return self.pool(x)

    rec = torch_truth.truth(Tolerant(), (1, 3, 1, 1))
    assert (rec["error"], rec["module"], rec["functional"]) == ("output_too_small", "pool", False)


@pytest.mark.parametrize("message,cls", [
    ("Expected more than 1 spatial element when training, got input size torch.Size([1, 64, 1, 1])",
     "output_too_small"),
    ("Expected more than 1 value per channel when training, got input size torch.Size([1, 8, 1, 1])",
     "output_too_small"),
    ("shape '[-1, 400]' is invalid for input of size 2704", "reshape_mismatch"),
    ("expected 4D input (got 3D input)", "rank_mismatch"),
    ("mat1 and mat2 shapes cannot be multiplied (1x2704 and 400x120)", "feature_mismatch"),
])
def test_classify(message, cls):
    assert torch_truth.classify(message) == cls


def test_real_messages_of_the_extra_table():
    """The extra patterns match what PyTorch 1.13 really says."""
    with torch.no_grad():
        for mod, shape, cls in [(nn.InstanceNorm2d(4), (1, 4, 1, 1), "output_too_small"),
                                (nn.GroupNorm(4, 4), (1, 4, 1, 1), "output_too_small"),
                                (nn.BatchNorm2d(4), (4, 1, 1), "rank_mismatch")]:
            with pytest.raises(Exception) as ei:
                mod.eval()(torch.randn(*shape))
            assert torch_truth.classify(str(ei.value)) == cls, str(ei.value)
        with pytest.raises(RuntimeError) as ei:
            torch.randn(1, 16, 13, 13).view(-1, 400)
        assert torch_truth.classify(str(ei.value)) == "reshape_mismatch"


class _Result:
    def __init__(self, ok, output_shape=None, diagnostics=()):
        self.ok, self.output_shape, self.diagnostics, self.layers = ok, output_shape, list(diagnostics), []


def _err(code, layer):
    return {"severity": "error", "code": code, "layer": layer, "message": "m"}


def test_compare_rules():
    names = {"", "up4", "up4.conv", "conv1", "fc1", "block"}
    ok = {"ok": True, "output_shape": [1, 10]}
    assert agreement.compare(_Result(True, (1, 10)), ok, names)[0]
    assert not agreement.compare(_Result(True, [1, 11]), ok, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("feature_mismatch", "fc1")]), ok, names)[0]
    leaf = {"ok": False, "error": "feature_mismatch", "module": "fc1", "functional": False,
            "message": "mat1 and mat2"}
    assert agreement.compare(_Result(False, None, [{"severity": "warning", "code": "pixels_dropped",
                                                     "layer": "conv1"},
                                                    _err("feature_mismatch", "fc1")]), leaf, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("feature_mismatch", "fc2")]), leaf, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("reshape_mismatch", "fc1")]), leaf, names)[0]
    assert not agreement.compare(_Result(True, [1, 10]), leaf, names)[0]
    fn = {"ok": False, "error": "skip_mismatch", "module": "up4", "functional": True, "message": "Sizes"}
    assert agreement.compare(_Result(False, None, [_err("skip_mismatch", "up4.cat")]), fn, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("skip_mismatch", "up4")]), fn, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("skip_mismatch", "up4.conv")]), fn, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("skip_mismatch", "up3.cat")]), fn, names)[0]
    top = {"ok": False, "error": "output_too_small", "module": "", "functional": True, "message": "x"}
    assert agreement.compare(_Result(False, None, [_err("output_too_small", "max_pool2d_2")]), top, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("output_too_small", "block")]), top, names)[0]
    deg = dict(ok, degenerate={"module": "pool4"})
    assert agreement.compare(_Result(True, [1, 10]), deg, names)[0]
    assert agreement.compare(_Result(False, None, [_err("output_too_small", "pool4")]), deg, names)[0]
    assert not agreement.compare(_Result(False, None, [_err("output_too_small", "gap")]), deg, names)[0]

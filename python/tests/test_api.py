"""convkit's Python API as a user calls it, against what PyTorch itself does."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import convkit

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)


class LeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def torch_out(model, *shapes):
    with torch.no_grad():
        y = model.eval()(*[torch.randn(s) for s in shapes])
    return list(y.shape)


def first_error(r):
    return next(d for d in r.diagnostics if d["severity"] == "error")


def lineno(obj, text):
    """The line of `text` in the source of obj's file."""
    import inspect

    lines, start = inspect.getsourcelines(obj)
    for i, l in enumerate(lines):
        if text in l:
            return start + i
    raise AssertionError(text)


def test_lenet_valid_matches_torch():
    m = LeNet()
    r = convkit.check(m, input_size=(1, 3, 32, 32))
    assert r.ok and bool(r)
    assert r.output_shape == torch_out(m, (1, 3, 32, 32)) == [1, 10]
    names = [l.name for l in r.layers]
    assert {"conv1", "conv2", "fc1", "fc2", "fc3"} <= set(names)
    fc1 = next(l for l in r.layers if l.name == "fc1")
    assert fc1.module == "fc1" and fc1.type == "Linear" and fc1.params == 400 * 120 + 120
    assert fc1.output_shape == [1, 120]
    assert sum(l.params for l in r.layers) == sum(p.numel() for p in m.parameters())


def test_lenet_at_64_explains_and_fixes_the_source_line():
    m = LeNet()
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        torch_out(m, (1, 3, 64, 64))
    r = convkit.check(m, input_size=(1, 3, 64, 64))
    assert not r.ok and r.output_shape is None
    e = first_error(r)
    assert e["code"] == "feature_mismatch" and e["layer"] == "fc1"
    here = os.path.relpath(__file__)
    assert any(n.startswith("defined at %s:%d:" % (here, lineno(LeNet, "self.fc1 ="))) for n in e["notes"])
    assert any(n.startswith("called at %s:%d:" % (here, lineno(LeNet, "self.fc1(x)"))) for n in e["notes"])
    fix = r.fixes[0]
    assert fix.layer == "fc1" and fix.args == {"in_features": 2704}
    assert fix.source.endswith("self.fc1 = nn.Linear(16 * 5 * 5, 120) -> nn.Linear(16 * 13 * 13, 120)")
    # the fix, applied, is what PyTorch accepts
    m.fc1 = nn.Linear(16 * 13 * 13, 120)
    assert convkit.check(m, input_size=(1, 3, 64, 64)).output_shape == torch_out(m, (1, 3, 64, 64))
    text = str(r)
    assert "error: fc1 (Linear)" in text and "(1x2704) @ (400x120): 2704 != 400" in text
    assert "nn.Linear(16 * 13 * 13, 120)" in text
    inp = next(f for f in r.fixes if f.kind == "input")
    assert inp.args["input"] == [1, 3, 32, 32] and inp.source == "input_size=(1, 3, 32, 32)"


def test_no_forward_pass_runs():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x)

    m = Boom()
    m.conv.register_forward_pre_hook(lambda *a: (_ for _ in ()).throw(AssertionError("forward ran")))
    assert convkit.check(m, input_size=(1, 3, 16, 16)).output_shape == [1, 8, 14, 14]


def test_meta_device_and_huge_models():
    meta = torch.device("meta")
    m = nn.Sequential(nn.Conv2d(3, 4096, 3, device=meta), nn.Flatten(),
                      nn.Linear(4096 * 62 * 62, 1000, device=meta))  # 63 GB of weights on a CPU
    r = convkit.check(m, input_size=(1, 3, 64, 64))
    assert r.ok and r.output_shape == [1, 1000]
    assert [l.name for l in r.layers] == ["0", "1", "2"]


def test_torchinfo_calling_conventions():
    m = LeNet()
    assert convkit.check(m, (1, 3, 32, 32)).output_shape == [1, 10]
    assert convkit.check(m, [(1, 3, 32, 32)]).output_shape == [1, 10]
    assert convkit.check(m, input_data=torch.randn(2, 3, 32, 32)).output_shape == [2, 10]
    assert convkit.check(m, input_data=[torch.randn(1, 3, 32, 32)]).output_shape == [1, 10]
    assert convkit.check(m, (3, 32, 32), batch_dim=0).output_shape == [1, 10]
    assert convkit.check(m, (1, 3, 32, 32), dtypes=[torch.float32]).ok

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 3, padding=1)
            self.b = nn.Conv2d(1, 8, 3, padding=1)

        def forward(self, x, y):
            return torch.cat([self.a(x), self.b(y)], dim=1)

    r = convkit.check(Two(), [(1, 3, 16, 16), (1, 1, 16, 16)])
    assert r.output_shape == [1, 16, 16, 16] == torch_out(Two(), (1, 3, 16, 16), (1, 1, 16, 16))
    r = convkit.check(Two(), [(1, 3, 16, 16), (1, 1, 15, 16)])
    e = first_error(r)
    assert e["code"] == "skip_mismatch" and e["layer"] == "cat"


def test_bad_arguments_raise_clear_python_errors():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        convkit.check("resnet", input_size=(1, 3, 8, 8))
    with pytest.raises(ValueError, match="input_size"):
        convkit.check(LeNet())
    with pytest.raises(ValueError, match="negative"):
        convkit.check(LeNet(), input_size=(1, 3, -32, 32))
    with pytest.raises(TypeError, match="input_size must be a shape"):
        convkit.check(LeNet(), input_size="1x3x32x32")
    with pytest.raises(ValueError, match="dimensions"):
        convkit.check(LeNet(), input_size=(1,) * 9)
    with pytest.raises(TypeError, match="unexpected keyword"):
        convkit.check(LeNet(), input_size=(1, 3, 32, 32), inputsize=3)
    with pytest.raises(ValueError, match="format"):
        convkit.summary(LeNet(), (1, 3, 32, 32), format="html")
    with pytest.raises(ValueError, match="range"):
        convkit.sizes(LeNet(), (1, 3, 32, 32), range=(0, 10))
    with pytest.raises(convkit.TraceError, match="input"):
        convkit.check(LeNet(), input_size=[(1, 3, 32, 32), (1, 3, 32, 32)]).ok or None
    # an input of the wrong rank is the model's problem: a diagnostic, as PyTorch raises
    r = convkit.check(LeNet(), input_size=(3, 32))
    assert not r.ok and first_error(r)["code"] == "rank_mismatch"


def test_grayscale_into_rgb():
    m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU())
    with pytest.raises(RuntimeError, match="expected input.*to have 3 channels"):
        torch_out(m, (1, 1, 28, 28))
    e = first_error(convkit.check(m, (1, 1, 28, 28)))
    assert e["code"] == "channel_mismatch" and e["layer"] == "0"


class UpBlock(nn.Module):
    """Bilinear up-sampling to the skip's size, then padding, then a cat."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
        dy = skip.size(2) - x.size(2)
        dx = skip.size(3) - x.size(3)
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inc = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1))
        self.up = UpBlock(24, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        a = F.relu(self.inc(x))
        b = F.relu(self.down(a))
        return self.out(self.up(b, a))


def test_shapes_used_as_values_are_recomputed_at_every_size():
    m = TinyUNet()
    for s in (16, 17, 9, 2):
        assert convkit.check(m, (1, 3, s, s)).output_shape == torch_out(m, (1, 3, s, s))
    r = convkit.check(m, (1, 3, 16, 16))
    names = [l.name for l in r.layers]
    assert "up.cat" in names and "up.interpolate" in names and "up.pad" in names
    assert "interpolate(" in r.cnn and "size(" in r.cnn
    # sizes and check are the same computation: the 1x1 input fails at down.0
    sz = convkit.sizes(m, (1, 3, 16, 16), range=(1, 40))
    assert sz.min_square == 2
    with pytest.raises(RuntimeError):
        torch_out(m, (1, 3, 1, 1))
    assert not convkit.check(m, (1, 3, 1, 1)).ok


def test_unsupported_op_names_the_function_and_its_line():
    class Rolls(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            x = self.conv(x)
            return torch.roll(x, 1, dims=2)

    r = convkit.check(Rolls(), (1, 3, 8, 8))
    assert not r.ok
    e = first_error(r)
    assert e["code"] == "unsupported_op" and e["layer"] == "roll"
    assert any("torch.roll(x, 1, dims=2)" in n for n in e["notes"])
    assert any("torch.roll" in n for n in r.notes)


def test_untraceable_model_falls_back_to_hooks():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3)
            self.conv2 = nn.Conv2d(8, 16, 3, stride=2)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(16 * 6 * 6, 10))

        def forward(self, x):
            x = F.relu(self.conv1(x))
            if x.shape[-1] > 8:  # fx cannot decide this; meta tensors can
                x = self.conv2(x)
            return self.head(x)

    m = Branchy()
    r = convkit.check(m, (1, 1, 16, 16))
    assert r.traced.method == "hooks"
    assert r.ok and r.output_shape == torch_out(m, (1, 1, 16, 16))
    assert any("torch.fx could not trace" in n for n in r.notes)
    r = convkit.check(m, (1, 1, 20, 20))
    e = first_error(r)
    assert e["code"] == "feature_mismatch" and e["layer"] == "head.1"

    class ValueBranch(Branchy):
        def forward(self, x):
            x = F.relu(self.conv1(x))
            if x.sum() > 0:
                x = self.conv2(x)
            return self.head(x)

    r = convkit.check(ValueBranch(), (1, 1, 16, 16))
    assert not r.ok
    e = first_error(r)
    assert e["code"] == "unsupported" and "reads tensor values" in e["message"]
    assert any("if x.sum() > 0" in n for n in e["notes"])


def test_summary_sizes_fix_objects():
    m = LeNet()
    s = convkit.summary(m, (1, 3, 32, 32))
    assert s.ok and "Total params: 62,006" in str(s)
    assert s.json["layers"][0]["name"] == "conv1"
    md = convkit.summary(m, (1, 3, 32, 32), format="md")
    assert str(md).lstrip().startswith("#") or "|" in str(md)
    svg = convkit.summary(m, (1, 3, 32, 32), format="svg")
    assert "<svg" in str(svg)
    z = convkit.sizes(m, (1, 3, 32, 32), range=(1, 64))
    assert z.min_square == 32 and z.valid_square == [[32, 35]]
    f = convkit.fix(m, (1, 3, 64, 64))
    assert not f.ok and "in_features=2704" in str(f)


def test_html_repr_has_table_and_picture():
    h = convkit.check(LeNet(), (1, 3, 64, 64))._repr_html_()
    assert "<table" in h and "fc1" in h and "<svg" in h


def test_explain_adds_the_diagnosis_and_keeps_the_cause():
    m = LeNet()
    with pytest.raises(convkit.ShapeError) as ei:
        with convkit.explain():
            m(torch.randn(1, 3, 64, 64))
    e = ei.value
    assert isinstance(e.__cause__, RuntimeError) and "mat1 and mat2" in str(e.__cause__)
    assert "error: fc1 (Linear)" in str(e) and e.report.fixes
    # other exceptions pass through untouched
    with pytest.raises(KeyError):
        with convkit.explain():
            raise KeyError("x")


def test_ipython_extension_with_a_shell():
    class Events:
        def __init__(self):
            self.cb = {}

        def register(self, ev, f):
            self.cb.setdefault(ev, []).append(f)

        def unregister(self, ev, f):
            self.cb[ev].remove(f)

    class Shell:
        def __init__(self):
            self.events = Events()
            self.handler = None
            self.shown = []

        def set_custom_exc(self, types, handler):
            self.types, self.handler = types, handler

        def showtraceback(self, exc_tuple, tb_offset=None):
            self.shown.append(exc_tuple[1])

    sh = Shell()
    convkit.load_ipython_extension(sh)
    try:
        for f in sh.events.cb["pre_run_cell"]:
            f()
        m = LeNet()
        try:
            m(torch.randn(1, 3, 64, 64))
        except RuntimeError as e:
            import io
            from contextlib import redirect_stdout

            buf = io.StringIO()
            with redirect_stdout(buf):
                sh.handler(sh, type(e), e, e.__traceback__)
            assert sh.shown and "error: fc1 (Linear)" in buf.getvalue()
    finally:
        convkit.unload_ipython_extension(sh)
    assert sh.handler is None


NET_PY = textwrap.dedent("""
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3)
            self.fc = nn.Linear(8 * 26 * 26, num_classes)

        def forward(self, x):
            return self.fc(F.relu(self.conv(x)).flatten(1))
    """)


def run_cli(tmp_path, *args):
    (tmp_path / "net.py").write_text(NET_PY)
    env = dict(os.environ, PYTHONPATH=PYDIR)
    return subprocess.run([sys.executable, "-m", "convkit"] + list(args), cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def test_python_m_convkit(tmp_path):
    p = run_cli(tmp_path, "check", "net.py:Net", "--input", "1x1x28x28")
    assert p.returncode == 0 and "ok:" in p.stdout
    p = run_cli(tmp_path, "check", "net.py:Net", "--input", "1x1x32x32", "--init", '{"num_classes": 5}')
    assert p.returncode == 1 and "error: fc (Linear)" in p.stdout
    assert "net.py:9: self.fc = nn.Linear(8 * 26 * 26, num_classes) -> nn.Linear(8 * 30 * 30, num_classes)" \
        in p.stdout
    p = run_cli(tmp_path, "check", "net.py:Net", "--input", "1x1x32x32", "--json")
    d = json.loads(p.stdout)
    assert p.returncode == 1 and d["ok"] is False and d["diagnostics"][0]["layer"] == "fc"
    p = run_cli(tmp_path, "sizes", "net.py:Net", "--input", "1x1x28x28", "--range", "1:64", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["min_square"] == 28
    p = run_cli(tmp_path, "summary", "net.py:Net", "--input", "1x1x28x28")
    assert p.returncode == 0 and "Total params" in p.stdout
    p = run_cli(tmp_path, "check", "net.py:Nope", "--input", "1x1x28x28")
    assert p.returncode == 2 and "has no attribute" in p.stderr
    p = run_cli(tmp_path, "check", "net.py:Net")
    assert p.returncode == 2 and "--input" in p.stderr
    p = run_cli(tmp_path, "check", "net.py:Net", "--input", "1xAx28")
    assert p.returncode == 2


def test_version_is_the_library_s():
    assert convkit.__version__ == convkit.version()


class Functional(nn.Module):
    """The functional vocabulary of forward(), each call checked against PyTorch."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.b = nn.Parameter(torch.randn(8))
        self.fc_w = nn.Parameter(torch.randn(10, 16))

    def forward(self, x):
        y = F.conv2d(x, self.w, self.b, stride=1, padding=1)
        y = torch.sigmoid(y) * 0.5 + 1 - torch.tanh(y)
        y = F.leaky_relu(y, 0.2)
        a, b = torch.chunk(y, 2, dim=1)
        c, d = y.split([3, 5], dim=1)
        y = torch.cat([a + b, c.mean(1, keepdim=True), d[:, :1]], dim=1)
        y = F.max_pool2d(y, kernel_size=2, stride=2, ceil_mode=True)
        y = F.avg_pool2d(y, 3, stride=1, padding=1)
        y = y.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        y = y.transpose(2, 3).transpose(2, 3)
        z = F.adaptive_avg_pool2d(y, (2, 2))
        z = z.reshape(z.shape[0], -1)
        z = torch.cat([z, z], dim=1)[:, :16]
        z = F.linear(z, self.fc_w)
        z = z.unsqueeze(-1).squeeze(2)
        h = y.size(2) // 2
        y = F.interpolate(y, size=(h, y.shape[3]), mode="nearest")
        return z, y.flatten(1).sum(1)


def test_functional_vocabulary_matches_torch():
    m = Functional()
    for s in (16, 15, 9, 4):
        with torch.no_grad():
            want = m(torch.randn(1, 3, s, s))
        r = convkit.check(m, (1, 3, s, s))
        assert r.ok, str(r)
        assert r.output_shapes == [list(t.shape) for t in want], s
    r = convkit.check(m, (1, 3, 16, 16))
    assert not r.notes, r.notes
    assert [l.name for l in r.layers if l.name.startswith("chunk")] == ["chunk"]


class _Lambda(nn.Module):
    def __init__(self, fn, **mods):
        super().__init__()
        for k, v in mods.items():
            setattr(self, k, v)
        self.fn = fn

    def forward(self, x):
        return self.fn(self, x)


BROKEN = [
    ("view", lambda s, x: x.view(-1, 400), (1, 16, 13, 13), "reshape_mismatch", "view"),
    ("cat", lambda s, x: torch.cat([x, x[:, :, 1:]], dim=1), (1, 4, 8, 8), "skip_mismatch", "cat"),
    ("add", lambda s, x: x + x[:, :, :, 1:], (1, 4, 8, 8), "skip_mismatch", "add"),
    ("pool", lambda s, x: F.max_pool2d(x, 3), (1, 4, 2, 2), "output_too_small", "max_pool2d"),
    ("conv", lambda s, x: s.c(x), (1, 1, 8, 8), "channel_mismatch", "c"),
    ("interp", lambda s, x: F.interpolate(x, size=(4, 4), mode="bilinear"), (1, 4, 8), "rank_mismatch", "interpolate"),
    ("reflect", lambda s, x: F.pad(x, [3, 3], mode="reflect"), (1, 4, 3), "invalid_padding", "pad"),
    ("split", lambda s, x: torch.cat(x.split([3, 3], dim=1), 1), (1, 4, 3, 3), "skip_mismatch", "split"),
    ("stack", lambda s, x: torch.stack([x, x[:, :, 1:]], 1), (1, 4, 8, 8), "skip_mismatch", "stack"),
]


@pytest.mark.parametrize("dim", [0, 1, 2, 4, -1, -3, -5])
def test_stack_is_unsqueeze_and_cat(dim):
    """torch.stack: each operand unsqueezed at dim, joined along it; PyTorch's shape at every dim."""
    m = _Lambda(lambda s, x: torch.stack((s.c(x), s.c(x) * 2, F.relu(s.c(x))), dim=dim), c=nn.Conv2d(3, 4, 3))
    shape = (2, 3, 10, 9)
    with torch.no_grad():
        want = list(m(torch.randn(shape)).shape)
    r = convkit.check(m, shape)
    assert r.ok and r.output_shape == want
    st = [(l.name, l.type) for l in r.layers if l.name.startswith("stack")]
    assert st == [("stack_in0", "unsqueeze"), ("stack_in1", "unsqueeze"), ("stack_in2", "unsqueeze"),
                  ("stack", "cat")]


@pytest.mark.parametrize("name,fn,shape,code,layer", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_functional_code_agrees_with_torch(name, fn, shape, code, layer):
    from convkit import _errors

    m = _Lambda(fn, c=nn.Conv2d(3, 4, 3))
    with pytest.raises(Exception) as ei:
        with torch.no_grad():
            m(torch.randn(shape))
    assert _errors.classify(str(ei.value)) == code, str(ei.value)
    e = first_error(convkit.check(m, shape))
    assert (e["code"], e["layer"]) == (code, layer)


# A norm that uses the input's own statistics (BatchNorm in training mode or
# without running statistics, InstanceNorm with them in training mode)
# refuses one value per channel, as PyTorch does; the module's mode reaches
# the library (training=True). Each case is PyTorch's own verdict.
NORM_MODES = [
    ("bn1d-train-b1", lambda: nn.BatchNorm1d(8), True, (1, 8)),
    ("bn1d-eval-b1", lambda: nn.BatchNorm1d(8), False, (1, 8)),
    ("bn1d-train-b2", lambda: nn.BatchNorm1d(8), True, (2, 8)),
    ("bn1d-train-len1", lambda: nn.BatchNorm1d(8), True, (1, 8, 1)),
    ("bn1d-nostats-eval", lambda: nn.BatchNorm1d(8, track_running_stats=False), False, (1, 8)),
    ("bn2d-train-1x1", lambda: nn.BatchNorm2d(8), True, (1, 8, 1, 1)),
    ("bn2d-train-2x1", lambda: nn.BatchNorm2d(8), True, (1, 8, 2, 1)),
    ("in2d-stats-train", lambda: nn.InstanceNorm2d(8, track_running_stats=True), True, (1, 8, 1, 1)),
    ("in2d-stats-eval", lambda: nn.InstanceNorm2d(8, track_running_stats=True), False, (1, 8, 1, 1)),
]


@pytest.mark.parametrize("name,make,training,shape", NORM_MODES, ids=[c[0] for c in NORM_MODES])
def test_norm_mode_agrees_with_torch(name, make, training, shape):
    m = nn.Sequential(nn.Identity(), make()).train(training)
    try:
        m(torch.randn(shape))
        raised = None
    except ValueError as e:
        raised = str(e)
    r = convkit.check(m, shape)
    assert r.ok == (raised is None), (raised, str(r))
    if raised:
        e = first_error(r)
        assert e["layer"] == "1" and e["code"] == "output_too_small", e
        assert "expected more than 1" in e["message"], e["message"]
    assert m.training == training  # checking leaves the mode as it was

"""Ground truth for convkit's Python checker, made by running PyTorch itself.

truth(model, input_shape) runs a real forward pass (eval mode, no_grad, a
torch.randn input drawn after torch.manual_seed(seed)) and returns either

    {"ok": True, "output_shape": [...], "outputs": ..., "layer_shapes": {...}}

or

    {"ok": False, "error": <class>, "module": <path>, "functional": <bool>,
     "module_type": ..., "exception": ..., "message": ..., "source": ..., "input_shapes": ...}

* output_shape: the output tensor's shape; for a dict output the shape of
  "out" (else of the first value), for a tuple/list the first tensor's.
  "outputs" (dict/tuple/list outputs only) holds every tensor's shape.
* layer_shapes: {module path: output shape} of every leaf module (torch.fx's
  default leaf rule) that ran exactly once and returned one tensor.
* degenerate (only when it happened): the first leaf module that returned an
  empty tensor (a dimension of 0) from non-empty inputs without raising.
  PyTorch 1.13's MaxPool1d does that under no_grad when its window does not
  fit (with autograd on, the same call raises "Output size is too small"),
  and AdaptiveAvgPool1d then turns the empty tensor into NaNs of a normal
  shape, so the whole forward "succeeds". By DESIGN.md's rule (a window
  larger than the padded input is an error) convkit may call it
  output_too_small at that module; agreement.compare accepts either answer.
* error: the fixed vocabulary of the oracle corpus, classified from
  PyTorch's message by the project's own table (tests/oracle/gen/common.py,
  ERROR_CLASSES), then by EXTRA_CLASSES below for messages it does not know.
* module: the module path (as named_modules() spells it, "" for the model
  itself) of the innermost module whose forward was running when the
  exception was raised, tracked with forward pre-hooks and forward hooks
  (all removed again before returning).
* functional: True when the raising call was not the module's own
  computation but a functional op in its forward (torch.cat in a U-Net block,
  F.max_pool2d or x.view in a forward written in functional style). That is
  the case whenever the innermost module is not a torch.fx leaf (torch.fx
  records a leaf as one call_module node and traces through everything
  else). convkit names such an op under the module's path: "up1.cat",
  "flatten" at the top level.
* source: "file:line: code" of the line in that module's code that raised.
"""
import importlib.util
import linecache
import os
import re
import traceback

import torch
import torch.fx

_HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(_HERE))
_COMMON = os.path.join(REPO, "tests", "oracle", "gen", "common.py")


def _load_common():
    spec = importlib.util.spec_from_file_location("convkit_oracle_gen_common", _COMMON)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_common = _load_common()
ERROR_CLASSES = _common.ERROR_CLASSES

# Messages met in the zoo that the corpus classifier (ERROR_CLASSES) leaves as
# "other". Tried only when none of ERROR_CLASSES matches.
EXTRA_CLASSES = [
    # x.view / reshape whose target does not hold the tensor's elements:
    # "shape '[-1, 400]' is invalid for input of size 2704". The vocabulary has
    # the class but the corpus table has no pattern for it.
    ("reshape_mismatch", [
        r"shape '\[[-\d, ]*\]' is invalid for input of size \d+",
        r"cannot reshape tensor of 0 elements",
        r"unflatten: Provided sizes",
    ]),
    # InstanceNorm (without running stats it normalises over H*W even in eval
    # mode): "Expected more than 1 spatial element when training, got input
    # size [1, 64, 1, 1]"; GroupNorm / BatchNorm in training mode with one
    # value per channel: "Expected more than 1 value per channel when
    # training, got input size ...". The input's spatial extent is too small
    # for the layer, the same remedy (a larger input) as a window that does
    # not fit, so these count as output_too_small.
    ("output_too_small", [
        r"Expected more than 1 spatial element when training",
        r"Expected more than 1 value per channel when training",
    ]),
    # BatchNorm / InstanceNorm given a tensor of the wrong rank:
    # "expected 4D input (got 3D input)".
    ("rank_mismatch", [
        r"expected \d+D input \(got \d+D input\)",
        r"expected 2D or 3D input \(got \d+D input\)",
    ]),
]

VOCABULARY = ("output_too_small", "channel_mismatch", "feature_mismatch", "skip_mismatch",
              "reshape_mismatch", "invalid_padding", "invalid_output_size", "rank_mismatch",
              "empty_input", "invalid_config", "unsupported", "other")


def classify(message):
    """The error class of a PyTorch message: the corpus table first, then ours."""
    cls = _common.classify(message)
    if cls != "other":
        return cls
    for c, pats in EXTRA_CLASSES:
        for p in pats:
            if re.search(p, message):
                return c
    return "other"


_TRACER = torch.fx.Tracer()


def is_leaf(module, path=""):
    """torch.fx's default rule: modules of torch.nn (not Sequential) are leaves."""
    return _TRACER.is_leaf_module(module, path)


def _shape(t):
    return [int(s) for s in t.shape]


def _shapes_of(value):
    """Shapes of the tensors in a forward output (tensor, dict, tuple, list)."""
    if torch.is_tensor(value):
        return _shape(value)
    if isinstance(value, dict):
        return {str(k): _shapes_of(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_shapes_of(v) for v in value]
    return None


def _first_shape(value):
    if torch.is_tensor(value):
        return _shape(value)
    if isinstance(value, dict):
        if "out" in value:
            return _first_shape(value["out"])
        for v in value.values():
            s = _first_shape(v)
            if s is not None:
                return s
        return None
    if isinstance(value, (tuple, list)):
        for v in value:
            s = _first_shape(v)
            if s is not None:
                return s
    return None


def _arg_shapes(args):
    return [_shape(a) if torch.is_tensor(a) else type(a).__name__ for a in args]


def _source_of(exc, module):
    """file:line: code of the innermost frame running a method of `module`."""
    found = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        try:
            if frame.f_locals.get("self") is module:
                found = (frame.f_code.co_filename, lineno)
        except Exception:  # pragma: no cover - exotic frames
            pass
    if found is None:
        return None
    fname, lineno = found
    code = linecache.getline(fname, lineno).strip()
    return f"{os.path.basename(fname)}:{lineno}: {code}"


def truth(model, input_shape, seed=0):
    """Run `model` on torch.randn(input_shape) and describe what PyTorch did."""
    model.eval()
    names = {}
    for name, m in model.named_modules():
        names.setdefault(id(m), name)
    stack = []          # [(path, module, input shapes)] of forwards now running
    calls = {}          # path -> number of calls
    outs = {}           # path -> output shape (leaf modules, tensor outputs)
    degenerate = []     # the first leaf module that made an empty tensor of a non-empty one
    handles = []

    def pre_hook(path):
        def hook(mod, args):
            stack.append((path, mod, _arg_shapes(args)))
            calls[path] = calls.get(path, 0) + 1
        return hook

    def post_hook(path, leaf):
        def hook(mod, args, out):
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][1] is mod:
                    del stack[i:]
                    break
            if leaf and torch.is_tensor(out):
                outs[path] = _shape(out)
                if (out.numel() == 0 and not degenerate
                        and all(a.numel() > 0 for a in args if torch.is_tensor(a))):
                    degenerate.append({"module": path, "module_type": type(mod).__name__,
                                       "input_shapes": _arg_shapes(args),
                                       "output_shape": _shape(out)})
        return hook

    try:
        for name, m in model.named_modules():
            leaf = name != "" and is_leaf(m, name)
            handles.append(m.register_forward_pre_hook(pre_hook(name)))
            handles.append(m.register_forward_hook(post_hook(name, leaf)))
        torch.manual_seed(seed)
        x = torch.randn(*input_shape)
        try:
            with torch.no_grad():
                y = model(x)
        except Exception as exc:  # noqa: BLE001 - every failure is a record
            if stack:
                path, mod, in_shapes = stack[-1]
            else:
                path, mod, in_shapes = "", model, [_shape(x)]
            msg = str(exc).strip()
            if len(msg) > 2000:
                msg = msg[:2000]
            return {
                "ok": False,
                "error": classify(msg),
                "module": path,
                "functional": not (path != "" and is_leaf(mod, path)),
                "module_type": type(mod).__name__,
                "exception": type(exc).__name__,
                "message": msg,
                "source": _source_of(exc, mod),
                "input_shapes": in_shapes,
            }
    finally:
        for h in handles:
            h.remove()

    rec = {"ok": True, "output_shape": _first_shape(y)}
    if not torch.is_tensor(y):
        rec["outputs"] = _shapes_of(y)
    if degenerate:
        rec["degenerate"] = degenerate[0]
    rec["layer_shapes"] = {p: s for p, s in outs.items() if calls.get(p) == 1}
    return rec


class ZooRunner:
    """Builds zoo models one at a time (the previous one is dropped: the
    whole zoo at once would hold ~1.5 GB of weights) and caches truth records."""

    def __init__(self):
        self._name = None
        self._model = None
        self._records = {}

    def model(self, entry):
        if entry.name != self._name:
            self._model = None
            self._name = None
            torch.manual_seed(0)
            self._model = entry.build()
            self._name = entry.name
        return self._model

    def truth(self, entry, shape):
        key = (entry.name, tuple(shape))
        if key not in self._records:
            self._records[key] = truth(self.model(entry), shape)
        return self._records[key]


RUNNER = ZooRunner()


def summary(rec):
    """One short line for a record."""
    if rec["ok"]:
        return "ok " + "x".join(map(str, rec["output_shape"] or []))
    where = rec["module"] or "<top>"
    if rec["functional"]:
        where += " (functional)"
    return f"{rec['error']} at {where}"


if __name__ == "__main__":
    import json
    import sys
    import time

    sys.path.insert(0, _HERE)
    import zoo

    torch.set_num_threads(2)
    only = sys.argv[1:]
    t0 = time.time()
    for entry in zoo.all_models():
        if only and entry.name not in only:
            continue
        torch.manual_seed(0)
        model = entry.build()
        for shape in entry.shapes:
            t = time.time()
            rec = truth(model, shape)
            dt = time.time() - t
            brief = {k: v for k, v in rec.items() if k != "layer_shapes"}
            print(f"{entry.name:30s} {'x'.join(map(str, shape)):16s} {dt:6.2f}s  "
                  f"{summary(rec)}\n    {json.dumps(brief)[:400]}", flush=True)
        del model
    print(f"total {time.time() - t0:.1f}s")

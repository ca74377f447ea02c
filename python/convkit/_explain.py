"""convkit.explain() and the Jupyter extension: when a real forward pass
raises one of PyTorch's shape errors, add convkit's diagnosis of the model
that was being called (the layer, the formula with the numbers, the fixes).
The original exception stays the cause."""

import contextlib
import sys
import threading

import torch
import torch.nn as nn

from . import _errors

__all__ = ["explain", "ShapeError", "load_ipython_extension", "unload_ipython_extension", "diagnose"]


class ShapeError(RuntimeError):
    """PyTorch's shape error with convkit's diagnosis; __cause__ is PyTorch's."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


class _Watch:
    """Remembers the outermost module call and its input shapes (global
    forward hooks: nothing is recorded below the outermost call)."""

    def __init__(self):
        self.local = threading.local()
        self.handles = []
        self.users = 0

    def _state(self):
        s = self.local
        if not hasattr(s, "depth"):
            s.depth, s.model, s.shapes = 0, None, None
        return s

    def pre(self, m, args):
        s = self._state()
        if s.depth == 0:
            s.model = m
            s.shapes = [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)]
        s.depth += 1

    def post(self, m, args, out):
        s = self._state()
        s.depth = max(0, s.depth - 1)

    def start(self):
        if self.users == 0:
            mod = nn.modules.module
            self.handles = [mod.register_module_forward_pre_hook(self.pre),
                            mod.register_module_forward_hook(self.post)]
        self.users += 1

    def stop(self):
        self.users -= 1
        if self.users == 0:
            for h in self.handles:
                h.remove()
            self.handles = []

    def reset(self):
        s = self._state()
        s.depth, s.model, s.shapes = 0, None, None

    def last(self):
        s = self._state()
        return s.model, s.shapes


_WATCH = _Watch()


def diagnose(exc, model=None, input_size=None):
    """convkit's report for a shape error `exc` raised by `model` (default: the
    outermost module called last inside explain()); None when exc is not a
    shape error or there is no model to check."""
    if not _errors.is_shape_error(exc):
        return None
    if model is None:
        model, shapes = _WATCH.last()
    else:
        shapes = None
    if input_size is not None:
        shapes = input_size
    if model is None or not shapes:
        return None
    from . import _api

    try:
        return _api.check(model, input_size=shapes if len(shapes) != 1 else shapes[0])
    except Exception:  # the diagnosis must never hide PyTorch's own error
        return None


@contextlib.contextmanager
def explain(model=None, input_size=None):
    """Inside `with convkit.explain():` a PyTorch shape error raised by a forward
    pass becomes a convkit.ShapeError whose message adds convkit's diagnosis
    of the model being called; the original exception is its __cause__."""
    _WATCH.start()
    _WATCH.reset()
    try:
        yield
    except (RuntimeError, ValueError) as e:
        r = diagnose(e, model, input_size)
        if r is None or r.ok:
            raise
        raise ShapeError("%s\n\nconvkit:\n%s" % (e, r), r) from e
    finally:
        _WATCH.stop()


# ---- IPython / Jupyter -------------------------------------------------------------------

_IP = {}


def _pre_run_cell(*args):
    _WATCH.reset()


def _custom_exc(shell, etype, value, tb, tb_offset=None):
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    r = diagnose(value)
    if r is not None and not r.ok:
        print("\nconvkit:\n%s" % r, file=sys.stdout)
        try:
            from IPython.display import display

            display(r)
        except Exception:
            pass
    return None


def load_ipython_extension(ip):
    """%load_ext convkit: PyTorch shape errors in a cell get convkit's diagnosis."""
    if _IP.get("ip") is ip:
        return
    _WATCH.start()
    ip.events.register("pre_run_cell", _pre_run_cell)
    ip.set_custom_exc((RuntimeError, ValueError), _custom_exc)
    _IP["ip"] = ip


def unload_ipython_extension(ip):
    if _IP.get("ip") is not ip:
        return
    ip.events.unregister("pre_run_cell", _pre_run_cell)
    ip.set_custom_exc((), None)
    _WATCH.stop()
    _IP.pop("ip", None)

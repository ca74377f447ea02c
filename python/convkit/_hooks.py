"""The fallback for models torch.fx cannot trace (control flow that depends
on values): the model runs on `meta` tensors, which have shapes but no
memory, while forward hooks record every call of a module convkit knows.

What this captures is less than a trace: the calls between modules
(torch.cat, view, F.interpolate in forward()) are not seen. A tensor a
module reads that no recorded module produced becomes an extra input of the
graph with the shape PyTorch gave it, and the result says so in its notes.
"""

import contextlib

import torch
import torch.nn as nn

from . import _trace
from ._trace import Layer, Traced, cnn_name, leaf_type, literal, module_call_text, user_frame

__all__ = ["record"]


@contextlib.contextmanager
def _on_meta(model):
    """Parameters and buffers swapped for meta tensors of the same shapes."""
    saved = []
    for m in model.modules():
        for store in (m._parameters, m._buffers):
            for k, t in list(store.items()):
                if t is not None and t.device.type != "meta":
                    saved.append((store, k, t))
                    meta = torch.empty_like(t, device="meta")
                    store[k] = nn.Parameter(meta, t.requires_grad) if isinstance(t, nn.Parameter) else meta
    try:
        yield
    finally:
        for store, k, t in saved:
            store[k] = t


def _tensors(x, out):
    if isinstance(x, torch.Tensor):
        out.append(x)
    elif isinstance(x, (list, tuple)):
        for y in x:
            _tensors(y, out)
    elif isinstance(x, dict):
        for y in x.values():
            _tensors(y, out)
    return out


def record(model, input_shapes, fx_error):
    names = {m: p for p, m in model.named_modules()}
    calls = []  # [path, module, [input tensors], [output tensors] or None, site]
    stack = []
    keep = []  # every tensor seen, so that ids stay unique while recording

    def pre(m, args):
        c = [names.get(m, "?"), m, _tensors(args, []), None, user_frame()]
        keep.extend(c[2])
        calls.append(c)
        stack.append(c)

    def post(m, args, out):
        c = stack.pop()
        c[3] = _tensors(out, [])
        keep.extend(c[3])

    handles = []
    for m in model.modules():
        if leaf_type(m) is not None:
            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
    inputs = [torch.empty(tuple(s), device="meta") for s in input_shapes]
    keep.extend(inputs)
    error = None
    result = None
    try:
        with _on_meta(model), torch.no_grad():
            result = model(*inputs)
    except Exception as e:  # the model's own failure, or an op meta tensors cannot run
        error = e
    finally:
        for h in handles:
            h.remove()
    if not calls:
        raise _trace.TraceError(
            "torch.fx could not trace the model (%s), and running it on meta tensors recorded no "
            "layer convkit knows%s" % (_first_line(fx_error), ": " + _first_line(error) if error else ""))

    producer = {}
    lines, layers, order, ins, notes, used = [], {}, [], [], [], set()

    def unique(base):
        n, k = base, 1
        while n in used:
            n = "%s_%d" % (base, k)
            k += 1
        used.add(n)
        return n

    for i, t in enumerate(inputs):
        n = unique("x" if i == 0 else "x_%d" % i)
        producer[id(t)] = n
        ins.append((n, list(input_shapes[i])))
    extra = []
    for path, m, targs, outs, site in calls:
        refs = []
        for t in targs:
            n = producer.get(id(t))
            if n is None:
                n = unique("%s.input" % path)
                producer[id(t)] = n
                extra.append((n, list(t.shape)))
                notes.append("%s reads a tensor that no layer convkit recorded produced (an operation in "
                             "forward() between modules); convkit takes its shape %s as PyTorch computed it"
                             % (path, list(t.shape)))
            refs.append(cnn_name(n))
        name = unique(path)
        lines.append("%s = %s(%s)" % (cnn_name(name), module_call_text(m, leaf_type(m)), ", ".join(refs)))
        order.append(name)
        layers[name] = Layer(name, leaf_type(m), "nn." + type(m).__name__, module=path, call_site=site)
        for t in outs or []:
            producer[id(t)] = name
    failed_inside = bool(stack)  # a recorded module raised: convkit checks that module
    if error is not None and not failed_inside:
        # PyTorch stopped between the layers convkit records: end the graph there
        code, what = _classify(error)
        site = _error_site(error)
        last = order[-1] if order else ins[0][0]
        name = unique("forward.error")
        lines.append("%s = error(%s, code=%s, message=%s)" % (
            cnn_name(name), cnn_name(last), literal(code), literal(what)))
        order.append(name)
        layers[name] = Layer(name, "error", type(error).__name__, call_site=site)
    outputs = []
    for t in _tensors(result, []):
        if id(t) in producer and producer[id(t)] in layers:
            outputs.append(producer[id(t)])
    if not outputs:
        outputs = [order[-1]]
    notes.insert(0, "torch.fx could not trace the model (%s); convkit recorded the calls of the layers it "
                    "knows while the model ran on meta tensors, so operations between them are not checked"
                 % _first_line(fx_error))
    if error is not None and failed_inside:
        notes.append("running the model on meta tensors raised %s in %s: %s"
                     % (type(error).__name__, stack[-1][0], _first_line(error)))
    if len(ins) + len(extra) > 16:
        raise _trace.TraceError(
            "torch.fx could not trace the model (%s), and the layers recorded on meta tensors read %d "
            "tensors made between them, more than convkit can take as inputs" % (_first_line(fx_error), len(extra)))
    head = ["input %s: %s" % (cnn_name(n), literal(s)) for n, s in ins + extra]
    text = "\n".join(head + lines + ["output: " + ", ".join(cnn_name(o) for o in outputs)]) + "\n"
    tr = Traced(text, layers, ins + extra, notes, "hooks", order, outputs)
    tr.error = error
    return tr


def _classify(e):
    """(diagnostic code, message) for an exception raised in forward()."""
    msg = _first_line(e)
    if "_local_scalar_dense" in msg or "meta" in msg.lower() and "item" in msg.lower():
        return ("unsupported", "forward() reads tensor values here (Python control flow on a tensor, "
                "such as `if x.sum() > 0`); convkit checks shapes, and neither torch.fx nor meta "
                "tensors know values, so the layers after this line are not checked")
    try:
        from . import _errors

        code = _errors.classify(msg)
    except Exception:
        code = "unsupported"
    return (code, "PyTorch raised %s here: %s" % (type(e).__name__, msg))


def _error_site(e):
    """The innermost frame of the user's code in the traceback."""
    import os

    site = None
    tb = e.__traceback__
    while tb is not None:
        fn = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not fn.startswith(_trace._TORCH_DIR + os.sep) and not fn.startswith(_trace._PKG_DIR + os.sep):
            site = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return site


def _first_line(e):
    s = str(e).strip().splitlines()
    line = s[0] if s else type(e).__name__
    return line if len(line) <= 200 else line[:line.find(". ") + 1 or 200]

"""convkit.check / summary / sizes / fix on a live nn.Module."""

import html
import json
import os

import torch
import torch.nn as nn

from . import _hooks, _lib, _source, _trace

__all__ = ["check", "summary", "sizes", "fix", "to_cnn", "Result", "LayerInfo", "Fix"]


# ---- input sizes, torchinfo's way ----------------------------------------------------


def _is_shape(x):
    return isinstance(x, (tuple, list, torch.Size)) and all(isinstance(d, int) and not isinstance(d, bool) for d in x)


def input_shapes(input_size=None, input_data=None, batch_dim=None, dtypes=None):
    """The shapes of the model's inputs from torchinfo-style arguments."""
    if input_size is not None and input_data is not None:
        raise ValueError("give input_size or input_data, not both")
    if input_size is None and input_data is None:
        raise ValueError("convkit needs input_size (a shape such as (1, 3, 224, 224)) or input_data")
    if input_data is not None:
        data = input_data
        if isinstance(data, torch.Tensor):
            data = [data]
        elif isinstance(data, dict):
            data = list(data.values())
        shapes = []
        for t in data:
            if not isinstance(t, torch.Tensor):
                raise TypeError("input_data must hold tensors, got %s" % type(t).__name__)
            shapes.append(tuple(t.shape))
    else:
        if _is_shape(input_size):
            shapes = [tuple(input_size)]
        elif isinstance(input_size, (list, tuple)) and input_size and all(_is_shape(s) for s in input_size):
            shapes = [tuple(s) for s in input_size]
        else:
            raise TypeError(
                "input_size must be a shape such as (1, 3, 224, 224) or a list of shapes, got %r" % (input_size,))
    if batch_dim is not None:
        shapes = [s[:batch_dim] + (1,) + s[batch_dim:] for s in shapes]
    for s in shapes:
        if len(s) == 0 or len(s) > _lib.CK_MAX_RANK:
            raise ValueError("an input shape has %d dimensions; convkit takes 1 to %d" % (len(s), _lib.CK_MAX_RANK))
        for d in s:
            if d < 0:
                raise ValueError("input sizes must not be negative, got %r" % (tuple(s),))
    if dtypes is not None:
        if len(dtypes) != len(shapes):
            raise ValueError("dtypes has %d entries for %d inputs" % (len(dtypes), len(shapes)))
    return shapes


# ---- results ----------------------------------------------------------------------------


class LayerInfo:
    """One layer of the checked model (the `check --json` layer fields)."""

    def __init__(self, d, layer):
        self._d = d
        self.name = d.get("name")
        self.type = d.get("op")
        self.canonical_op = d.get("canonical_op")
        self.inputs = d.get("inputs", [])
        self.status = d.get("status")
        self.output_shape = d.get("output_shape")
        self.params = d.get("params", 0)
        self.macs = d.get("macs", 0)
        self.ops = d.get("ops", 0)
        self.module = layer.module if layer else None
        self.target = layer.target if layer else None
        self.call_site = layer.call_site if layer else None
        self.def_site = layer.def_site if layer else None
        self.receptive_field = d.get("receptive_field")

    def __getitem__(self, k):
        return self._d[k]

    def __repr__(self):
        return "LayerInfo(%r, %r, %s)" % (self.name, self.type, self.output_shape)


class Fix:
    """A verified fix: what to change, the network's output with it, and the
    user's source line edited to make it."""

    def __init__(self, d, source_edit):
        self._d = d
        self.kind = d.get("kind")
        self.layer = d.get("layer")
        self.change = d.get("change")
        self.why = d.get("why")
        self.output_shape = d.get("output_shape")
        self.args = d.get("args", {})
        self.source = source_edit  # "net.py:14: <line> -> <call>" or None

    def __repr__(self):
        return "Fix(%r%s)" % (self.change, ", layer=%r" % self.layer if self.layer else "")

    def __str__(self):
        return self.source or ("%s: %s" % (self.layer, self.change) if self.layer else self.change)


class Result:
    """What one analysis found. Prints as the command line prints it; the
    fields of its JSON document are attributes."""

    def __init__(self, kind, status, text, doc, traced, model_name, extra=""):
        self.kind = kind
        self.ok = status == _lib.CK_OK
        self.text = text
        self.json = doc
        self.traced = traced
        self.model_name = model_name
        self._extra = extra
        layers = traced.layers if traced else {}
        self.layers = [LayerInfo(d, layers.get(d.get("name"))) for d in doc.get("layers", [])]
        self.diagnostics = doc.get("diagnostics", [])
        self.fixes = []
        self.notes = list(traced.notes) if traced else []
        for d in self.diagnostics:
            if d.get("severity") == "error":
                self.fixes = [Fix(f, _fix_source(f, traced)) for f in d.get("fix_details", [])]
                break
        outs = traced.outputs if traced else []
        by = {l.name: l for l in self.layers}
        shapes = [by[o].output_shape for o in outs if o in by]
        # the first output's shape (a model returning several has them all in output_shapes)
        self.output_shape = shapes[0] if self.ok and shapes else None
        self.output_shapes = shapes if self.ok else None

    def __getattr__(self, k):
        doc = self.__dict__.get("json") or {}
        if k in doc:
            return doc[k]
        raise AttributeError(k)

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.text + self._extra

    def __repr__(self):
        return "<convkit %s of %s: %s>" % (self.kind, self.model_name, "ok" if self.ok else "invalid")

    @property
    def cnn(self):
        """The model as convkit's .cnn text (what the library checked)."""
        return self.traced.text if self.traced else None

    def _repr_html_(self):
        return _html(self)


def _fix_source(f, traced):
    """'net.py:14: self.fc = nn.Linear(16 * 5 * 5, 10) -> nn.Linear(16 * 13 * 13, 10)', or for a
    new input size the argument to pass: 'input_size=(1, 3, 32, 32)'."""
    if traced and f.get("kind") == "input":
        shapes = f.get("args", {}).get("input")
        if isinstance(shapes, list) and shapes and isinstance(shapes[0], int):
            return "input_size=%r" % (tuple(shapes),)
        return None
    if not traced or f.get("kind") not in ("layer", "upstream") or not f.get("layer"):
        return None
    lay = traced.layers.get(f["layer"])
    if not lay or not lay.def_site or not lay.module:
        return None
    m = traced.modules.get(lay.module)
    if m is None:
        return None
    args = {k: v for k, v in f.get("args", {}).items()}
    ed = _source.edit_call(lay.def_site, type(m), type(m).__name__, args)
    if not ed:
        return None
    return "%s -> %s" % (_source.site_str(lay.def_site), ed[1])


def _html(r):
    rows = []
    for l in r.layers:
        shape = "" if l.output_shape is None else html.escape(str(l.output_shape))
        cls = "" if l.status == "ok" else ' style="color:#b00"' if l.status == "failed" else ' style="color:#888"'
        rows.append("<tr%s><td>%s</td><td>%s</td><td>%s</td><td style='text-align:right'>%s</td>"
                    "<td style='text-align:right'>%s</td></tr>"
                    % (cls, html.escape(l.name or ""), html.escape(l.type or ""),
                       shape if l.status == "ok" else html.escape(l.status or ""), "{:,}".format(l.params),
                       "{:,}".format(l.macs)))
    diags = []
    for d in r.diagnostics:
        parts = [html.escape("%s: %s" % (d.get("layer") or d.get("severity"), d.get("message") or ""))]
        for k in ("input", "formula", "shrink"):
            if d.get(k):
                parts.append(html.escape(d[k]))
        parts += [html.escape(n) for n in d.get("notes", [])]
        diags.append("<li><pre style='margin:0'>%s</pre></li>" % "\n".join(parts))
    fixes = "".join("<li><code>%s</code></li>" % html.escape(str(f)) for f in r.fixes)
    svg = ""
    if r.traced is not None and getattr(r, "_svg", None) is None:
        try:
            g = r._graph
            _, svg = g.report("summary", "svg", model=r.model_name)
        except Exception:
            svg = ""
    head = "<b>%s</b>: %s" % (html.escape(r.model_name), "valid" if r.ok else "<span style='color:#b00'>invalid</span>")
    return ("<div>%s<table><tr><th>Layer</th><th>Type</th><th>Output shape</th><th>Params</th><th>MACs</th></tr>%s"
            "</table>%s%s%s</div>"
            % (head, "".join(rows), "<ul>%s</ul>" % "".join(diags) if diags else "",
               "<p>Fixes, each re-checked on the whole network:</p><ul>%s</ul>" % fixes if fixes else "", svg))


# ---- the entry points ---------------------------------------------------------------------


def _prepare(model, input_size, input_data, batch_dim, dtypes, kwargs):
    if not isinstance(model, nn.Module):
        raise TypeError("convkit expects a torch.nn.Module, got %s" % type(model).__name__)
    if kwargs:
        raise TypeError("unexpected keyword argument%s: %s" % ("s" if len(kwargs) > 1 else "", ", ".join(kwargs)))
    shapes = input_shapes(input_size, input_data, batch_dim, dtypes)
    traced = _traced(model, shapes)
    traced.modules = dict(model.named_modules())
    for lay in traced.layers.values():
        if lay.module is not None:
            lay.def_site = _source.def_site(traced.modules, lay.module)
    name = type(model).__name__
    g = _lib.Graph(traced.text, name)
    _attach_sources(g, traced)
    return traced, g, name


def _traced(model, shapes):
    """fx's symbolic trace; a model it cannot trace (control flow on values or
    shapes) is recorded with forward hooks on meta tensors instead."""
    try:
        return _trace.trace(model, shapes)
    except _trace.TraceError:  # convkit's own verdict on a model fx did trace
        raise
    except Exception as e:  # torch.fx's TraceError, or the model's code failing on proxies
        return _hooks.record(model, shapes, e)


def _attach_sources(g, traced):
    for i, name in enumerate(traced.order):
        lay = traced.layers.get(name)
        if lay is None:
            continue
        d = _source.site_str(lay.def_site)
        c = _source.site_str(lay.call_site)
        if d or c:
            g.set_source(i, d, c)


def _notes_text(traced):
    if not traced.notes:
        return ""
    return "".join("note: %s\n" % n for n in traced.notes)


def _fix_text(r):
    edits = [f.source for f in r.fixes if f.source and f.kind != "input"]
    if not edits:
        return ""
    return "fixes in the source:\n" + "".join("  %s\n" % e for e in edits)


def _run(kind, fmt, model, input_size, input_data, batch_dim, dtypes, kwargs, **opts):
    traced, g, name = _prepare(model, input_size, input_data, batch_dim, dtypes, kwargs)
    st, text = g.report(kind, fmt, model=name, **opts)
    _, js = g.report(kind, "json", model=name, **opts) if fmt != "json" else (st, text)
    doc = json.loads(js)
    r = Result(kind, st, text, doc, traced, name)
    r._graph = g
    extra = _notes_text(traced) + (_fix_text(r) if kind in ("check", "fix") else "")
    r._extra = extra
    return r


def check(model, input_size=None, input_data=None, batch_dim=None, dtypes=None, fixes=True, **kwargs):
    """Checks `model` at the given input size without running it.

    Returns a Result: `ok`, `output_shape`, `layers` (each with the module
    path as in named_modules()), `diagnostics` (the `check --json` fields),
    `fixes` (verified on the whole network, with the source line edited);
    print() shows what `convkit check` prints."""
    return _run("check", "text", model, input_size, input_data, batch_dim, dtypes, kwargs, fixes=fixes)


def summary(model, input_size=None, input_data=None, batch_dim=None, dtypes=None, format="table", **kwargs):
    """A torchinfo-style summary (format 'table', 'md', 'json' or 'svg')."""
    fmts = {"table": "text", "text": "text", "md": "md", "json": "json", "svg": "svg"}
    if format not in fmts:
        raise ValueError("format must be one of table, md, json, svg; got %r" % (format,))
    traced, g, name = _prepare(model, input_size, input_data, batch_dim, dtypes, kwargs)
    st, text = g.report("summary", fmts[format], model=name)
    _, js = g.report("summary", "json", model=name) if fmts[format] != "json" else (st, text)
    r = Result("summary", st, text, json.loads(js), traced, name)
    r._graph = g
    r._extra = _notes_text(traced)
    return r


def sizes(model, input_size=None, input_data=None, batch_dim=None, dtypes=None, range=(1, 1024), input=0, **kwargs):
    """Every input size the model accepts (spatial axes scanned over `range`)."""
    lo, hi = range
    if not (isinstance(lo, int) and isinstance(hi, int)) or lo < 1 or hi < lo:
        raise ValueError("range must be (lo, hi) with 1 <= lo <= hi, got %r" % (range,))
    return _run("sizes", "text", model, input_size, input_data, batch_dim, dtypes, kwargs, lo=lo, hi=hi,
                input=input)


def fix(model, input_size=None, input_data=None, batch_dim=None, dtypes=None, **kwargs):
    """Verified fixes for the model's first failure."""
    return _run("fix", "text", model, input_size, input_data, batch_dim, dtypes, kwargs)


def to_cnn(model, input_size=None, input_data=None, batch_dim=None, dtypes=None):
    """The model as convkit .cnn text (what `convkit check FILE` reads)."""
    shapes = input_shapes(input_size, input_data, batch_dim, dtypes)
    return _traced(model, shapes).text

"""From a live nn.Module to convkit's graph, without running it.

torch.fx traces the model symbolically: modules convkit knows are leaves,
containers and user modules are traced through, and every call in forward()
becomes a node. Each node is written as one line of convkit's .cnn text in
the PyTorch dialect (module calls in constructor syntax, functional calls
such as view(x, [n, -1]) and interpolate(x, size=s)), which the C library
parses and checks. Sizes used as values (x.size(0), skip.shape[2:]) become
size/getitem/arithmetic lines, so the library recomputes them at every input
size; nothing is frozen at trace time.

A model fx cannot trace (control flow on tensor values) falls back to
recording the calls of known modules with forward hooks while the model runs
on `meta` tensors, which allocate nothing.
"""

import builtins
import inspect
import math
import operator
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import _lib

__all__ = ["trace", "Traced", "Layer", "TraceError"]

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))


class TraceError(Exception):
    """The model cannot be turned into a convkit graph at all."""


class Layer:
    """What one .cnn line stands for: its name, what the user wrote, where."""

    def __init__(self, name, type_, target, module=None, call_site=None, def_site=None):
        self.name = name  # the layer name convkit reports (unique)
        self.type = type_  # "Conv2d", "cat", "view", ...
        self.target = target  # "nn.Conv2d", "torch.cat", "Tensor.view"
        self.module = module  # the named_modules() path of a module call, else None
        self.call_site = call_site  # (file, line) of the forward() line that called it
        self.def_site = def_site  # (file, line) where the module was constructed

    def __repr__(self):
        return "Layer(%r, %r)" % (self.name, self.type)


class Traced:
    """The model as .cnn text, and where each of its layers came from."""

    def __init__(self, text, layers, inputs, notes, method, order=(), outputs=()):
        self.text = text
        self.order = list(order)  # layer names in the graph's order
        self.outputs = list(outputs)  # the names of the values the model returns
        self.layers = layers  # name -> Layer
        self.inputs = inputs  # [(name, shape)]
        self.notes = notes  # what could not be captured, etc.
        self.method = method  # "fx" or "hooks"


# ---- names --------------------------------------------------------------------


def _is_ident(s):
    return s.replace(".", "_").isidentifier() and not s[0].isdigit() and ".." not in s


def cnn_name(name):
    """A name as .cnn writes it: bare when it reads as a name, else in backquotes."""
    if _is_ident(name) and not name.startswith(".") and not name.endswith("."):
        return name
    return "`%s`" % name


def literal(v):
    """A Python value as a .cnn literal."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            raise TraceError("NaN argument")
        return repr(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, torch.Size):
        v = tuple(v)
    if isinstance(v, tuple):
        inner = ", ".join(literal(x) for x in v)
        return "(%s,)" % inner if len(v) == 1 else "(%s)" % inner
    if isinstance(v, list):
        return "[%s]" % ", ".join(literal(x) for x in v)
    if isinstance(v, torch.dtype):
        return repr(str(v))
    raise TraceError("cannot write %r as a .cnn value" % (v,))


# ---- which modules are leaves -------------------------------------------------------

_KNOWN = None


def known_modules():
    """nn classes the library has a PyTorch frontend entry for."""
    global _KNOWN
    if _KNOWN is None:
        names = _lib.layer_types("pytorch")
        _KNOWN = {}
        for n in names:
            cls = getattr(nn, n, None)
            if isinstance(cls, type) and issubclass(cls, nn.Module):
                _KNOWN[cls] = n
    return _KNOWN


def leaf_type(m):
    """The .cnn type of a module convkit checks as one layer, else None.
    A subclass that overrides forward() is traced through instead."""
    for cls, name in known_modules().items():
        if isinstance(m, cls) and type(m).forward is cls.forward:
            return name
    return None


def _ctor_args(m):
    """A known module's constructor arguments, read back from its attributes."""
    cls = type(m)
    for base in cls.__mro__:
        if base in known_modules():
            cls = base
            break
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        params = []
    out = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype"):
            continue
        if p.name == "bias" and hasattr(m, "bias"):
            out.append(("bias", m.bias is not None))
            continue
        if p.name == "init" and isinstance(m, nn.PReLU):
            continue
        if not hasattr(m, p.name):
            continue
        v = getattr(m, p.name)
        if isinstance(v, (nn.Module, torch.Tensor)):
            continue
        if isinstance(v, torch.Size):
            v = tuple(v)
        try:
            literal(v)
        except TraceError:
            continue
        out.append((p.name, v))
    # the module's mode, which decides whether a norm uses the input's own
    # statistics (and refuses one value per channel, as PyTorch does)
    if isinstance(m, nn.modules.batchnorm._NormBase) and m.training:
        out.append(("training", True))
    return out


def module_call_text(m, type_name):
    args = ", ".join("%s=%s" % (k, literal(v)) for k, v in _ctor_args(m))
    return "%s(%s)" % (type_name, args)


# ---- source sites -----------------------------------------------------------------------


def user_frame():
    """(file, line) of the innermost frame outside torch and convkit: the line
    of the user's forward() that made the current call."""
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_TORCH_DIR + os.sep) and not fn.startswith(_PKG_DIR + os.sep) and "<" not in fn[:1]:
            return (f.f_code.co_filename, f.f_lineno)
        f = f.f_back
    return None


# ---- the fx tracer -------------------------------------------------------------------------


class _Proxy(torch.fx.Proxy):
    """fx's Proxy, with `a, b, c, d = x.size()` working on Python 3.11: fx 1.13
    finds the unpacking instruction by f_lasti // 2, which inline caches break."""

    def __iter__(self):
        import dis

        frame = inspect.currentframe().f_back
        for inst in dis.get_instructions(frame.f_code):
            if inst.offset == frame.f_lasti:
                if inst.opname == "UNPACK_SEQUENCE":
                    return (self[i] for i in range(inst.argval))
                break
        return self.tracer.iter(self)


def _functional_functions():
    """The public functions of torch.nn.functional (not the classes and
    helpers it imports)."""
    out = []
    for name, v in vars(F).items():
        if name.startswith("_"):
            continue
        if (inspect.isfunction(v) and v.__module__ == "torch.nn.functional") or inspect.isbuiltin(v):
            out.append(v)
    return out


class _Tracer(torch.fx.Tracer):
    def __init__(self):
        # The functions of torch.nn.functional become nodes as they are called,
        # not traced into: F.pad(x, [dx // 2, ...]) takes sizes known only as
        # proxies, which the builtin refuses, and F.interpolate's own checks
        # would otherwise branch on proxies.
        super().__init__(autowrap_modules=(math,))
        self._autowrap_search.append(F)
        self._autowrap_function_ids.update(id(f) for f in _functional_functions())
        # torch.cat(x.split(...), 1): a tuple that is one proxy, which the builtin refuses
        self._autowrap_search.append(torch)
        self._autowrap_function_ids.update(id(f) for f in (torch.cat, torch.concat, torch.stack))
        self.scope = [""]

    def proxy(self, node):
        return _Proxy(node, self)

    def is_leaf_module(self, m, qualname):
        return leaf_type(m) is not None

    def call_module(self, m, forward, args, kwargs):
        try:
            path = self.path_of_module(m)
        except NameError:
            path = self.scope[-1]
        self.scope.append(path)
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self.scope.pop()

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        # a leaf's own path is on top of the stack; its caller's scope is below
        node.meta["convkit_scope"] = self.scope[-2] if kind == "call_module" else self.scope[-1]
        node.meta["convkit_site"] = user_frame()
        return node


# ---- values ------------------------------------------------------------------------------

T, I = "t", "i"  # tensor, integer (a size or arithmetic on sizes)


class V:
    """A converted fx value: a named .cnn value (tensor or integer), a Python
    constant, or a sequence of values."""

    __slots__ = ("kind", "name", "value", "items")

    def __init__(self, kind, name=None, value=None, items=None):
        self.kind, self.name, self.value, self.items = kind, name, value, items

    def __repr__(self):
        return "V(%s, %r, %r)" % (self.kind, self.name, self.value if self.items is None else self.items)


def const(v):
    return V("c", value=v)


class Unsupported(Exception):
    pass


# fx-level functions by identity, with the argument order PyTorch documents
_F_SIG = {
    "max_pool": ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"],
    "avg_pool": ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"],
    "adaptive": ["input", "output_size", "return_indices"],
    "interpolate": ["input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias"],
    "pad": ["input", "pad", "mode", "value"],
    "conv": ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
    "conv_transpose": ["input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"],
    "linear": ["input", "weight", "bias"],
    "layer_norm": ["input", "normalized_shape", "weight", "bias", "eps"],
    "group_norm": ["input", "num_groups", "weight", "bias", "eps"],
    "dropout": ["input", "p", "training", "inplace"],
    "softmax": ["input", "dim", "_stacklevel", "dtype"],
    "leaky_relu": ["input", "negative_slope", "inplace"],
    "pixel_shuffle": ["input", "upscale_factor"],
    "pixel_unshuffle": ["input", "downscale_factor"],
    "channel_shuffle": ["input", "groups"],
    "elu": ["input", "alpha", "inplace"],
    "hardtanh": ["input", "min_val", "max_val", "inplace"],
    "relu6": ["input", "inplace"],
    "gelu": ["input", "approximate"],
    "softplus": ["input", "beta", "threshold"],
    "act": ["input", "inplace"],
    "flatten": ["input", "start_dim", "end_dim"],
    "cat": ["tensors", "dim"],
    "reduce": ["input", "dim", "keepdim", "dtype"],
    "transpose": ["input", "dim0", "dim1"],
    "size": ["input", "dim"],
    "binary": ["input", "other", "alpha"],
    "chunk": ["input", "chunks", "dim"],
    "split": ["input", "split_size_or_sections", "dim"],
    "unsqueeze": ["input", "dim"],
    "squeeze": ["input", "dim"],
}


def _bind(kind, args, kwargs):
    names = _F_SIG[kind]
    out = {}
    for i, a in enumerate(args):
        if i >= len(names):
            raise Unsupported("too many arguments")
        out[names[i]] = a
    for k, v in kwargs.items():
        out[k] = v
    return out


_ACT_MODULE = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "silu": "SiLU",
    "hardswish": "Hardswish",
    "hardsigmoid": "Hardsigmoid",
    "selu": "SELU",
    "softsign": "Softsign",
}


# F.pixel_shuffle(x, 2) is nn.PixelShuffle(2)(x), and so on
_SHUFFLE_MODULE = {
    "pixel_shuffle": ("PixelShuffle", "upscale_factor"),
    "pixel_unshuffle": ("PixelUnshuffle", "downscale_factor"),
    "channel_shuffle": ("ChannelShuffle", "groups"),
}


def _function_key(target):
    """A name for an fx call_function target: 'F.relu', 'torch.cat', 'operator.add'."""
    mod = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", None) or str(target)
    if target is getattr(operator, name, None):
        return "operator." + name
    if target is getattr(builtins, name, None):
        return "builtins." + name
    if target is getattr(F, name, None) or mod.startswith("torch.nn.functional"):
        return "F." + name
    if target is getattr(torch, name, None) or mod in ("torch", "torch.functional"):
        return "torch." + name
    if mod.startswith("torch._C._nn"):
        return "F." + name
    return "%s.%s" % (mod, name)


class _Converter:
    """Turns fx nodes into .cnn lines."""

    def __init__(self, model, graph, input_shapes, method="fx"):
        self.model = model
        self.graph = graph
        self.input_shapes = input_shapes
        self.lines = []
        self.layers = {}
        self.order = []
        self.outputs = []
        self.inputs = []
        self.notes = []
        self.used = set()
        self.env = {}
        self.modules = dict(model.named_modules())
        self.module_paths = set(self.modules)
        self.method = method

    # -- naming
    def unique(self, base):
        name = base
        k = 1
        while name in self.used or (name != base and name in self.module_paths):
            name = "%s_%d" % (base, k)
            k += 1
        self.used.add(name)
        return name

    def fn_name(self, node, base):
        scope = node.meta.get("convkit_scope", "") if node is not None else ""
        return self.unique("%s.%s" % (scope, base) if scope else base)

    # -- emitting
    def ref(self, v):
        if v.kind in (T, I):
            return cnn_name(v.name)
        if v.kind == "c":
            return literal(v.value)
        if v.kind == "seq":
            return "[%s]" % ", ".join(self.ref(x) for x in v.items)
        raise Unsupported("value %r" % (v,))

    def emit(self, name, rhs, layer):
        self.lines.append("%s = %s" % (cnn_name(name), rhs))
        self.order.append(name)
        self.layers[name] = layer

    def layer_for(self, node, name, type_, target, module=None):
        site = node.meta.get("convkit_site") if node is not None else None
        return Layer(name, type_, target, module=module, call_site=site)

    # -- values
    def val(self, a):
        """fx argument -> V"""
        if isinstance(a, torch.fx.Node):
            v = self.env.get(a)
            if v is None:
                raise Unsupported("the value of %s is not known" % a.name)
            return v
        if isinstance(a, (list, tuple)) and not isinstance(a, torch.Size):
            items = [self.val(x) for x in a]
            if all(x.kind == "c" for x in items):
                return const(type(a)(x.value for x in items))
            return V("seq", items=items)
        if isinstance(a, slice):
            return const(a)
        return const(a)

    def tensor(self, v, what="input"):
        if v.kind != T:
            raise Unsupported("%s is not a tensor" % what)
        return v

    def is_num(self, v):
        return v.kind == I or (v.kind == "c" and isinstance(v.value, (int, float)) and not isinstance(v.value, bool))

    def int_list(self, v):
        """A list argument that may mix constants and known sizes -> its .cnn text."""
        if v.kind == "c":
            if isinstance(v.value, (list, tuple, torch.Size)):
                return literal(list(v.value))
            return literal(v.value)
        if v.kind == I:
            return cnn_name(v.name)
        if v.kind == "seq":
            parts = []
            for x in v.items:
                if x.kind == I:
                    parts.append(cnn_name(x.name))
                elif x.kind == "c" and (isinstance(x.value, int) or x.value is None):
                    parts.append(literal(x.value))
                else:
                    raise Unsupported("a size list entry that is not an integer")
            return "[%s]" % ", ".join(parts)
        raise Unsupported("a size list computed from a tensor's values")

    # -- the conversion
    def run(self):
        for node in self.graph.nodes:
            try:
                self.env[node] = self.convert(node)
            except Unsupported as e:
                self.env[node] = self.unsupported(node, str(e))
        return self.finish()

    def unsupported(self, node, why):
        """An op convkit does not know: an unsupported_op layer naming it."""
        if node.op == "output":
            raise TraceError("the model's output is %s" % why)
        tensors = []
        for a in _flat(node.args, node.kwargs):
            if isinstance(a, torch.fx.Node):
                v = self.env.get(a)
                if v is not None and v.kind == T and cnn_name(v.name) not in tensors:
                    tensors.append(cnn_name(v.name))
        desc = self.describe(node)
        if node.op == "call_module":
            name = self.unique(node.target)
            type_ = desc.split(".")[-1] + "_forward"  # never a type convkit knows
        else:
            base = desc.split(".")[-1].strip("_") or node.name
            name = self.fn_name(node, base)
            # `pad()(x)` would read as the functional call pad(...): the
            # layer is named for the call, never a type convkit knows
            type_ = base + "_call"
        if not tensors:
            raise TraceError("%s (%s) reads no tensor convkit can follow: %s" % (name, desc, why))
        self.emit(name, "%s()(%s)" % (cnn_name(type_) if _is_ident(type_) else "unknown", ", ".join(tensors)),
                  self.layer_for(node, name, type_, desc, module=node.target if node.op == "call_module" else None))
        self.notes.append("%s: %s is not a layer convkit knows (%s)" % (name, desc, why))
        return V(T, name)

    def describe(self, node):
        if node.op == "call_module":
            return type(self.modules[node.target]).__module__.split(".")[0] + "." + type(self.modules[node.target]).__name__
        if node.op == "call_method":
            return "Tensor." + node.target
        if node.op == "call_function":
            return _function_key(node.target)
        return node.op

    def convert(self, node):
        op = node.op
        if op == "placeholder":
            return self.placeholder(node)
        if op == "get_attr":
            return V("param", name=node.target, value=_get_attr(self.model, node.target))
        if op == "call_module":
            return self.call_module(node)
        if op == "call_function":
            return self.call_function(node)
        if op == "call_method":
            return self.call_method(node)
        if op == "output":
            return self.output(node)
        raise Unsupported("fx op %s" % op)

    def placeholder(self, node):
        k = len(self.inputs)
        if k >= len(self.input_shapes):
            if node.args:  # a default value: a constant
                return const(node.args[0])
            raise TraceError(
                "forward() takes an input '%s' but only %d input size%s given"
                % (node.target, len(self.input_shapes), " was" if len(self.input_shapes) == 1 else "s were"))
        name = self.unique(node.target.lstrip("*"))
        self.inputs.append((name, list(self.input_shapes[k])))
        return V(T, name)

    def call_module(self, node):
        m = self.modules[node.target]
        t = leaf_type(m)
        if t is None:
            raise Unsupported("module %s is not one convkit knows" % type(m).__name__)
        args = [self.val(a) for a in node.args]
        kwargs = {k: self.val(v) for k, v in node.kwargs.items()}
        if isinstance(m, nn.modules.conv._ConvTransposeNd) and len(args) == 2:
            kwargs["output_size"] = args.pop()  # forward(input, output_size)
        fwd = []
        for k, v in kwargs.items():
            if k != "output_size" or not isinstance(m, nn.modules.conv._ConvTransposeNd):
                raise Unsupported("%s.forward() with the argument %s" % (type(m).__name__, k))
            if v.kind == "c" and v.value is None:
                continue
            fwd.append("%s=%s" % (k, self.int_list(v)))
        ins = [self.tensor(a) for a in args]
        name = self.unique(node.target)
        rhs = "%s(%s)" % (module_call_text(m, t), ", ".join([cnn_name(x.name) for x in ins] + fwd))
        self.emit(name, rhs, self.layer_for(node, name, t, "nn." + type(m).__name__, module=node.target))
        return V(T, name)

    def call_method(self, node):
        return self.function("Tensor." + node.target, node, list(node.args), dict(node.kwargs))

    def call_function(self, node):
        return self.function(_function_key(node.target), node, list(node.args), dict(node.kwargs))

    def output(self, node):
        outs = []

        def walk(a):
            if isinstance(a, torch.fx.Node):
                v = self.env[a]
                if v.kind == T:
                    outs.append(v.name)
                elif v.kind == "seq":
                    for x in v.items:
                        if x.kind == T:
                            outs.append(x.name)
            elif isinstance(a, (list, tuple)):
                for x in a:
                    walk(x)
            elif isinstance(a, dict):
                for x in a.values():
                    walk(x)

        walk(node.args[0])
        if not outs:
            raise TraceError("the model returns no tensor")
        self.outputs = outs
        return None

    # the functional vocabulary
    def function(self, key, node, args, kwargs):
        short = key.split(".", 1)[1] if "." in key else key
        base = short.rstrip("_") if short.endswith("_") and not short.startswith("_") else short
        vals = [self.val(a) for a in args]
        kv = {k: self.val(v) for k, v in kwargs.items()}

        # no-ops: the value itself
        if key == "torchvision.ops.stochastic_depth.stochastic_depth" and vals:
            return vals[0]  # drops whole samples or rows: the shape is the input's
        if base in ("contiguous", "clone", "detach", "float", "cpu", "cuda", "to", "type_as", "requires_grad",
                    "_assert", "_log_api_usage_once", "double", "half") and vals:
            if base == "_assert":
                return const(None)
            return vals[0]
        if key in ("builtins.getattr", "getattr"):
            obj, attr = vals[0], args[1]
            if attr == "shape" and obj.kind == T:
                return self.size(node, obj, None)
            if attr in ("device", "dtype"):
                return const(None)
            raise Unsupported("attribute %s" % attr)
        if key == "operator.getitem" or base == "__getitem__":
            return self.getitem(node, vals[0], args[1])
        if base in ("size",) and vals and vals[0].kind == T:
            b = _bind("size", args, kwargs)
            d = self.val(b["dim"]) if "dim" in b else None
            return self.size(node, vals[0], d)
        if base == "dim" and vals and vals[0].kind == T:
            raise Unsupported("the rank of a tensor as a value")

        # arithmetic
        ops = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "div": "div", "floordiv": "floordiv",
               "mod": "mod", "iadd": "add", "isub": "sub", "imul": "mul", "itruediv": "div", "floor_divide": "floordiv",
               "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div", "__floordiv__": "floordiv",
               "__radd__": "radd", "__rsub__": "rsub", "__rmul__": "rmul", "__rtruediv__": "rdiv"}
        if base in ops and len(vals) >= 2:
            return self.binary(node, ops[base], vals[0], vals[1], kv)
        if base == "neg" and vals and vals[0].kind == T:
            return self.simple(node, "neg", "mul(%s, -1)" % self.ref(vals[0]), key)

        # activations
        if base in _ACT_MODULE:
            return self.module_form(node, key, _ACT_MODULE[base], "", vals[0])
        fname = base
        if fname == "leaky_relu":
            b = _bind("leaky_relu", args, kwargs)
            return self.module_form(node, key, "LeakyReLU", self.kw(b, ["negative_slope"]), self.val(b["input"]))
        if fname == "elu":
            b = _bind("elu", args, kwargs)
            return self.module_form(node, key, "ELU", self.kw(b, ["alpha"]), self.val(b["input"]))
        if fname == "hardtanh":
            b = _bind("hardtanh", args, kwargs)
            return self.module_form(node, key, "Hardtanh", self.kw(b, ["min_val", "max_val"]), self.val(b["input"]))
        if fname == "gelu":
            b = _bind("gelu", args, kwargs)
            return self.module_form(node, key, "GELU", self.kw(b, ["approximate"]), self.val(b["input"]))
        if fname == "softplus":
            b = _bind("softplus", args, kwargs)
            return self.module_form(node, key, "Softplus", self.kw(b, ["beta", "threshold"]), self.val(b["input"]))
        if fname in ("softmax", "log_softmax"):
            b = _bind("softmax", args, kwargs)
            return self.module_form(node, key, "Softmax" if fname == "softmax" else "LogSoftmax",
                                    self.kw(b, ["dim"]), self.val(b["input"]))
        if fname in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
            b = _bind("dropout", args, kwargs)
            return self.module_form(node, key, "Dropout", self.kw(b, ["p"]), self.val(b["input"]))

        # pooling
        for nd in (1, 2, 3):
            if fname == "max_pool%dd" % nd or fname == "max_pool%dd_with_indices" % nd:
                b = _bind("max_pool", args, kwargs)
                if b.get("return_indices"):
                    raise Unsupported("max pooling that returns indices")
                return self.module_form(node, key, "MaxPool%dd" % nd,
                                        self.kw(b, ["kernel_size", "stride", "padding", "dilation", "ceil_mode"]),
                                        self.val(b["input"]))
            if fname == "avg_pool%dd" % nd:
                b = _bind("avg_pool", args, kwargs)
                return self.module_form(node, key, "AvgPool%dd" % nd,
                                        self.kw(b, ["kernel_size", "stride", "padding", "ceil_mode",
                                                    "count_include_pad", "divisor_override"]),
                                        self.val(b["input"]))
            for kind in ("avg", "max"):
                if fname == "adaptive_%s_pool%dd" % (kind, nd) or fname == "adaptive_%s_pool%dd_with_indices" % (kind, nd):
                    b = _bind("adaptive", args, kwargs)
                    if b.get("return_indices"):
                        raise Unsupported("adaptive pooling that returns indices")
                    return self.module_form(node, key, "Adaptive%sPool%dd" % (kind.capitalize(), nd),
                                            self.kw(b, ["output_size"]), self.val(b["input"]))
            if fname in ("conv%dd" % nd, "conv_transpose%dd" % nd):
                return self.fconv(node, key, fname, nd, args, kwargs)
        # moving data between channels and pixels: the modules of the same name
        if fname in _SHUFFLE_MODULE:
            type_, arg = _SHUFFLE_MODULE[fname]
            b = _bind(fname, args, kwargs)
            return self.module_form(node, key, type_, self.kw(b, [arg]), self.val(b["input"]))
        if fname == "linear":
            b = _bind("linear", args, kwargs)
            w = self.param(b.get("weight"), "weight")
            bias = b.get("bias")
            x = self.tensor(self.val(b["input"]))
            return self.module_form(node, key, "Linear", "%d, %d, bias=%s" % (w.shape[1], w.shape[0], bias is not None), x)
        if fname == "layer_norm":
            b = _bind("layer_norm", args, kwargs)
            return self.module_form(node, key, "LayerNorm", self.kw(b, ["normalized_shape", "eps"], first=True),
                                    self.val(b["input"]))
        if fname == "group_norm":
            b = _bind("group_norm", args, kwargs)
            w = self.param(b.get("weight"), "weight")
            ng = self.val(b["num_groups"]).value
            return self.module_form(node, key, "GroupNorm", "%s, %d" % (literal(ng), w.shape[0]), self.val(b["input"]))

        # resizing and padding
        if fname in ("interpolate", "upsample"):
            b = _bind("interpolate", args, kwargs)
            x = self.tensor(self.val(b["input"]))
            parts = [cnn_name(x.name)]
            if b.get("size") is not None:
                parts.append("size=%s" % self.int_list(self.val(b["size"])))
            for k in ("scale_factor", "mode", "align_corners", "recompute_scale_factor"):
                if b.get(k) is not None:
                    v = self.val(b[k])
                    if v.kind != "c":
                        raise Unsupported("%s computed from sizes" % k)
                    parts.append("%s=%s" % (k, literal(v.value)))
            return self.simple(node, "interpolate", "interpolate(%s)" % ", ".join(parts), key)
        if fname == "pad":
            b = _bind("pad", args, kwargs)
            x = self.tensor(self.val(b["input"]))
            parts = [cnn_name(x.name), self.int_list(self.val(b["pad"]))]
            for k in ("mode", "value"):
                if b.get(k) is not None:
                    parts.append("%s=%s" % (k, literal(self.val(b[k]).value)))
            return self.simple(node, "pad", "pad(%s)" % ", ".join(parts), key)

        # joins and layout
        if fname in ("cat", "concat", "concatenate"):
            b = _bind("cat", args, kwargs)
            ts = self.val(b["tensors"])
            items = ts.items if ts.kind == "seq" else [ts]
            names = [cnn_name(self.tensor(t, "a cat operand").name) for t in items]
            d = self.val(b.get("dim", 0)).value
            if len(names) == 1:
                return items[0]
            return self.simple(node, "cat", "cat(%s, dim=%s)" % (", ".join(names), literal(d)), key)
        if fname == "stack":
            # stack = each operand unsqueezed at dim, then cat along it (the
            # same dim: both count it in the rank + 1 of the result)
            b = _bind("cat", args, kwargs)
            ts = self.val(b["tensors"])
            items = ts.items if ts.kind == "seq" else [ts]
            d = self.val(b.get("dim", 0))
            if d.kind != "c":
                raise Unsupported("a stack dim computed from sizes")
            us = []
            for i, t in enumerate(items):
                x = self.tensor(t, "a stack operand")
                u = self.fn_name(node, "stack_in%d" % i)
                self.emit(u, "unsqueeze(%s, dim=%s)" % (cnn_name(x.name), literal(d.value)),
                          self.layer_for(node, u, "unsqueeze", key))
                us.append(u)
            if len(us) == 1:
                return V(T, us[0])
            return self.simple(node, "stack", "cat(%s, dim=%s)" % (
                ", ".join(cnn_name(u) for u in us), literal(d.value)), key)
        if fname == "flatten":
            b = _bind("flatten", args, kwargs)
            x = self.tensor(self.val(b["input"]))
            return self.simple(node, "flatten", "flatten(%s, start_dim=%s, end_dim=%s)"
                               % (cnn_name(x.name), literal(self.val(b.get("start_dim", 0)).value),
                                  literal(self.val(b.get("end_dim", -1)).value)), key)
        if fname in ("view", "reshape"):
            x = self.tensor(vals[0])
            rest = args[1:] if fname == "view" or key.startswith("Tensor.") else args[1:2]
            if "shape" in kwargs:
                rest = [kwargs["shape"]]
            if len(rest) == 1 and (isinstance(rest[0], (list, tuple, torch.Size)) or
                                   (isinstance(rest[0], torch.fx.Node) and self.val(rest[0]).kind == I and
                                    self._is_vector(rest[0]))):
                shape = self.val(rest[0])
            else:
                shape = V("seq", items=[self.val(a) for a in rest])
            return self.simple(node, fname, "view(%s, %s)" % (cnn_name(x.name), self.int_list(shape)), key, type_=fname)
        if fname == "permute":
            x = self.tensor(vals[0])
            dims = args[1:] if key.startswith("Tensor.") else args[1:2]
            if "dims" in kwargs:
                dims = [kwargs["dims"]]
            if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
                dims = list(dims[0])
            return self.simple(node, "permute", "permute(%s, %s)" % (cnn_name(x.name), literal([int(d) for d in dims])), key)
        if fname in ("transpose", "swapaxes", "swapdims"):
            b = _bind("transpose", args, kwargs)
            x = self.tensor(self.val(b["input"]))
            return self.simple(node, "transpose", "transpose(%s, %s, %s)" % (
                cnn_name(x.name), literal(self.val(b["dim0"]).value), literal(self.val(b["dim1"]).value)), key)
        if fname in ("mean", "sum", "amax", "amin"):
            b = _bind("reduce", args, kwargs)
            x = self.tensor(self.val(b["input"]))
            parts = [cnn_name(x.name)]
            if b.get("dim") is not None:
                parts.append("dim=%s" % literal(self.val(b["dim"]).value))
            if b.get("keepdim"):
                parts.append("keepdim=True")
            return self.simple(node, fname, "%s(%s)" % (fname, ", ".join(parts)), key)
        if fname in ("chunk", "split"):
            b = _bind("chunk", args, kwargs) if fname == "chunk" else _bind("split", args, kwargs)
            x = self.tensor(self.val(b["input"]))
            d = self.val(b.get("dim", 0)).value
            if fname == "chunk":
                k = self.val(b["chunks"]).value
                rhs = "chunk(%s, %s, dim=%s)" % (cnn_name(x.name), literal(k), literal(d))
            else:
                sz = self.val(b["split_size_or_sections"])
                if sz.kind != "c" or not isinstance(sz.value, (list, tuple)):
                    raise Unsupported("split into pieces of one size (give the list of sizes)")
                k = len(sz.value)
                rhs = "split(%s, %s, dim=%s)" % (cnn_name(x.name), literal(list(sz.value)), literal(d))
            if not isinstance(k, int) or k < 1 or k > 64:
                raise Unsupported("%s into %r pieces" % (fname, k))
            name = self.fn_name(node, fname)
            self.emit(name, rhs, self.layer_for(node, name, fname, key))
            return V("seq", items=[V(T, "%s.%d" % (name, i)) for i in range(k)])
        if fname in ("squeeze", "unsqueeze"):
            b = _bind(fname, args, kwargs)
            x = self.val(b["input"])
            if x.kind not in (T, I):
                raise Unsupported("%s of a constant" % fname)
            parts = [cnn_name(x.name)]
            if b.get("dim") is not None:
                parts.append("dim=%s" % literal(self.val(b["dim"]).value))
            return self.simple(node, fname, "%s(%s)" % (fname, ", ".join(parts)), key, kind=x.kind)
        if fname == "t" and vals and vals[0].kind == T:
            return self.simple(node, "transpose", "transpose(%s, 0, 1)" % cnn_name(vals[0].name), key)
        raise Unsupported("%s is not a function convkit knows" % key)

    def _is_vector(self, n):
        """An fx node that stands for a whole torch.Size (x.size(), x.shape[1:])."""
        v = self.env.get(n)
        return v is not None and v.kind == I and getattr(v, "value", None) == "vector"

    def kw(self, b, names, first=False):
        parts = []
        for i, k in enumerate(names):
            if k in b and b[k] is not None:
                v = self.val(b[k])
                if v.kind != "c":
                    raise Unsupported("%s computed from sizes" % k)
                parts.append(literal(v.value) if (first and i == 0) else "%s=%s" % (k, literal(v.value)))
        return ", ".join(parts)

    def param(self, a, what):
        if isinstance(a, torch.fx.Node) and self.env.get(a) is not None and self.env[a].kind == "param":
            return self.env[a].value
        raise Unsupported("the %s is not a parameter of the model" % what)

    def fconv(self, node, key, fname, nd, args, kwargs):
        tr = fname.startswith("conv_transpose")
        b = _bind("conv_transpose" if tr else "conv", args, kwargs)
        w = self.param(b.get("weight"), "weight")
        groups = self.val(b.get("groups", 1)).value
        x = self.tensor(self.val(b["input"]))
        if tr:
            cin, cout = w.shape[0], w.shape[1] * groups
        else:
            cin, cout = w.shape[1] * groups, w.shape[0]
        parts = ["%d, %d, %s" % (cin, cout, literal(tuple(w.shape[2:])))]
        for k in ("stride", "padding", "output_padding", "dilation"):
            if k in b:
                v = self.val(b[k])
                if v.kind != "c":
                    raise Unsupported("%s computed from sizes" % k)
                parts.append("%s=%s" % (k, literal(v.value)))
        parts.append("groups=%d" % groups)
        parts.append("bias=%s" % (b.get("bias") is not None))
        t = ("ConvTranspose%dd" if tr else "Conv%dd") % nd
        return self.module_form(node, key, t, ", ".join(parts), x)

    def module_form(self, node, key, type_, argtext, x):
        x = self.tensor(x)
        base = key.split(".")[-1].rstrip("_")
        name = self.fn_name(node, base)
        self.emit(name, "%s(%s)(%s)" % (type_, argtext, cnn_name(x.name)), self.layer_for(node, name, type_, key))
        return V(T, name)

    def simple(self, node, base, rhs, key, type_=None, kind=T):
        name = self.fn_name(node, base)
        self.emit(name, rhs, self.layer_for(node, name, type_ or base, key))
        return V(kind, name)

    def size(self, node, x, d):
        if d is None:
            v = self.simple(node, "size", "size(%s)" % cnn_name(x.name), "Tensor.size", kind=I)
            v.value = "vector"
            return v
        if d.kind != "c":
            raise Unsupported("a dim computed from sizes")
        return self.simple(node, "size", "size(%s, dim=%s)" % (cnn_name(x.name), literal(d.value)), "Tensor.size",
                           kind=I)

    def getitem(self, node, obj, idx):
        if obj.kind == "seq":
            i = idx if not isinstance(idx, torch.fx.Node) else None
            if isinstance(i, int):
                return obj.items[i]
            if isinstance(i, slice):
                return V("seq", items=obj.items[i])
            raise Unsupported("indexing a list with a computed index")
        if obj.kind == "c":
            return const(obj.value[idx])
        if obj.kind not in (T, I):
            raise Unsupported("indexing %s" % obj.kind)
        items = idx if isinstance(idx, tuple) else (idx,)
        if any(x is Ellipsis for x in items):
            raise Unsupported("indexing with ...")
        if any(x is None for x in items):
            # x[:, None]: the indexing without the new axes, then each new
            # axis unsqueezed where it lands (ints drop their axis)
            if obj.kind != T:
                raise Unsupported("indexing sizes with None (a new axis)")
            rest = tuple(e for e in items if e is not None)
            pos, k = [], 0
            for e in items:
                if e is None:
                    pos.append(k)
                k += e is None or isinstance(e, slice)
            v = obj if all(e == slice(None) for e in rest) else self.getitem(node, obj, rest)
            for p in pos:
                u = self.fn_name(node, "unsqueeze")
                self.emit(u, "unsqueeze(%s, dim=%d)" % (cnn_name(v.name), p),
                          self.layer_for(node, u, "unsqueeze", "operator.getitem"))
                v = V(T, u)
            return v

        def entry(e):
            if isinstance(e, torch.fx.Node):
                v = self.val(e)
                if v.kind != I:
                    raise Unsupported("indexing with a tensor")
                return cnn_name(v.name)
            if e is None or isinstance(e, int):
                return literal(e)
            raise Unsupported("index %r" % (e,))

        parts = []
        for e in items:
            if isinstance(e, slice):
                if e.start is None and e.stop is None and e.step is None:
                    parts.append("None")
                else:
                    parts.append("[%s, %s, %s]" % (entry(e.start), entry(e.stop), entry(e.step)))
            else:
                parts.append(entry(e))
        kind = obj.kind
        v = self.simple(node, "getitem", "getitem(%s, [%s])" % (cnn_name(obj.name), ", ".join(parts)),
                        "operator.getitem", kind=kind)
        if kind == I and getattr(obj, "value", None) == "vector" and any(isinstance(e, slice) for e in items):
            v.value = "vector"
        return v

    def binary(self, node, op, a, b, kv):
        if op in ("radd", "rsub", "rmul", "rdiv"):
            a, b = b, a
            op = {"radd": "add", "rsub": "sub", "rmul": "mul", "rdiv": "div"}[op]
        if a.kind == "c" and b.kind == "c":
            raise Unsupported("arithmetic on constants")
        for v in (a, b):
            if v.kind not in (T, I, "c") or (v.kind == "c" and not self.is_num(v)):
                raise Unsupported("an operand that is neither a tensor, a size nor a number")
        kind = T if T in (a.kind, b.kind) else I
        rhs = "%s(%s, %s)" % (op, self.ref(a), self.ref(b))
        return self.simple(node, op, rhs, "operator." + op, kind=kind)

    def finish(self):
        if len(self.inputs) < len(self.input_shapes):
            raise TraceError("forward() takes %d input%s but %d input sizes were given"
                             % (len(self.inputs), "" if len(self.inputs) == 1 else "s", len(self.input_shapes)))
        head = []
        for name, shape in self.inputs:
            head.append("input %s: %s" % (cnn_name(name), literal(list(shape))))
        outs = getattr(self, "outputs", [])
        tail = ["output: " + ", ".join(cnn_name(o) for o in outs)] if outs else []
        text = "\n".join(head + self.lines + tail) + "\n"
        return Traced(text, self.layers, self.inputs, self.notes, self.method, self.order, outs)


def _flat(args, kwargs):
    out = []

    def walk(a):
        if isinstance(a, (list, tuple)):
            for x in a:
                walk(x)
        elif isinstance(a, dict):
            for x in a.values():
                walk(x)
        else:
            out.append(a)

    walk(args)
    walk(kwargs)
    return out


def _get_attr(model, target):
    obj = model
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def trace(model, input_shapes):
    """Traces `model` for inputs of the given shapes without running it.
    Raises torch.fx's own exception when the model cannot be traced
    symbolically (the caller falls back to _hooks.record)."""
    if not isinstance(model, nn.Module):
        raise TypeError("convkit expects a torch.nn.Module, got %s" % type(model).__name__)
    graph = _Tracer().trace(model)
    return _Converter(model, graph, input_shapes).run()

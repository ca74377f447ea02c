"""python3 -m convkit check|summary|sizes|fix MODEL --input SHAPE [options]

MODEL is path/to/net.py:ClassName (or a factory function), or an importable
module path such as torchvision.models:resnet18. The exit status is the
CLI's: 0 valid, 1 invalid model, 2 bad usage or a model that cannot be built.
"""

import argparse
import importlib
import importlib.util
import json
import os
import sys

USAGE = __doc__


def _shape(text):
    t = text.strip()
    if t.startswith("[") or t.startswith("("):
        parts = [p for p in t.strip("[]()").split(",") if p.strip()]
    else:
        parts = t.split("x")
    try:
        s = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a shape like 1x3x224x224 or [1,3,224,224], got %r" % text)
    if not s or any(d < 0 for d in s):
        raise argparse.ArgumentTypeError("expected a shape like 1x3x224x224, got %r" % text)
    return s


def _range(text):
    try:
        a, b = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected --range A:B, got %r" % text)
    return (a, b)


def _load(spec, init):
    """Builds the model that `spec` names."""
    if ":" not in spec:
        raise ValueError("MODEL must be path/to/net.py:ClassName or module:ClassName, got %r" % spec)
    where, name = spec.rsplit(":", 1)
    if where.endswith(".py") or os.path.sep in where:
        if not os.path.exists(where):
            raise ValueError("no such file: %s" % where)
        modname = "convkit_user_" + os.path.splitext(os.path.basename(where))[0]
        sys.path.insert(0, os.path.dirname(os.path.abspath(where)))
        s = importlib.util.spec_from_file_location(modname, where)
        mod = importlib.util.module_from_spec(s)
        sys.modules[modname] = mod
        s.loader.exec_module(mod)
    else:
        mod = importlib.import_module(where)
    obj = mod
    for part in name.split("."):
        if not hasattr(obj, part):
            raise ValueError("%s has no attribute %r" % (where, part))
        obj = getattr(obj, part)
    import torch.nn as nn

    if isinstance(obj, nn.Module):
        return obj
    if not callable(obj):
        raise ValueError("%s is neither a module class nor a function that builds one" % spec)
    m = obj(**init)
    if not isinstance(m, nn.Module):
        raise ValueError("%s(...) returned %s, not a torch.nn.Module" % (spec, type(m).__name__))
    return m


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m convkit", description="Check a PyTorch model without running it.",
                                usage=USAGE)
    p.add_argument("command", choices=["check", "summary", "sizes", "fix"])
    p.add_argument("model", help="path/to/net.py:ClassName or module:ClassName")
    p.add_argument("--input", action="append", type=_shape, default=[], help="input shape; repeat for several")
    p.add_argument("--init", default="{}", help="constructor arguments as JSON, e.g. '{\"num_classes\": 10}'")
    p.add_argument("--json", action="store_true", help="print the one JSON object")
    p.add_argument("--format", default=None, help="summary: table, md, json or svg")
    p.add_argument("--range", type=_range, default=None, help="sizes: A:B")
    p.add_argument("--no-fixes", action="store_true", help="check: skip the fix search")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2

    def usage_error(msg):
        if a.json:
            print(json.dumps({"ok": False, "error": "usage", "message": msg}, indent=2))
        else:
            print("convkit: %s" % msg, file=sys.stderr)
        return 2

    try:
        init = json.loads(a.init)
        if not isinstance(init, dict):
            raise ValueError("--init must be a JSON object")
    except ValueError as e:
        return usage_error("--init: %s" % e)
    if not a.input:
        return usage_error("--input SHAPE is required (e.g. --input 1x3x224x224)")
    try:
        model = _load(a.model, init)
    except Exception as e:
        return usage_error("cannot build %s: %s: %s" % (a.model, type(e).__name__, e))

    from . import _api, _trace

    shapes = a.input if len(a.input) > 1 else a.input[0]
    try:
        if a.command == "check":
            r = _api.check(model, input_size=shapes, fixes=not a.no_fixes)
        elif a.command == "summary":
            fmt = "json" if a.json else (a.format or "table")
            r = _api.summary(model, input_size=shapes, format=fmt)
        elif a.command == "sizes":
            r = _api.sizes(model, input_size=shapes, **({"range": a.range} if a.range else {}))
        else:
            r = _api.fix(model, input_size=shapes)
    except (_trace.TraceError, TypeError, ValueError) as e:
        return usage_error("%s: %s" % (a.model, e))
    if a.json:
        print(json.dumps(r.json, indent=2))
    else:
        sys.stdout.write(str(r))
    return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())

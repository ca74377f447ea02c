"""Where a model's layers are written: the line that constructed each module
and the forward() line that called it, and a fix shown as that source line
edited."""

import ast
import inspect
import linecache
import math
import os

import torch.nn as nn

__all__ = ["def_site", "line_text", "site_str", "edit_call"]

_TORCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(nn.__file__)))


def line_text(site):
    if not site:
        return ""
    return linecache.getline(site[0], site[1]).strip()


def site_str(site, with_text=True):
    """'net.py:14: self.fc = nn.Linear(16 * 5 * 5, 10)'"""
    if not site:
        return None
    short = os.path.relpath(site[0]) if not site[0].startswith("<") else site[0]
    if len(short) > len(site[0]):
        short = site[0]
    text = line_text(site) if with_text else ""
    return "%s:%d: %s" % (short, site[1], text) if text else "%s:%d" % (short, site[1])


_AST_CACHE = {}


def _class_ast(cls):
    """(file, ast of the class body) of a user-defined class, or None."""
    if cls in _AST_CACHE:
        return _AST_CACHE[cls]
    res = None
    try:
        fn = inspect.getsourcefile(cls)
        if fn and not os.path.abspath(fn).startswith(_TORCH_DIR):
            lines, start = inspect.getsourcelines(cls)
            src = "".join(lines)
            indent = len(lines[0]) - len(lines[0].lstrip())
            src = "\n".join(line[indent:] if len(line) >= indent else line for line in src.splitlines())
            tree = ast.parse(src)
            res = (fn, tree, start - 1)
    except (OSError, TypeError, SyntaxError, IndentationError):
        res = None
    _AST_CACHE[cls] = res
    return res


def _self_attr_target(t, attr):
    return isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name) and t.value.id == "self"


def _assignment(cls, attr):
    """The value node of `self.<attr> = ...` (or add_module('<attr>', ...)) in the
    class's methods, with the file and line offset; searched along the MRO."""
    for c in cls.__mro__:
        if c is nn.Module:
            break
        found = _class_ast(c)
        if not found:
            continue
        fn, tree, off = found
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if _self_attr_target(t, attr):
                        return fn, node.value, off, node
            elif isinstance(node, ast.AnnAssign) and _self_attr_target(node.target, attr):
                return fn, node.value, off, node
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("add_module", "register_module") and len(node.args) >= 2:
                    a0 = node.args[0]
                    if isinstance(a0, ast.Constant) and a0.value == attr:
                        return fn, node.args[1], off, node
    return None


def def_site(modules, path):
    """(file, line) of the expression that constructed module `path`, or of its
    nearest ancestor that can be found; None when nothing can."""
    parts = path.split(".") if path else []
    for depth in range(len(parts), 0, -1):
        parent = modules.get(".".join(parts[: depth - 1]))
        if parent is None:
            continue
        hit = _assignment(type(parent), parts[depth - 1])
        if not hit:
            continue
        fn, value, off, stmt = hit
        # inline containers: nn.Sequential(a, b, c) -> the k-th argument
        node = value
        for k in parts[depth:]:
            if (isinstance(node, ast.Call) and k.isdigit() and int(k) < len(node.args)
                    and not any(isinstance(a, ast.Starred) for a in node.args)):
                node = node.args[int(k)]
            elif isinstance(node, (ast.List, ast.Tuple)) and k.isdigit() and int(k) < len(node.elts):
                node = node.elts[int(k)]
            else:
                break
        return (fn, node.lineno + off)
    return None


# ---- fixes as source edits ----------------------------------------------------------


def _file_call_at(fn, line, type_name):
    """The ast Call at `line` of file `fn` whose callee is named type_name, with
    the file's text."""
    try:
        src = "".join(linecache.getlines(fn))
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return None, None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line:
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if name == type_name:
                best = node
                break
    return best, src


def _segment(src, node):
    return ast.get_source_segment(src, node)


def _factors(expr):
    """[16, 5, 5] for `16 * 5 * 5`; None when expr is not such a product."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, int):
        return [expr.value]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        a, b = _factors(expr.left), _factors(expr.right)
        if a and b:
            return a + b
    return None


def _int_root(q, m):
    r = round(q ** (1.0 / m))
    for c in (r - 1, r, r + 1):
        if c > 0 and c ** m == q:
            return c
    return None


def _value_text(old_expr, new):
    """The new value written like the old one: a product of factors keeps its
    leading factors (16 * 5 * 5 -> 16 * 13 * 13 for 2704)."""
    f = _factors(old_expr) if old_expr is not None else None
    if isinstance(new, int) and f and len(f) > 1:
        for k in range(len(f) - 1, -1, -1):
            p = math.prod(f[:k])
            if p == 0 or new % p:
                continue
            q, rest = new // p, f[k:]
            if len(set(rest)) == 1:
                r = _int_root(q, len(rest))
                if r:
                    return " * ".join(str(x) for x in f[:k] + [r] * len(rest))
            if len(rest) == 1:
                return " * ".join(str(x) for x in f[:k] + [q])
    if isinstance(new, list):
        new = tuple(new)
    return repr(new)


def edit_call(site, cls, type_name, args):
    """`site`'s line with the constructor call of `cls` edited to take `args`
    ({name: value}); (old_text, new_text) of the call, or None."""
    if not site:
        return None
    node, src = _file_call_at(site[0], site[1], type_name)
    if node is None or node.end_lineno is None:
        return None
    try:
        params = [p for p in list(inspect.signature(cls.__init__).parameters)[1:]]
    except (TypeError, ValueError):
        return None
    old = _segment(src, node)
    if old is None:
        return None
    edits = []  # (start, end, text) relative to the call text
    base = _offset(src, node.lineno, node.col_offset)
    tail = []
    for name, value in args.items():
        expr = None
        for kw in node.keywords:
            if kw.arg == name:
                expr = kw.value
        if expr is None and name in params:
            i = params.index(name)
            if i < len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args[: i + 1]):
                expr = node.args[i]
        if expr is None:
            tail.append("%s=%s" % (name, _value_text(None, value)))
            continue
        s = _offset(src, expr.lineno, expr.col_offset) - base
        e = _offset(src, expr.end_lineno, expr.end_col_offset) - base
        edits.append((s, e, _value_text(expr, value)))
    new = old
    for s, e, t in sorted(edits, reverse=True):
        new = new[:s] + t + new[e:]
    if tail:
        close = new.rstrip().rfind(")")
        inner = new[:close].rstrip()
        sep = "" if inner.endswith("(") else ", "
        new = inner + sep + ", ".join(tail) + new[close:]
    return old, new


def _offset(src, line, col):
    """Character offset in src of ast's (line, col); ast counts col in UTF-8 bytes."""
    lines = src.splitlines(keepends=True)
    head = lines[line - 1].encode("utf-8")[:col].decode("utf-8", "ignore")
    return sum(len(x) for x in lines[: line - 1]) + len(head)

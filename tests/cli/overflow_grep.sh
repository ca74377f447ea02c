# Every addition, subtraction and multiplication on dimensions goes through
# the checked helpers (ck_add/ck_sub/ck_mul, src/core/core.h) or, for costs,
# the saturating ones (ck_sat_add/ck_sat_mul, documented in src/ops/ops.h):
# a static scan of the code that computes shapes. In these files an int64_t
# is a dimension or a quantity made from dimensions (ranks, axes and loop
# counters are int), so the scan flags every raw binary + - * and += -= *=
# with an int64_t operand: a local or parameter declared int64_t in the
# file, or a field of the shape and attribute structs that holds sizes. A
# flagged line must be listed below with the reason it cannot overflow;
# an entry that matches nothing fails too, so the list stays current.
# Prints "overflow_grep: N passed, M failed".
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" - "$@" <<'EOF'
import re
import sys

FILES = ["src/ops/activation.c", "src/ops/common.c", "src/ops/conv.c", "src/ops/join.c",
         "src/ops/linear.c", "src/ops/norm.c", "src/ops/onnx_shape_ops.c", "src/ops/pad.c",
         "src/ops/pool.c", "src/ops/registry.c", "src/ops/reshape.c", "src/ops/resize.c",
         "src/ops/shuffle.c", "src/ops/torch_fn.c", "src/ops/expand.c", "src/ops/eval.c", "src/graph/check.c", "src/analyze/sizes.c",
         "src/analyze/rf.c", "src/analyze/fix.c", "src/import/fe_pytorch.c",
         "src/import/fe_onnx.c", "src/import/fe_keras.c"]

# int64_t fields of ck_shape, ck_attrs, ck_dynlist, ck_val, ck_node, ck_window, ck_cost:
# arrays (read indexed) and scalars
ARRAY_FIELDS = {"d", "kernel", "stride", "dilation", "pad_begin", "pad_end", "out_pad", "size",
                "shape", "perm", "axes", "lit"}
FIELDS = {"in_ch", "out_ch", "groups", "depth_multiplier", "in_features", "out_features",
          "num_groups", "num_features", "chunks", "nkval", "params_count", "macs", "ops",
          "fail_value", "in", "k", "s", "pb", "pe", "dropped", "padded"}
# struct members reached with . or -> that are int64 only in these structs
MEMBER_ONLY = {"in", "k", "s", "pb", "pe", "ops"}

# (file, text on the flagged line, why it cannot overflow)
ALLOWED = [
    ('src/ops/join.c',
     'm += y',
     "floor division's remainder adjustment: m and y have opposite signs and |m| < |y|"),
    ('src/ops/onnx_shape_ops.c',
     '*out = (int)(a < 0 ? a + r : a);',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'if (s < 0) s += r;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'if (e < 0) e += r;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'int64_t n = e > s ? e - s : 0;',
     'both clamped to [0, rank] just above'),
    ('src/ops/onnx_shape_ops.c',
     'idx[i] = iv[i] < 0 ? iv[i] + dim : iv[i];',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'if (s < 0) s += x->rank;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/reshape.c',
     'st[i] = xst[perm[i] < 0 ? perm[i] + x->rank : perm[i]];',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'if (b < 0) b += dim;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'if (e < 0) e += dim;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/onnx_shape_ops.c',
     'len = e > b ? (e - b - 1) / s + 1 : 0;',
     'b and e clamped to [0, dim] and e > b: the result is at most e - b'),
    ('src/ops/onnx_shape_ops.c',
     'b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;',
     'dim >= 0: dim - 1 >= -1'),
    ('src/ops/onnx_shape_ops.c',
     'e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;',
     'dim >= 0: dim - 1 >= -1'),
    ('src/ops/onnx_shape_ops.c',
     'len = b > e ? (s == INT64_MIN ? 1 : (b - e - 1) / -s + 1) : 0;',
     'b and e clamped to [-1, dim - 1], b > e, s < 0 and not INT64_MIN'),
    ('src/ops/reshape.c',
     'int64_t p = perm[i] < 0 ? perm[i] + n : perm[i];',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/torch_fn.c',
     '*out = (int)(d < 0 ? d + rr : d);',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/torch_fn.c',
     'if (v < 0) v += d;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/torch_fn.c',
     'int64_t j = a < 0 ? a + d : a;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/ops/torch_fn.c',
     'r[n++] = v[start[0] + k * step[0]];',
     'an index into a known shape vector (at most CK_MAX_KVAL entries) that the slice stays inside'),
    ('src/analyze/rf.c',
     'int64_t from = perm[k] < 0 ? perm[k] + r : perm[k];',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/analyze/rf.c',
     'if (tx < 0) tx += x->rank;',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/analyze/rf.c',
     'int64_t d0 = d[0] < 0 ? d[0] + r : d[0]',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/analyze/rf.c',
     'int64_t ax = axes[i] < 0 ? axes[i] + x->rank : axes[i];',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/analyze/rf.c',
     'int64_t ax = v[i] < 0 ? v[i] + x->rank : v[i];',
     'a negative index or axis plus a size or rank (>= 0): the sum lies between them'),
    ('src/analyze/fix.c',
     'r * r > q',
     'isqrt: r is at most 3037000499 = floor(sqrt(INT64_MAX)) there'),
    ('src/analyze/fix.c',
     '(r + 1) * (r + 1) <= q',
     'isqrt: r + 1 is at most 3037000499 = floor(sqrt(INT64_MAX)) there'),
    ('src/analyze/fix.c',
     'side * side == q',
     'side = isqrt(q) <= 3037000499: its square fits'),
]

KEYWORDS = {"return", "sizeof", "case", "if", "while", "for", "else", "do", "switch"}


def strip(text):
    """Comments and string/char literals blanked, line structure kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def int64_names(code):
    names = set()
    for m in re.finditer(r"\bint64_t\b([^;{)]*)", code):
        decl = re.sub(r"\[[^\]]*\]", "", m.group(1))
        decl = re.sub(r"=[^,]*", "", decl)
        for part in decl.split(","):
            w = re.findall(r"[A-Za-z_]\w*", part)
            if len(w) == 1:  # "int64_t a, b": not the next parameter's "int n"
                names.add(w[0])
    # int64_t parameters in prototypes: "int64_t x" inside parentheses
    for m in re.finditer(r"\bint64_t\s*\*?\s*([A-Za-z_]\w*)", code):
        names.add(m.group(1))
    return names


TYPE_WORDS = re.compile(r"^(int|int64_t|char|double|float|bool|void|const|size_t|unsigned|"
                        r"uint8_t|int8_t|ck_\w+|rt_\w+|rf_\w+|kbin|knobs|search|struct|static)$")


def operand_left(s, i):
    """The primary expression ending before index i: (name, is_member, text)."""
    j = i - 1
    while j >= 0 and s[j] == " ":
        j -= 1
    end = j + 1
    depth = 0
    while j >= 0:
        ch = s[j]
        if ch in ")]":
            depth += 1
        elif ch in "([":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not (ch.isalnum() or ch in "_.>") and not (ch == "-" and s[j + 1:j + 2] == ">"):
            break
        j -= 1
    return s[j + 1:end].strip()


def operand_right(s, i):
    j = i
    while j < len(s) and s[j] == " ":
        j += 1
    start = j
    depth = 0
    while j < len(s):
        ch = s[j]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not (ch.isalnum() or ch in "_.") and not (ch == "-" and s[j + 1:j + 2] == ">") \
                and not (ch == ">" and s[j - 1] == "-"):
            break
        j += 1
    return s[start:j].strip()


def is_int64(expr, names):
    """Whether a primary expression is an int64 dimension value."""
    cast = re.match(r"^\((\w+)\)", expr.strip())
    if cast:  # a cast decides the type: (double)ext is not int64 arithmetic
        return cast.group(1) == "int64_t"
    indexed = "[" in expr
    e = re.sub(r"\[[^\[\]]*\]", "", expr)
    e = re.sub(r"\[[^\[\]]*\]", "", e)
    e = e.strip("() ")
    if not e or e[0].isdigit() or e.startswith("("):
        return False
    parts = re.split(r"->|\.", e)
    last = parts[-1]
    if not re.match(r"^[A-Za-z_]\w*$", last):
        return False
    if len(parts) > 1:
        return last in FIELDS or (indexed and last in ARRAY_FIELDS)
    return last in names


def scopes(code):
    """Per line, the int64_t names in scope: the file's top level plus the
    enclosing top-level function (its parameters and locals)."""
    lines = code.split("\n")
    depth, start, spans = 0, 0, []
    for i, line in enumerate(lines):
        for ch in line:
            if ch == "{":
                if depth == 0:
                    start = i
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    spans.append((start, i))
    top = [l for i, l in enumerate(lines) if not any(a <= i <= b for a, b in spans)]
    # file-level int64 variables: declarations, not the heads of functions
    glob = int64_names("\n".join(st for st in " ".join(top).split(";") if "(" not in st))
    per = [set(glob) for _ in lines]
    for a, b in spans:
        h = a
        while h > 0 and lines[h - 1].strip() and not lines[h - 1].strip().endswith((";", "}")):
            h -= 1  # the function's head (its parameters) above the brace
        names = glob | int64_names("\n".join(lines[h:b + 1]))
        for i in range(a, b + 1):
            per[i] = names
    return per


def scan(path):
    code = strip(open(path).read())
    per = scopes(code)
    hits = []
    for ln, line in enumerate(code.split("\n"), 1):
        s = line
        names = per[ln - 1]
        for m in re.finditer(r"(\+=|-=|\*=|(?<![+\-*/=<>!&|^%])[+\-*](?![+\-=>*]))", s):
            op, i = m.group(1), m.start()
            if op in ("+", "-", "*"):
                if s[i - 1:i] == op or s[i + 1:i + 2] == op:
                    continue
                left = operand_left(s, i)
                if not left or left in KEYWORDS or left.endswith(("(", ",", "=", "?", ":")):
                    continue  # unary
                lw = re.findall(r"\w+$", left)
                if op == "*" and lw and TYPE_WORDS.match(lw[0]):
                    continue  # a pointer declaration
                right = operand_right(s, i + 1)
                if op == "*" and (not right or right[0] in ")," ):
                    continue  # a cast to a pointer type
                if is_int64(left, names) or is_int64(right, names):
                    hits.append((ln, line.strip()))
                    break
            else:
                left = operand_left(s, i)
                if is_int64(left, names):
                    hits.append((ln, line.strip()))
                    break
    return hits


def main():
    src = {}
    failed = passed = 0
    used = [False] * len(ALLOWED)
    for f in FILES:
        raw = open(f).read().split("\n")
        for ln, _ in scan(f):
            text = raw[ln - 1].strip()
            ok = False
            for k, (af, snippet, why) in enumerate(ALLOWED):
                if af == f and snippet in text:
                    used[k] = ok = True
            if ok:
                passed += 1
            else:
                failed += 1
                print("%s:%d: unchecked dimension arithmetic: %s" % (f, ln, text))
    for k, (af, snippet, why) in enumerate(ALLOWED):
        if not used[k]:
            failed += 1
            print("%s: the allowed exception %r matches nothing any more" % (af, snippet))
    passed += 1  # the scan itself ran over every file
    print("overflow_grep: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
EOF

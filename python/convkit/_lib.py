"""ctypes binding to libconvkit.so: only what the package needs, and every
pointer the library returns released with ck_free.

The library is found, in order: $CONVKIT_LIB; libconvkit.so.0 next to this
package (an installed copy); the build directory of the source tree this
package sits in (build/ next to python/); the system's library path (after
`make install`).
"""

import ctypes
import ctypes.util
import json
import os

__all__ = ["Graph", "LibraryError", "layer_types", "version", "load_library"]

CK_MAX_RANK = 8

STATUS = {0: "ok", 1: "invalid", 2: "parse", 3: "io", 4: "nomem", 5: "usage"}
CK_OK, CK_EINVALID, CK_EPARSE, CK_EIO, CK_ENOMEM, CK_EUSAGE = range(6)
DIALECTS = {"none": 0, "pytorch": 1, "keras": 2, "onnx": 3}
KINDS = {"check": 0, "summary": 1, "sizes": 2, "fix": 3}
FORMATS = {"text": 0, "json": 1, "md": 2, "svg": 3}


class LibraryError(RuntimeError):
    """libconvkit could not be found or loaded, or ran out of memory."""


class _Shape(ctypes.Structure):
    _fields_ = [("rank", ctypes.c_int), ("d", ctypes.c_int64 * CK_MAX_RANK)]


class _Diags(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int), ("cap", ctypes.c_int), ("v", ctypes.c_void_p)]


class _Limits(ctypes.Structure):
    _fields_ = [
        ("max_file_bytes", ctypes.c_int64),
        ("max_nodes", ctypes.c_int),
        ("max_depth", ctypes.c_int),
        ("max_string", ctypes.c_int),
        ("max_elements", ctypes.c_int64),
        ("max_sizes", ctypes.c_int64),
    ]


class _ReportOptions(ctypes.Structure):
    _fields_ = [
        ("model", ctypes.c_char_p),
        ("as_", ctypes.c_int),
        ("lo", ctypes.c_int64),
        ("hi", ctypes.c_int64),
        ("input", ctypes.c_int),
        ("color", ctypes.c_bool),
        ("no_fixes", ctypes.c_bool),
    ]


def _candidates():
    env = os.environ.get("CONVKIT_LIB")
    if env:  # named explicitly: that library or none
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "libconvkit.so.0")
    root = os.path.dirname(os.path.dirname(here))
    build = os.environ.get("CONVKIT_BUILD", "build")
    yield os.path.join(root, build, "libconvkit.so.0")
    found = ctypes.util.find_library("convkit")
    if found:
        yield found
    yield "libconvkit.so.0"


_LIB = None


def load_library():
    global _LIB
    if _LIB is not None:
        return _LIB
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            if path == os.environ.get("CONVKIT_LIB"):
                errors.append("%s: no such file ($CONVKIT_LIB)" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            continue
        _declare(lib)
        _LIB = lib
        return lib
    raise LibraryError(
        "libconvkit.so.0 was not found (build it with `make` in the convkit source tree, set "
        "CONVKIT_LIB to its path, or `make install`)" + ("; tried " + "; ".join(errors) if errors else ""))


def _declare(lib):
    vp, cp, i64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64
    lib.ck_free.argtypes = [vp]
    lib.ck_free.restype = None
    lib.ck_version.argtypes = []
    lib.ck_version.restype = cp
    lib.ck_layer_types.argtypes = [ctypes.c_int]
    lib.ck_layer_types.restype = vp
    lib.ck_parse_cnn.argtypes = [cp, ctypes.c_size_t, cp, ctypes.POINTER(_Limits), ctypes.POINTER(vp),
                                 ctypes.POINTER(_Diags)]
    lib.ck_parse_cnn.restype = ctypes.c_int
    lib.ck_graph_free.argtypes = [vp]
    lib.ck_graph_free.restype = None
    lib.ck_diags_free.argtypes = [ctypes.POINTER(_Diags)]
    lib.ck_diags_free.restype = None
    lib.ck_graph_num_layers.argtypes = [vp]
    lib.ck_graph_num_layers.restype = ctypes.c_int
    lib.ck_graph_set_layer_source.argtypes = [vp, ctypes.c_int, cp, cp]
    lib.ck_graph_set_layer_source.restype = ctypes.c_int
    lib.ck_report.argtypes = [vp, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_ReportOptions), ctypes.POINTER(vp)]
    lib.ck_report.restype = ctypes.c_int
    lib.ck_report_failure.argtypes = [cp, ctypes.POINTER(_Diags), ctypes.c_int, ctypes.c_bool, ctypes.POINTER(vp)]
    lib.ck_report_failure.restype = ctypes.c_int
    lib.ck_graph_write_cnn.argtypes = [vp, cp, ctypes.POINTER(vp), ctypes.POINTER(_Diags)]
    lib.ck_graph_write_cnn.restype = ctypes.c_int
    del i64


def _take(lib, p):
    """A library-owned string as Python text, released."""
    if not p:
        return None
    try:
        return ctypes.string_at(p).decode("utf-8", "replace")
    finally:
        lib.ck_free(p)


def version():
    return load_library().ck_version().decode()


def layer_types(dialect):
    lib = load_library()
    s = _take(lib, lib.ck_layer_types(DIALECTS[dialect]))
    if s is None:
        raise LibraryError("out of memory")
    return [x for x in s.split("\n") if x]


def _enc(s):
    return None if s is None else s.encode("utf-8")


class ParseFailure(Exception):
    """The .cnn text did not parse: the failure report in text and JSON."""

    def __init__(self, text, doc):
        super().__init__(text)
        self.text = text
        self.doc = doc


class Graph:
    """A parsed graph, freed with the object."""

    def __init__(self, text, name="<model>"):
        self._lib = lib = load_library()
        self._g = ctypes.c_void_p()
        d = _Diags()
        data = text.encode("utf-8")
        st = lib.ck_parse_cnn(data, len(data), _enc(name), None, ctypes.byref(self._g), ctypes.byref(d))
        try:
            if st != CK_OK:
                out_t, out_j = ctypes.c_void_p(), ctypes.c_void_p()
                lib.ck_report_failure(_enc(name), ctypes.byref(d), FORMATS["text"], False, ctypes.byref(out_t))
                lib.ck_report_failure(_enc(name), ctypes.byref(d), FORMATS["json"], False, ctypes.byref(out_j))
                t, j = _take(lib, out_t.value), _take(lib, out_j.value)
                if st == CK_ENOMEM:
                    raise MemoryError("convkit ran out of memory")
                raise ParseFailure(t or "", json.loads(j) if j else {})
        finally:
            lib.ck_diags_free(ctypes.byref(d))
        self.name = name

    def __del__(self):
        g = getattr(self, "_g", None)
        if g:
            self._lib.ck_graph_free(g)
            self._g = None

    def num_layers(self):
        return self._lib.ck_graph_num_layers(self._g)

    def set_source(self, layer, defined, called):
        st = self._lib.ck_graph_set_layer_source(self._g, layer, _enc(defined), _enc(called))
        if st != CK_OK:
            raise LibraryError("ck_graph_set_layer_source: %s" % STATUS.get(st, st))

    def report(self, kind, fmt="text", model=None, as_=None, lo=0, hi=0, input=0, color=False, fixes=True):
        """(status, text) of `convkit <kind>` on this graph."""
        o = _ReportOptions(_enc(model or self.name), DIALECTS[as_ or "none"], lo, hi, input, color, not fixes)
        out = ctypes.c_void_p()
        st = self._lib.ck_report(self._g, KINDS[kind], FORMATS[fmt], ctypes.byref(o), ctypes.byref(out))
        text = _take(self._lib, out.value)
        if st == CK_ENOMEM:
            raise MemoryError("convkit ran out of memory")
        if text is None:
            raise LibraryError("ck_report(%s, %s) returned %s" % (kind, fmt, STATUS.get(st, st)))
        return st, text

"""convkit for PyTorch: check, size, fix and summarise a live nn.Module
without running it.

    import convkit
    r = convkit.check(model, input_size=(1, 3, 64, 64))
    print(r)            # what `convkit check` prints: layers, the failure explained, verified fixes
    r.ok, r.output_shape, r.layers, r.diagnostics, r.fixes

No forward pass runs and no activation is allocated: torch.fx traces the
model symbolically and the C library (libconvkit) checks the graph with the
frameworks' exact shape rules.
"""

from ._api import Fix, LayerInfo, Result, check, fix, sizes, summary, to_cnn
from ._lib import LibraryError, version
from ._version import __version__
from ._trace import TraceError

__all__ = [
    "check",
    "summary",
    "sizes",
    "fix",
    "to_cnn",
    "explain",
    "ShapeError",
    "Result",
    "LayerInfo",
    "Fix",
    "TraceError",
    "LibraryError",
    "version",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def __getattr__(name):
    # explain() and the IPython extension import their module on first use
    if name in ("explain", "ShapeError", "load_ipython_extension", "unload_ipython_extension"):
        from . import _explain

        return getattr(_explain, name)
    raise AttributeError(name)

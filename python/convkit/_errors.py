"""PyTorch's shape errors by class, in convkit's diagnostic vocabulary.

The patterns are PyTorch 1.13's messages; the oracle corpus's generator
(tests/oracle/gen/common.py) classifies its records the same way. explain()
uses this to tell a shape error (which convkit diagnoses) from any other
exception (which it leaves alone).
"""

import re

__all__ = ["classify", "is_shape_error"]

_CLASSES = [
    ("output_too_small", [
        r"Kernel size can't be greater than actual input size",
        r"[Oo]utput size is too small",
        r"Computed output size would be negative",
        r"non-positive output",
        r"Input and output sizes should be greater than 0",
    ]),
    ("channel_mismatch", [
        r"to have \d+ channels, but got \d+ channels instead",
        r"expected input\[.*\] to have",
    ]),
    ("feature_mismatch", [
        r"mat1 and mat2 shapes cannot be multiplied",
        r"size mismatch, got",
    ]),
    ("skip_mismatch", [
        r"Sizes of tensors must match except in dimension",
        r"The size of tensor a \(\d+\) must match the size of tensor b",
        r"split_with_sizes expects split_sizes to sum exactly",
        r"stack expects each tensor to be equal size",
    ]),
    ("reshape_mismatch", [
        r"shape '\[.*\]' is invalid for input of size",
        r"unflatten: Provided sizes",
        r"not enough values to unpack",
    ]),
    ("invalid_padding", [
        r"pad should be (at most|smaller than or equal to) half of kernel size",
        r"Padding size should be less than the corresponding input dimension",
        r"Padding value causes wrapping around more than once",
        r"negative padding is not supported",
        r"padding='same' is not supported for strided convolutions",
        r"Invalid padding string",
        r"padding_mode must be one of",
    ]),
    ("invalid_output_size", [
        r"requested an output size of",
        r"output padding must be smaller than either stride or dilation",
        r"output_size must have",
    ]),
    ("rank_mismatch", [
        r"Expected \dD \(unbatched\) or \dD \(batched\) input",
        r"Expected \d+D or \d+D",
        r"but got \d+D input",
        r"Got \dD input, but \w+ mode needs \dD input",
        r"expected \d+D input",
        r"Dimension out of range",
        r"Input and output must have the same number of spatial dimensions",
    ]),
    ("empty_input", [
        r"non-zero size for non-batch dimensions",
        r"Expected input to have non-zero size",
        r"Expected more than 1 (spatial element|value per channel) when training",
    ]),
    ("invalid_config", [
        r"must be divisible by groups",
        r"non-positive stride",
        r"should be greater than zero",
        r"only one of size or scale_factor should be defined",
        r"either size or scale_factor should be defined",
        r"align_corners option can only be set with the interpolating modes",
    ]),
]

_COMPILED = [(c, [re.compile(p) for p in ps]) for c, ps in _CLASSES]


def classify(message):
    """The diagnostic code of a PyTorch error message, or 'unsupported'."""
    for cls, pats in _COMPILED:
        for p in pats:
            if p.search(message):
                return cls
    return "unsupported"


def is_shape_error(exc):
    return isinstance(exc, (RuntimeError, ValueError)) and classify(str(exc)) != "unsupported"

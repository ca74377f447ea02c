"""convkit.check against PyTorch itself, on every model and input size of the
zoo (zoo.py). PyTorch's answer comes from a real forward pass
(torch_truth.truth); what counts as agreement is agreement.compare.

    /usr/bin/python3 -m pytest python/tests/test_against_torch.py
    /usr/bin/python3 python/tests/agreement.py      # the same, as a table per model
"""
import pytest

try:
    import convkit
except Exception as exc:  # noqa: BLE001 - any import failure means: nothing to test yet
    pytest.skip(f"convkit cannot be imported from the repository's python/ directory "
                f"({type(exc).__name__}: {exc}); nothing to compare with PyTorch",
                allow_module_level=True)

import agreement
import torch_truth
import zoo

CASES = zoo.cases()
IDS = [f"{e.name}-{'x'.join(map(str, s))}" for e, s in CASES]
RUNNER = torch_truth.RUNNER
_checked = {}


def _check(entry, shape):
    key = (entry.name, tuple(shape))
    if key not in _checked:
        _checked[key] = convkit.check(RUNNER.model(entry), input_size=shape)
    return _checked[key]


def _module_names(entry):
    return {n for n, _ in RUNNER.model(entry).named_modules()}


# Models whose forward branches on tensor values (`if x.sum() > 0`): neither
# torch.fx nor meta tensors know values, so convkit must say it cannot check
# past that line (code unsupported, at that line), never guess a shape.
VALUE_DEPENDENT = {"value_branch_net"}


@pytest.mark.parametrize("entry,shape", CASES, ids=IDS)
def test_check_agrees_with_pytorch(entry, shape):
    rec = RUNNER.truth(entry, shape)      # PyTorch first: convkit never sees hooks
    r = _check(entry, shape)
    if entry.name in VALUE_DEPENDENT:
        err = next((d for d in r.diagnostics if d["severity"] == "error"), None)
        assert err is not None, "convkit guessed past a branch on tensor values"
        if err["code"] == "unsupported":  # it stopped at the branch, and says where
            assert "tensor values" in err["message"] and any("if " in n for n in err["notes"]), err
            return
        # a failure before the branch must be PyTorch's failure
    agrees, why = agreement.compare(r, rec, _module_names(entry))
    assert agrees, why


@pytest.mark.parametrize("entry,shape", CASES, ids=IDS)
def test_layer_shapes_agree_with_pytorch(entry, shape):
    """Every leaf module that ran once: convkit's output_shape for the layer of
    the same name equals the shape PyTorch's forward hook saw."""
    rec = RUNNER.truth(entry, shape)
    if not rec["ok"]:
        pytest.skip("PyTorch rejects this input")
    r = _check(entry, shape)
    if not agreement._get(r, "ok"):
        pytest.skip("convkit rejects this input (test_check_agrees_with_pytorch reports it)")
    mismatches, compared = agreement.compare_layers(r, rec)
    assert compared > 0, ("no r.layers name equals a module path; PyTorch's leaf modules: "
                          + ", ".join(list(rec["layer_shapes"])[:10]))
    assert not mismatches, "\n".join(mismatches)

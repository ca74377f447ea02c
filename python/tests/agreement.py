"""How often convkit.check agrees with PyTorch on the model zoo.

    /usr/bin/python3 python/tests/agreement.py                 # table, every model
    /usr/bin/python3 python/tests/agreement.py lenet5 vgg11    # only these models
    /usr/bin/python3 python/tests/agreement.py --layers        # also per-layer output shapes
    /usr/bin/python3 python/tests/agreement.py --json          # one JSON object

An answer agrees (compare below; test_against_torch.py asserts the same) when
* PyTorch ran: r.ok is true and r.output_shape equals PyTorch's output shape
  (the "out" tensor of a dict output);
* PyTorch raised: r.ok is false and the first diagnostic of severity "error"
  has the code PyTorch's message is classified as (torch_truth.classify) and
  names the module that raised: its path exactly, or, when the raising call
  was a functional op in that module's forward, a name under the path
  ("up4.cat" for the torch.cat in up4's forward; at the top level any name
  that is not a submodule's path);
* PyTorch ran but a leaf module silently produced an empty tensor (the
  record's "degenerate"), either the above or output_too_small at that module.

When convkit cannot be imported the table shows PyTorch's answers only.
"""
import json
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_PYDIR = os.path.dirname(_HERE)
for _p in (_PYDIR, _HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)


def _get(obj, key, default=None):
    """Field of a result / layer / diagnostic, as attribute or dict key."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _ints(shape):
    if shape is None:
        return None
    return [int(s) for s in shape]


def first_error(result):
    for d in _get(result, "diagnostics") or []:
        if _get(d, "severity") == "error":
            return d
    return None


def layer_matches(layer, rec, module_names):
    """Does convkit's `layer` name the place PyTorch raised in?"""
    path = rec["module"]
    if not rec["functional"]:
        return layer == path
    prefix = path + "." if path else ""
    return bool(layer) and layer.startswith(prefix) and layer not in module_names


def describe(result):
    """One short line for a convkit result."""
    if _get(result, "ok"):
        shape = _ints(_get(result, "output_shape"))
        return "ok " + ("x".join(map(str, shape)) if shape else "(no output shape)")
    d = first_error(result)
    if d is None:
        return "not ok, no error diagnostic"
    return f"{_get(d, 'code')} at {_get(d, 'layer') or '<top>'}"


def compare(result, rec, module_names):
    """(agrees, why) for one convkit result against one truth record."""
    import torch_truth

    ok = bool(_get(result, "ok"))
    if rec["ok"]:
        shape = _ints(_get(result, "output_shape"))
        if ok and shape == rec["output_shape"]:
            return True, "ok"
        deg = rec.get("degenerate")
        if deg is not None and not ok:
            d = first_error(result)
            if d is not None and _get(d, "code") == "output_too_small" \
                    and _get(d, "layer") == deg["module"]:
                return True, f"degenerate: PyTorch returned an empty tensor at {deg['module']}"
        return False, (f"PyTorch: ok {rec['output_shape']}"
                       + (f" (empty tensor at {deg['module']})" if deg else "")
                       + f"; convkit: {describe(result)}")
    want = torch_truth.summary(rec)
    if ok:
        return False, f"PyTorch: {want} ({rec['message'][:160]}); convkit: ok"
    d = first_error(result)
    if d is None:
        return False, f"PyTorch: {want}; convkit: not ok but no error diagnostic"
    code, layer = _get(d, "code"), _get(d, "layer")
    problems = []
    if code != rec["error"]:
        problems.append(f"code {code!r} != {rec['error']!r}")
    if not layer_matches(layer, rec, module_names):
        if rec["functional"]:
            problems.append(f"layer {layer!r} is not a functional op under {rec['module']!r}")
        else:
            problems.append(f"layer {layer!r} != {rec['module']!r}")
    if problems:
        return False, (f"PyTorch: {want} ({rec['message'][:160]}); convkit: {describe(result)}: "
                       + "; ".join(problems))
    return True, "same error"


def compare_layers(result, rec):
    """([mismatch lines], number of layers compared) between r.layers and the
    truth's layer_shapes (leaf modules that ran once), by name."""
    by_name = {}
    for layer in _get(result, "layers") or []:
        by_name.setdefault(_get(layer, "name"), []).append(layer)
    mismatches, compared = [], 0
    for path, shape in rec.get("layer_shapes", {}).items():
        layers = by_name.get(path)
        if not layers or len(layers) != 1:
            continue
        compared += 1
        got = _ints(_get(layers[0], "output_shape"))
        if got != shape:
            mismatches.append(f"{path}: PyTorch {shape}, convkit {got}")
    return mismatches, compared


def _fmt(shape):
    return "x".join(map(str, shape))


def main(argv):
    import torch
    import torch_truth
    import zoo

    torch.set_num_threads(2)
    want_json = "--json" in argv
    want_layers = "--layers" in argv
    names = [a for a in argv if not a.startswith("--")]
    unknown = set(names) - {e.name for e in zoo.all_models()}
    if unknown:
        print("unknown model(s): " + ", ".join(sorted(unknown)), file=sys.stderr)
        return 2

    try:
        import convkit
        convkit_error = None
    except Exception as exc:  # noqa: BLE001
        convkit, convkit_error = None, f"{type(exc).__name__}: {exc}"

    runner = torch_truth.ZooRunner()
    rows = []
    t_truth = t_check = 0.0
    for entry in zoo.all_models():
        if names and entry.name not in names:
            continue
        model = runner.model(entry)
        module_names = {n for n, _ in model.named_modules()}
        row = {"model": entry.name, "sizes": len(entry.shapes), "agree": 0,
               "layers_compared": 0, "layer_mismatches": 0, "cases": []}
        for shape in entry.shapes:
            t = time.time()
            rec = runner.truth(entry, shape)
            t_truth += time.time() - t
            case = {"input": list(shape), "pytorch": torch_truth.summary(rec)}
            if convkit is not None:
                t = time.time()
                try:
                    r = convkit.check(model, input_size=shape)
                except Exception as exc:  # noqa: BLE001
                    r = None
                    agrees, why = False, f"convkit.check raised {type(exc).__name__}: {exc}"
                t_check += time.time() - t
                if r is not None:
                    agrees, why = compare(r, rec, module_names)
                    case["convkit"] = describe(r)
                    if want_layers and rec["ok"] and _get(r, "ok"):
                        mism, n = compare_layers(r, rec)
                        row["layers_compared"] += n
                        row["layer_mismatches"] += len(mism)
                        if mism:
                            case["layer_mismatches"] = mism
                case["agrees"], case["why"] = agrees, why
                row["agree"] += agrees
            row["cases"].append(case)
        rows.append(row)

    total = sum(r["sizes"] for r in rows)
    agree = sum(r["agree"] for r in rows)
    if want_json:
        print(json.dumps({"convkit_error": convkit_error, "models": rows, "sizes": total,
                          "agree": agree if convkit else None,
                          "truth_seconds": round(t_truth, 2),
                          "check_seconds": round(t_check, 2)}, indent=1))
        return 0

    if convkit is None:
        print(f"convkit cannot be imported ({convkit_error}); PyTorch's answers only\n")
        for row in rows:
            print(f"{row['model']}")
            for c in row["cases"]:
                print(f"    {_fmt(c['input']):18s} {c['pytorch']}")
        print(f"\n{len(rows)} models, {total} sizes; PyTorch forward passes {t_truth:.1f}s")
        return 0

    w = max(len(r["model"]) for r in rows)
    head = f"{'model':{w}s}  agree / sizes"
    if want_layers:
        head += "   layer shapes (compared, wrong)"
    print(head)
    for row in rows:
        line = f"{row['model']:{w}s}  {row['agree']:5d} / {row['sizes']:<5d}"
        if want_layers:
            line += f"   {row['layers_compared']:6d} {row['layer_mismatches']:6d}"
        print(line)
        for c in row["cases"]:
            if not c["agrees"]:
                print(f"{'':{w}s}    {_fmt(c['input'])}: {c['why']}")
            for m in c.get("layer_mismatches", [])[:5]:
                print(f"{'':{w}s}    {_fmt(c['input'])}: layer {m}")
    print(f"\n{agree} / {total} sizes agree over {len(rows)} models; "
          f"PyTorch {t_truth:.1f}s, convkit.check {t_check:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

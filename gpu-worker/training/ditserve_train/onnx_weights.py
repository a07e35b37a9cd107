"""A shipped component's trained weights, read back from its ONNX graph into its PyTorch module.

The model folders hold no PyTorch checkpoint, only the exported graphs (export.py), and the
exporter renames some weights: a Linear applied to [B, N, D] becomes a MatMul by its transposed
weight under a generated name (`onnx::MatMul_123`), and a GroupNorm's affine parameters become
anonymous Mul/Add constants. Both are recovered from the graph's structure: a MatMul weight takes
its name from the `<module>.bias` added to its product, and the affine constants are matched to
the module's still-missing parameters in the order the graph uses them (which is the modules'
forward order). `load_component` then checks the module against the graph itself on an example
input, so a wrong match fails loudly instead of being trained on.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx
import torch
from onnx import numpy_helper

_PREFIX = "inner."  # export.py's _Fp16Edges wrapper


def _named(name: str) -> bool:
    return not name.startswith("onnx::")


def read_weights(graph_path: Path) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """(weights by module parameter name, anonymous constants in graph order) of an fp16 graph."""
    model = onnx.load(str(graph_path), load_external_data=True)
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in g.initializer}
    consumers: dict[str, list] = {}
    for node in g.node:
        for x in node.input:
            consumers.setdefault(x, []).append(node)
    weights = {k.removeprefix(_PREFIX): v for k, v in inits.items() if _named(k)}
    anonymous, seen = [], set()
    for node in g.node:
        for x in node.input:
            if x not in inits or _named(x) or x in seen:
                continue
            seen.add(x)
            bias = _bias_added_to(node, consumers) if node.op_type == "MatMul" and node.input[1] == x else None
            if bias is not None:
                weights[bias.removeprefix(_PREFIX)[: -len("bias")] + "weight"] = inits[x].T
            else:
                anonymous.append(inits[x])
    return weights, anonymous


def _bias_added_to(matmul, consumers) -> str | None:
    for node in consumers.get(matmul.output[0], []):
        if node.op_type == "Add":
            other = [x for x in node.input if x != matmul.output[0]]
            if other and _named(other[0]) and other[0].endswith(".bias"):
                return other[0]
    return None


def state_dict_from_graph(module: torch.nn.Module, graph_path: Path) -> dict[str, torch.Tensor]:
    """module's state dict with every parameter and buffer taken from the graph (shapes of equal
    size are reshaped: a patch convolution is exported as a matmul)."""
    weights, anonymous = read_weights(graph_path)
    # The exported module may wrap this one (export.py's _Decoder: "decoder.<name>").
    first = next(iter(module.state_dict()))
    prefix = next((k[: -len(first)] for k in weights if k.endswith("." + first) or k == first), "")
    weights = {k.removeprefix(prefix): v for k, v in weights.items()}
    out, missing = {}, []
    for name, ref in module.state_dict().items():
        if name in weights and weights[name].size == ref.numel():
            out[name] = torch.as_tensor(weights[name]).reshape(ref.shape).to(ref.dtype)
        else:
            missing.append(name)
    rest = iter(anonymous)
    for name in missing:
        ref = module.state_dict()[name]
        arr = next((a for a in rest if a.size == ref.numel()), None)
        if arr is None:
            raise ValueError(f"{graph_path}: no weights for {name} {tuple(ref.shape)}")
        out[name] = torch.as_tensor(arr).reshape(ref.shape).to(ref.dtype)
    return out


def evaluator_installed() -> bool:
    """Whether load_component can check a module against its graph (onnxruntime or onnx.reference)."""
    if importlib.util.find_spec("onnxruntime") is not None:
        return True
    try:
        return importlib.util.find_spec("onnx.reference") is not None
    except ModuleNotFoundError:
        return False


def _evaluate_graph(path: Path, example: Sequence[torch.Tensor]) -> list[np.ndarray] | None:
    """The graph's outputs on example: onnxruntime (CPU) if installed, else onnx's reference
    evaluator, else None (neither is installed)."""
    feeds = [t.numpy() for t in example]
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return sess.run(None, {i.name: a for i, a in zip(sess.get_inputs(), feeds)})
    except ImportError:
        pass
    try:
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        return None
    ref = ReferenceEvaluator(str(path))
    return ref.run(None, dict(zip(ref.input_names, feeds)))


def load_component(module: torch.nn.Module, folder: Path, example: Sequence[torch.Tensor],
                   atol: float = 2e-3) -> bool:
    """Loads folder/model.fp16.onnx's weights into module (in place, on the CPU), then checks that
    it computes what folder/model.onnx computes on `example`; False when no ONNX evaluator is
    installed to check with."""
    module.load_state_dict(state_dict_from_graph(module, folder / "model.fp16.onnx"))
    module.eval()
    want = _evaluate_graph(folder / "model.onnx", example)
    if want is None:
        return False
    with torch.no_grad():
        ours = module(*example)
    for got, ref in zip(ours if isinstance(ours, tuple) else (ours,), want):
        err = float(np.abs(got.numpy() - ref).max())
        if not err <= atol * max(1.0, float(np.abs(ref).max())):
            raise ValueError(f"{folder}: weights read back differ from the graph (max |diff| {err:.3g})")
    return True

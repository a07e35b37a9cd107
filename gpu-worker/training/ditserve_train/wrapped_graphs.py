"""What the graphs that wrap an exported component (step_graph.py, decode_graph.py) share: the
component's nodes kept under its own names but for its inputs and outputs, which become inner
values, and one wrapped file written per variant beside the component's graphs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import onnx


def inner_nodes(graph: onnx.GraphProto, names: Iterable[str], prefix: str) -> tuple[dict[str, str], list[onnx.NodeProto]]:
    """The graph's nodes with each of `names` (its inputs and outputs) renamed to prefix + "model/" + name."""
    inner = {n: prefix + "model/" + n for n in names}
    nodes = []
    for node in graph.node:
        node.input[:] = [inner.get(n, n) for n in node.input]
        node.output[:] = [inner.get(n, n) for n in node.output]
        nodes.append(node)
    return inner, nodes


def write_variants(folder: Path, files: dict[str, str], build: Callable[[onnx.ModelProto, str], onnx.ModelProto]) -> list[Path]:
    """For each source → target of `files` present in `folder`: build(source, target), saved as target and checked."""
    written = []
    for source, target in files.items():
        if not (folder / source).exists():
            continue
        # Without external data: the initializers keep pointing at weights.bin, beside the output.
        model = build(onnx.load(str(folder / source), load_external_data=False), target)
        onnx.save(model, str(folder / target))
        onnx.checker.check_model(str(folder / target))
        written.append(folder / target)
    return written

"""One fp16 weights file per component, shared by its fp32 (CPU) and fp16 (CUDA) ONNX graphs.

Shipping fp32 and fp16 graphs with their own weights costs 6 bytes a parameter; git must stay
light (the model folder is capped at 25 MB). The trained weights are rounded to fp16 once, before
any evaluation (`round_to_fp16`), so every number reported is the shipped model's. Then:

- the fp16 graph's initializers already are those fp16 values;
- the fp32 graph's weight initializers are stored as fp16 and widened by a `Cast` node at load
  (onnxruntime folds it at session start; every operation still runs in fp32, and the widened
  values are exactly the fp32 weights PyTorch evaluated, since they were fp16-representable).

Both graphs point at the same bytes of `weights.bin` (ONNX external data, resolved next to the
graph file), so a parameter costs 2 bytes on disk. Initializers are matched by content, which
also catches constants that the exporter folded the same way in both graphs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

WEIGHTS_FILE = "weights.bin"
MIN_ELEMENTS = 64  # smaller tensors stay inside the graph (scalars, shapes, tiny constants)
_ALIGN = 64


def round_to_fp16(*modules: torch.nn.Module) -> None:
    """Rounds every floating parameter and buffer to the nearest fp16 value (kept in its dtype)."""
    with torch.no_grad():
        for m in modules:
            for t in [*m.parameters(), *m.buffers()]:
                if t.is_floating_point():
                    t.copy_(t.half().to(t.dtype))


class _Store:
    """Content-addressed fp16 blobs appended to one file."""

    def __init__(self, path: Path):
        self.path, self.offsets, self.size = path, {}, 0
        self.file = path.open("wb")

    def put(self, data: bytes) -> tuple[int, int]:
        key = hashlib.sha256(data).hexdigest()
        if key not in self.offsets:
            pad = (-self.size) % _ALIGN
            self.file.write(b"\0" * pad)
            self.offsets[key] = self.size + pad
            self.file.write(data)
            self.size += pad + len(data)
        return self.offsets[key], len(data)

    def close(self) -> None:
        self.file.close()


def _externalize(tensor: TensorProto, store: _Store) -> None:
    offset, length = store.put(tensor.raw_data)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for k, v in (("location", WEIGHTS_FILE), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = k, v


def _fp16_exact(arr: np.ndarray) -> bool:
    with np.errstate(over="ignore"):
        half = arr.astype(np.float16)
    return bool(np.isfinite(half).all() and np.array_equal(half.astype(np.float32), arr))


def _narrow_fp32_graph(model: onnx.ModelProto) -> None:
    """fp32 weight initializers -> fp16 initializers + Cast(to=float) under the original name."""
    graph = model.graph
    casts, keep = [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or arr.size < MIN_ELEMENTS or not _fp16_exact(arr):
            keep.append(init)
            continue
        stored = numpy_helper.from_array(arr.astype(np.float16), f"{init.name}.fp16")
        keep.append(stored)
        casts.append(helper.make_node("Cast", [stored.name], [init.name], to=TensorProto.FLOAT, name=f"{init.name}.widen"))
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def share_weights(folder: Path, fp32: str = "model.onnx", fp16: str = "model.fp16.onnx") -> dict:
    """Rewrites folder/<fp32> (and folder/<fp16> if present) to share folder/weights.bin."""
    store = _Store(folder / WEIGHTS_FILE)
    report = {}
    try:
        for variant in (fp32, fp16):
            path = folder / variant
            if not path.exists():
                continue
            model = onnx.load(str(path))
            if variant == fp32:
                _narrow_fp32_graph(model)
            n = 0
            for init in model.graph.initializer:
                if init.data_type == TensorProto.FLOAT16 and np.prod(init.dims) >= MIN_ELEMENTS:
                    if not init.raw_data:  # the exporter writes raw_data; normalise anything else
                        init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init), init.name))
                    _externalize(init, store)
                    n += 1
            onnx.save(model, str(path))
            report[variant] = {"external_tensors": n, "graph_bytes": path.stat().st_size}
    finally:
        store.close()
    report["weights_bytes"] = store.size
    return report

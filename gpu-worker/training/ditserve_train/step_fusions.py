"""Rewrites of the exported transformer graph that cut the kernels of one step (step_graph.py).

At the shipped model's size a step is ~500 tiny kernels, so its time is their count, not their
FLOPs: every rewrite here replaces a chain of elementwise kernels with one kernel that
onnxruntime has for both the CPU and the CUDA provider.

- tanh-GELU (8 elementwise ops) → com.microsoft FastGelu
- the attention decomposition (2 transposes + 2 scales + MatMul + Softmax + MatMul + transpose)
  → com.microsoft MultiHeadAttention on [B, S, H·d] (flash / memory-efficient kernels on CUDA)
- adaLN's `1 + scale`, where scale is a chunk of a Gemm's output → the 1 added to that chunk
  of the Gemm's bias (one elementwise kernel fewer per modulation)
- adaLN's low-rank Gemm pairs (one per block and stream, all on the same conditioning) → one
  Gemm, one batched MatMul and a Split
- adaLN modulation LN(x)·(1 + scale) + shift, with LN's own weight 1 and bias 0 →
  LayerNormalization(x, 1 + scale, shift), per-sample [B, 1, D] weight and bias (onnxruntime ≥
  1.21 broadcasts them)

Each rewrite checks the constants it relies on and leaves a chain alone where they differ.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

MS = "com.microsoft"


class _Graph:
    def __init__(self, g: onnx.GraphProto, base_dir: str = ""):
        self.g = g
        self.base_dir = base_dir
        self.prod = {o: n for n in g.node for o in n.output}
        self.cons: dict[str, list] = {}
        for n in g.node:
            for i in n.input:
                self.cons.setdefault(i, []).append(n)
        self.inits = {t.name: t for t in g.initializer}
        # Numbered after every node an earlier rewrite added, so that names never repeat.
        self.added = sum(1 for n in g.node if n.name.startswith("fused/"))

    def const(self, name: str):
        """The value of a Constant node's output or an initializer (None when not constant)."""
        n = self.prod.get(name)
        if n is not None and n.op_type == "Constant":
            # Large exports keep even Constant values in external files, beside the graph.
            return numpy_helper.to_array(n.attribute[0].t, base_dir=self.base_dir)
        if n is not None and n.op_type == "Cast":  # a widened fp16 constant
            inner = self.const(n.input[0])
            return None if inner is None else inner.astype(np.float32)
        t = self.inits.get(name)
        if t is None:
            return None
        if t.data_location == onnx.TensorProto.EXTERNAL:
            # Small external tensors only (biases, norms): weights are never needed here.
            length = next((int(e.value) for e in t.external_data if e.key == "length"), 1 << 30)
            if length > 1 << 20 or not self.base_dir:
                return None
        return numpy_helper.to_array(t, base_dir=self.base_dir)

    def is_value(self, name: str, value: float) -> bool:
        c = self.const(name)
        return c is not None and c.size >= 1 and bool(np.allclose(c.astype(np.float64), value, rtol=1e-3))

    def only_consumer(self, name: str, op: str):
        users = self.cons.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op else None

    def other(self, node, name: str) -> str:
        return node.input[1] if node.input[0] == name else node.input[0]

    def rewire(self, old: str, new: str) -> None:
        for n in self.cons.get(old, []):
            n.input[:] = [new if i == old else i for i in n.input]
        for o in self.g.output:
            if o.name == old:
                raise ValueError(f"cannot rewire graph output {old}")

    def add(self, op: str, inputs: list[str], domain: str | None = None, **attrs) -> str:
        self.added += 1
        out = f"fused/{op}_{self.added}"
        self.g.node.append(helper.make_node(op, inputs, [out], name=out, domain=domain, **attrs))
        return out


def fuse_fast_gelu(g: onnx.GraphProto, base_dir: str = "") -> int:
    """0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) → FastGelu(x)."""
    G, count = _Graph(g, base_dir), 0
    for tanh in [n for n in g.node if n.op_type == "Tanh"]:
        add1 = G.only_consumer(tanh.output[0], "Add")
        if add1 is None or not G.is_value(G.other(add1, tanh.output[0]), 1.0):
            continue
        mul4 = G.only_consumer(add1.output[0], "Mul")
        if mul4 is None:
            continue
        x = G.other(mul4, add1.output[0])
        mul5 = G.only_consumer(mul4.output[0], "Mul")
        if mul5 is None or not G.is_value(G.other(mul5, mul4.output[0]), 0.5):
            continue
        G.rewire(mul5.output[0], G.add("FastGelu", [x], MS))
        count += 1
    _sort_and_prune(g)
    return count


def fuse_attention(g: onnx.GraphProto, num_heads: int, base_dir: str = "") -> int:
    """softmax((q·a)ᵀ(k·b))·v over [B, H, S, d] with a·b = 1/√d → MultiHeadAttention on [B, S, H·d]."""
    G, count = _Graph(g, base_dir), 0
    for sm in [n for n in g.node if n.op_type == "Softmax"]:
        scores = G.prod.get(sm.input[0])
        out = G.only_consumer(sm.output[0], "MatMul")
        if scores is None or scores.op_type != "MatMul" or out is None:
            continue
        sides = []
        for operand, perm in ((scores.input[0], [0, 2, 1, 3]), (scores.input[1], [0, 2, 3, 1])):
            mul = G.prod.get(operand)
            if mul is None or mul.op_type != "Mul":
                break
            t = next((G.prod.get(i) for i in mul.input if G.prod.get(i) is not None and G.prod[i].op_type == "Transpose"), None)
            if t is None or list(t.attribute[0].ints) != perm:
                break
            scale = G.const(G.other(mul, t.output[0]))
            sides.append((t.input[0], None if scale is None else float(np.asarray(scale).reshape(-1)[0])))
        vt = G.prod.get(out.input[1])
        back = G.only_consumer(out.output[0], "Transpose")
        users = G.cons.get(back.output[0], []) if back is not None else []
        reshapes = [u for u in users if u.op_type == "Reshape"]
        reshape = reshapes[0] if len(reshapes) == 1 and all(u.op_type in ("Reshape", "Shape") for u in users) else None
        if len(sides) != 2 or vt is None or vt.op_type != "Transpose" or list(vt.attribute[0].ints) != [0, 2, 1, 3]:
            continue
        if back is None or list(back.attribute[0].ints) != [0, 2, 1, 3] or reshape is None:
            continue
        # [B, S, H, d] → [B, S, H·d]: Reshape with 0 = keep that dimension.
        flat = "fused/attention_flat_shape"
        if flat not in G.inits:
            t = numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), flat)
            g.initializer.append(t)
            G.inits[flat] = t
        q, k, v = (G.add("Reshape", [name, flat]) for name in (sides[0][0], sides[1][0], vt.input[0]))
        attrs = {"num_heads": num_heads}
        if sides[0][1] is not None and sides[1][1] is not None:
            attrs["scale"] = sides[0][1] * sides[1][1]
        G.rewire(reshape.output[0], G.add("MultiHeadAttention", [q, k, v], MS, **attrs))
        # Shape() of the old output ([B, S, H, d]) is the shape of q, which keeps that layout.
        for u in users:
            if u.op_type == "Shape":
                u.input[0] = sides[0][0]
        count += 1
    _sort_and_prune(g)
    return count


def fold_one_plus_scale(g: onnx.GraphProto, base_dir: str = "") -> int:
    """adaLN's `1 + scale`, scale a chunk of a Gemm's output: the 1 moves into that Gemm's bias."""
    G = _Graph(g, base_dir)
    order = {id(n): i for i, n in enumerate(g.node)}
    plus: dict[str, list] = {}  # Gemm output → [(chunk, add node, unsqueeze output)]
    for add in [n for n in g.node if n.op_type == "Add"]:
        one = next((i for i in add.input if G.is_value(i, 1.0) and G.const(i).size == 1), None)
        if one is None:
            continue
        u = G.prod.get(G.other(add, one))
        s = u and G.prod.get(u.input[0])
        if u is None or u.op_type != "Unsqueeze" or s is None or s.op_type != "Slice":
            continue
        if len(G.cons.get(u.output[0], [])) != 1 or len(G.cons.get(s.output[0], [])) != 1:
            continue
        gemm = G.prod.get(s.input[0])
        if gemm is None or gemm.op_type != "Gemm" or len(gemm.input) < 3:
            continue
        # The export slices the Gemm's output into equal chunks, in graph order.
        chunks = sorted((c for c in G.cons[s.input[0]] if c.op_type == "Slice"), key=lambda c: order[id(c)])
        plus.setdefault(s.input[0], []).append((chunks.index(s), len(chunks), add, u.output[0]))
    count = 0
    for out, items in plus.items():
        gemm = G.prod[out]
        bias = G.const(gemm.input[2])
        if bias is None or bias.ndim != 1 or any(n != items[0][1] for _, n, _, _ in items) or bias.size % items[0][1]:
            continue
        size = bias.size // items[0][1]
        dtype = np.float16 if _elem_type(G, gemm.input[2]) == onnx.TensorProto.FLOAT16 else np.float32
        folded = bias.astype(np.float32)
        for chunk, _, _, _ in items:
            folded[chunk * size:(chunk + 1) * size] += 1.0
        name = f"fused/{gemm.name}/bias_plus_one"
        g.initializer.append(numpy_helper.from_array(folded.astype(dtype), name))
        gemm.input[2] = name
        for _, _, add, scale in items:
            G.rewire(add.output[0], scale)
            count += 1
    _sort_and_prune(g)
    return count


def _elem_type(G: _Graph, name: str) -> int:
    """The element type the value `name` has where it is used (through a widening Cast)."""
    n = G.prod.get(name)
    if n is not None and n.op_type == "Cast":
        return next(a.i for a in n.attribute if a.name == "to")
    t = G.inits.get(name)
    return t.data_type if t is not None else onnx.TensorProto.FLOAT


def batch_low_rank_gemms(g: onnx.GraphProto, base_dir: str = "") -> int:
    """adaLN's low-rank pairs Gemm(Gemm(a, W0_i), W1_i), one per block and stream, all reading
    the same `a` → one Gemm (the W0_i stacked), one batched MatMul (the W1_i stacked) and a Split:
    five kernels instead of two per pair. The stacking is Concat/Reshape/Transpose of constants,
    which onnxruntime folds when it loads the graph."""
    G = _Graph(g, base_dir)
    order = {id(n): i for i, n in enumerate(g.node)}

    def plain(n) -> bool:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        return attrs.get("transB") == 1 and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0 and not attrs.get("transA")

    def dims(name: str):
        n = G.prod.get(name)
        if n is not None and n.op_type == "Cast":
            name = n.input[0]
        elif n is not None:
            return None
        t = G.inits.get(name)
        return list(t.dims) if t is not None else None

    groups: dict[tuple, list] = {}
    for g0 in [n for n in g.node if n.op_type == "Gemm" and len(n.input) == 3 and plain(n)]:
        g1 = G.only_consumer(g0.output[0], "Gemm")
        if g1 is None or len(g1.input) != 3 or g1.input[0] != g0.output[0] or not plain(g1):
            continue
        w0, b0, w1, b1 = dims(g0.input[1]), dims(g0.input[2]), dims(g1.input[1]), dims(g1.input[2])
        if None in (w0, b0, w1, b1) or len(w0) != 2 or len(w1) != 2 or w1[1] != w0[0]:
            continue
        groups.setdefault((g0.input[0], w0[0], w0[1], w1[0]), []).append((g0, g1))
    count = 0
    for (a, rank, _, width), pairs in groups.items():
        n = len(pairs)
        if n < 2:
            continue
        pairs.sort(key=lambda p: order[id(p[0])])
        shape = lambda name, values: G.inits.setdefault(name, _append_init(g, name, values))  # noqa: E731
        w0 = G.add("Concat", [p[0].input[1] for p in pairs], axis=0)
        b0 = G.add("Concat", [p[0].input[2] for p in pairs], axis=0)
        h = G.add("Gemm", [a, w0, b0], transB=1)
        tag = f"fused/ada_{count}"
        shape(f"{tag}/h_shape", [0, n, rank])
        shape(f"{tag}/w1_shape", [n, width, rank])
        shape(f"{tag}/b1_shape", [n, 1, width])
        shape(f"{tag}/split", [1] * n)
        shape(f"{tag}/axis0", [0])
        hs = G.add("Transpose", [G.add("Reshape", [h, f"{tag}/h_shape"])], perm=[1, 0, 2])  # [n, B, r]
        w1 = G.add("Reshape", [G.add("Concat", [p[1].input[1] for p in pairs], axis=0), f"{tag}/w1_shape"])
        w1t = G.add("Transpose", [w1], perm=[0, 2, 1])  # [n, r, width]
        b1 = G.add("Reshape", [G.add("Concat", [p[1].input[2] for p in pairs], axis=0), f"{tag}/b1_shape"])
        y = G.add("Add", [G.add("MatMul", [hs, w1t]), b1])  # [n, B, width]
        outs = [f"{tag}/out_{i}" for i in range(n)]
        g.node.append(helper.make_node("Split", [y, f"{tag}/split"], outs, name=f"{tag}/split", axis=0))
        for (_, g1), out in zip(pairs, outs):
            G.rewire(g1.output[0], G.add("Squeeze", [out, f"{tag}/axis0"]))
        count += n
    _sort_and_prune(g)
    return count


def _append_init(g: onnx.GraphProto, name: str, values: list) -> onnx.TensorProto:
    t = numpy_helper.from_array(np.array(values, dtype=np.int64), name)
    g.initializer.append(t)
    return t


def fuse_modulated_layer_norm(g: onnx.GraphProto, base_dir: str = "") -> int:
    """LayerNorm(x; 1, 0)·w + b, w and b per sample → LayerNormalization(x; w, b)."""
    G, count = _Graph(g, base_dir), 0
    for ln in [n for n in g.node if n.op_type == "LayerNormalization"]:
        if len(ln.input) < 3 or not G.is_value(ln.input[1], 1.0) or not G.is_value(ln.input[2], 0.0):
            continue
        mul = G.only_consumer(ln.output[0], "Mul")
        add = mul and G.only_consumer(mul.output[0], "Add")
        if mul is None or add is None:
            continue
        weight, bias = G.other(mul, ln.output[0]), G.other(add, mul.output[0])
        if G.const(weight) is not None or G.const(bias) is not None:
            continue  # constant weights: onnxruntime's own LayerNorm fusion covers those
        attrs = {a.name: helper.get_attribute_value(a) for a in ln.attribute}
        G.rewire(add.output[0], G.add("LayerNormalization", [ln.input[0], weight, bias], **attrs))
        count += 1
    _sort_and_prune(g)
    return count


def _sort_and_prune(g: onnx.GraphProto) -> None:
    """Drops nodes nothing uses, then orders the rest topologically (new nodes were appended)."""
    prod = {o: n for n in g.node for o in n.output}
    needed, stack, keep = set(), [o.name for o in g.output], {}
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        n = prod.get(name)
        if n is not None and id(n) not in keep:
            keep[id(n)] = n
            stack.extend(i for i in n.input if i)
    known = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
    ordered, pending = [], [n for n in g.node if id(n) in keep]
    while pending:
        rest = []
        for n in pending:
            if all(i in known for i in n.input):
                ordered.append(n)
                known.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError(f"graph has a cycle or a missing input near {rest[0].name}")
        pending = rest
    del g.node[:]
    g.node.extend(ordered)
    used = {i for n in g.node for i in n.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)


def fuse_all(model: onnx.ModelProto, num_heads: int, base_dir: str = "") -> dict[str, int]:
    """Applies every rewrite; returns how many chains each replaced. `base_dir`: where the
    graph's external data lives (constants stored there are read to check them)."""
    g = model.graph
    counts = {
        "FastGelu": fuse_fast_gelu(g, base_dir),
        "MultiHeadAttention": fuse_attention(g, num_heads, base_dir),
        "1 + scale in the Gemm bias": fold_one_plus_scale(g, base_dir),
        "low-rank adaLN Gemm pairs batched": batch_low_rank_gemms(g, base_dir),
        "LayerNormalization (modulated)": fuse_modulated_layer_norm(g, base_dir),
    }
    if not any(o.domain == MS for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS, 1))
    return counts


def main() -> None:
    """Fuses one exported transformer graph (e.g. the SD3-medium-shaped export of bench/gpu)."""
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--output", type=Path, required=True, help="in the input's folder: external data stays where it is")
    ap.add_argument("--heads", type=int, required=True)
    a = ap.parse_args()
    if a.output.resolve().parent != a.input.resolve().parent:
        ap.error("--output must be in the folder of --input (the weights are referenced, not copied)")
    model = onnx.load(str(a.input), load_external_data=False)
    counts = fuse_all(model, a.heads, str(a.input.resolve().parent))
    onnx.save(model, str(a.output))
    print(f"{a.output}: fused " + ", ".join(f"{n} {k}" for k, n in counts.items()))


if __name__ == "__main__":
    main()

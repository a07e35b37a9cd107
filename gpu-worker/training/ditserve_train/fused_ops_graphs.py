"""Two small ONNX graphs that compute the same thing: the ditserve fused ops (gpu-worker/ops) and
onnxruntime's standard ops. Tests run both, on the CPU in CI (tests/runner/fused-ops.test.ts)
and on CUDA on the GPU machine (bench/gpu/fused-ops.cuda.ts), and compare.

    python3 -m ditserve_train.fused_ops_graphs --out tests/fixtures/fused-ops

The FP8 ops have a pair of their own in `fp8/` (its reference needs opset 19's QuantizeLinear).

Inputs and outputs are float32. Both graphs round every input and output through fp16 (the ops
are fp16), and the reference rounds the residual before its LayerNorm as the fused op does, so
what is left between them is float32 arithmetic order.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
DOMAIN = "ditserve"
# Small on purpose, but within what the CUDA kernels take (head_dim 64, dim a multiple of 64).
BATCH, TEXT, IMAGE, HEADS, HEAD_DIM, ROWS = 2, 3, 5, 2, 64, 4
WIDE = 3 * HEADS * HEAD_DIM  # LinearGelu's outputs (an MLP's hidden width)
HIDDEN = HEADS * HEAD_DIM
EPS = 1e-6

F32 = TensorProto.FLOAT
F16 = TensorProto.FLOAT16

INPUTS = {
    **{f"qkv_{s}": [BATCH, n, 3 * HIDDEN] for s, n in (("text", TEXT), ("image", IMAGE))},
    **{f"bias_{s}": [3 * HIDDEN] for s in ("text", "image")},
    **{f"{w}_{s}": [HEAD_DIM] for s in ("text", "image") for w in ("q_weight", "k_weight")},
    "x": [BATCH, ROWS, HIDDEN],
    "y": [BATCH, ROWS, HIDDEN],
    "bias": [HIDDEN],
    "gate": [BATCH, 1, HIDDEN],
    "shift": [BATCH, 1, HIDDEN],
    "scale": [BATCH, 1, HIDDEN],
    "weight": [WIDE, HIDDEN],
    "wide_bias": [WIDE],
}
OUTPUTS = {
    "q": [BATCH, TEXT + IMAGE, HIDDEN],
    "k": [BATCH, TEXT + IMAGE, HIDDEN],
    "v": [BATCH, TEXT + IMAGE, HIDDEN],
    "gated": [BATCH, ROWS, HIDDEN],
    "gated_norm": [BATCH, ROWS, HIDDEN],
    "h": [BATCH, ROWS, HIDDEN],
    "mlp": [BATCH, ROWS, WIDE],
}


class _Builder:
    def __init__(self):
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def op(self, op_type: str, inputs: list[str], outputs: int = 1, domain: str = "", **attrs) -> list[str]:
        self.n += 1
        names = [f"{op_type.lower()}_{self.n}_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=f"{op_type}_{self.n}", domain=domain, **attrs))
        return names

    def one(self, op_type: str, inputs: list[str], **attrs) -> str:
        return self.op(op_type, inputs, **attrs)[0]

    def const(self, name: str, value: np.ndarray) -> str:
        """An initializer, once per name (a helper used twice asks for its constants twice)."""
        if all(t.name != name for t in self.inits):
            self.inits.append(numpy_helper.from_array(value, name))
        return name

    def fp16(self, name: str) -> str:
        return self.one("Cast", [name], to=F16)

    def rounded(self, name: str) -> str:
        """float32 -> fp16 -> float32: the value as an fp16 tensor holds it."""
        return self.one("Cast", [self.fp16(name)], to=F32)

    def finish(self, outputs: dict[str, str], name: str, inputs=None, shapes=None, opset: int = OPSET) -> onnx.ModelProto:
        inputs, shapes = inputs or INPUTS, shapes or OUTPUTS
        for out, src in outputs.items():
            self.nodes.append(helper.make_node("Identity", [src], [out], name=f"out_{out}"))
        graph = helper.make_graph(
            self.nodes, name,
            # The fused graph's inputs are all symbolic, so that a misshapen feed reaches the ops' own checks.
            [helper.make_tensor_value_info(k, F32, v if name == "reference" else [f"{k}_{i}" for i in range(len(v))])
             for k, v in inputs.items()],
            [helper.make_tensor_value_info(k, F32, v) for k, v in shapes.items()],
            initializer=self.inits,
        )
        opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(DOMAIN, 1)] if name == "fused" else [])
        model = helper.make_model(graph, opset_imports=opsets, producer_name="ditserve")
        model.ir_version = 8
        return model


def fused() -> onnx.ModelProto:
    b = _Builder()
    h = {k: b.fp16(k) for k in INPUTS}
    streams = [h[f"{w}_{s}"] for s in ("text", "image") for w in ("qkv", "bias", "q_weight", "k_weight")]
    q, k, v = b.op("JointQkvNorm", streams, outputs=3, domain=DOMAIN, num_heads=HEADS, epsilon=EPS)
    gated = b.one("GateResidual", [h["x"], h["y"], h["bias"], h["gate"]], domain=DOMAIN)
    gated_norm, hn = b.op("GateResidualNorm", [h["x"], h["y"], h["bias"], h["gate"], h["shift"], h["scale"]],
                          outputs=2, domain=DOMAIN, epsilon=EPS)
    mlp = b.one("LinearGelu", [h["x"], h["weight"], h["wide_bias"]], domain=DOMAIN)
    f32 = {name: b.one("Cast", [t], to=F32) for name, t in
           (("q", q), ("k", k), ("v", v), ("gated", gated), ("gated_norm", gated_norm), ("h", hn), ("mlp", mlp))}
    return b.finish(f32, "fused")


def reference() -> onnx.ModelProto:
    b = _Builder()
    r = {k: b.rounded(k) for k in INPUTS}
    eps = b.const("eps", np.array(EPS, np.float32))
    parts: dict[str, list[str]] = {"q": [], "k": [], "v": []}
    for s, n in (("text", TEXT), ("image", IMAGE)):
        x = b.one("Add", [r[f"qkv_{s}"], r[f"bias_{s}"]])
        x = b.one("Reshape", [x, b.const(f"shape5_{s}", np.array([BATCH, n, 3, HEADS, HEAD_DIM], np.int64))])
        split = b.op("Split", [x], outputs=3, axis=2)
        shape3 = b.const(f"shape3_{s}", np.array([BATCH, n, HIDDEN], np.int64))
        for which, t in zip("qkv", split):
            if which != "v":
                ms = b.one("ReduceMean", [b.one("Mul", [t, t])], axes=[-1], keepdims=1)
                inv = b.one("Reciprocal", [b.one("Sqrt", [b.one("Add", [ms, eps])])])
                t = b.one("Mul", [b.one("Mul", [t, inv]), r[f"{which}_weight_{s}"]])
            parts[which].append(b.one("Reshape", [t, shape3]))
    outs = {w: b.rounded(b.one("Concat", p, axis=1)) for w, p in parts.items()}
    gated = b.rounded(b.one("Add", [r["x"], b.one("Mul", [r["gate"], b.one("Add", [r["y"], r["bias"]])])]))
    ones = b.const("ones", np.ones(HIDDEN, np.float32))
    zeros = b.const("zeros", np.zeros(HIDDEN, np.float32))
    norm = b.one("LayerNormalization", [gated, ones, zeros], axis=-1, epsilon=EPS)
    one = b.const("one", np.array(1.0, np.float32))
    hn = b.one("Add", [b.one("Mul", [norm, b.one("Add", [r["scale"], one])]), r["shift"]])
    z = b.one("Add", [b.one("MatMul", [r["x"], b.one("Transpose", [r["weight"]], perm=[1, 0])]), r["wide_bias"]])
    mlp = _gelu_tanh(b, z, one)
    return b.finish({**outs, "gated": gated, "gated_norm": gated, "h": b.rounded(hn), "mlp": b.rounded(mlp)}, "reference")


def _gelu_tanh(b: _Builder, z: str, one: str) -> str:
    cube = b.one("Mul", [b.one("Mul", [z, z]), z])
    inner = b.one("Mul", [b.one("Add", [z, b.one("Mul", [cube, b.const("cubic", np.array(0.044715, np.float32))])]),
                          b.const("sqrt_2_over_pi", np.array(0.7978845608, np.float32))])
    half_z = b.one("Mul", [z, b.const("half", np.array(0.5, np.float32))])
    return b.one("Mul", [half_z, b.one("Add", [b.one("Tanh", [inner]), one])])


# --- FP8 (LinearFp8, LinearGeluFp8) ---------------------------------------------------------------
# Power-of-two scales, so that x / scale is exact on both sides; the activation scale is small
# enough that the largest inputs saturate (|x| / X_SCALE > 448).
X_SCALE, W_SCALE, Y_SCALE, H_SCALE = 2.0**-8, 2.0**-9, 2.0**-6, 2.0**-5
FLOAT8E4M3FN = 17  # TensorProto.FLOAT8E4M3FN
FP8_INPUTS = {"x": [BATCH, ROWS, HIDDEN], "wide_x": [BATCH, ROWS, WIDE], "wide_bias": [WIDE],
              **{k: INPUTS[k] for k in ("y", "bias", "gate", "shift", "scale")}}
FP8_OUTPUTS = {"linear": [BATCH, ROWS, WIDE], "linear_gelu": [BATCH, ROWS, WIDE], "down": [BATCH, ROWS, HIDDEN],
               "mlp": [BATCH, ROWS, HIDDEN], "gated": [BATCH, ROWS, HIDDEN], "norm_linear": [BATCH, ROWS, WIDE],
               "norm_mlp": [BATCH, ROWS, HIDDEN]}


def e4m3_values() -> np.ndarray:
    """The value of each E4M3 (fn) byte; NaN for the two NaN codes."""
    b = np.arange(256)
    e, m = (b >> 3) & 15, b & 7
    v = np.where(e == 0, m * 2.0**-9, (8 + m) * 2.0 ** (e - 10.0))
    v = np.where(b >> 7, -v, v)
    return np.where((e == 15) & (m == 7), np.nan, v)


def e4m3_bytes(x: np.ndarray) -> np.ndarray:
    """Each value's nearest E4M3 byte (the weights' quantization; ties do not occur here)."""
    table = e4m3_values()
    finite = np.flatnonzero(~np.isnan(table))
    return finite[np.abs(x[..., None] - table[finite]).argmin(-1)].astype(np.uint8)


def _e4m3_tensor(name: str, v: np.ndarray) -> TensorProto:
    """E4M3 bytes as a FLOAT8E4M3FN initializer (by number: older onnx packages lack the name)."""
    t = TensorProto(name=name, data_type=FLOAT8E4M3FN, raw_data=v.tobytes())
    t.dims.extend(v.shape)
    return t


def _fp8_weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {"up": e4m3_bytes(rng.normal(0, 0.05, (WIDE, HIDDEN)) / W_SCALE),
            "down": e4m3_bytes(rng.normal(0, 0.05, (HIDDEN, WIDE)) / W_SCALE)}


def fp8_fused() -> onnx.ModelProto:
    b = _Builder()
    h = {k: b.fp16(k) for k in FP8_INPUTS}
    w = {k: b.const(f"w_{k}", v) for k, v in _fp8_weights().items()}
    scales = {"x_scale": X_SCALE, "w_scale": W_SCALE}
    linear = b.one("LinearFp8", [h["x"], w["up"]], domain=DOMAIN, **scales)
    gelu = b.one("LinearGeluFp8", [h["x"], w["up"], h["wide_bias"]], domain=DOMAIN, **scales)
    down = b.one("LinearFp8", [h["wide_x"], w["down"]], domain=DOMAIN, **scales)
    # The MLP with its hidden activation in E4M3 between the layers.
    hidden = b.one("LinearGeluFp8Out", [h["x"], w["up"], h["wide_bias"]], domain=DOMAIN, **scales, y_scale=Y_SCALE)
    mlp = b.one("LinearFp8In", [hidden, w["down"]], domain=DOMAIN, x_scale=Y_SCALE, w_scale=W_SCALE)
    # A residual whose next LayerNorm writes E4M3, into a layer and into the MLP.
    gated, h8 = b.op("GateResidualNormFp8", [h[k] for k in ("x", "y", "bias", "gate", "shift", "scale")], outputs=2,
                     domain=DOMAIN, epsilon=EPS, h_scale=H_SCALE)
    in_scales = {"x_scale": H_SCALE, "w_scale": W_SCALE}
    norm_linear = b.one("LinearFp8In", [h8, w["up"]], domain=DOMAIN, **in_scales)
    hidden8 = b.one("LinearGeluFp8InOut", [h8, w["up"], h["wide_bias"]], domain=DOMAIN, **in_scales, y_scale=Y_SCALE)
    norm_mlp = b.one("LinearFp8In", [hidden8, w["down"]], domain=DOMAIN, x_scale=Y_SCALE, w_scale=W_SCALE)
    outs = {"linear": linear, "linear_gelu": gelu, "down": down, "mlp": mlp, "gated": gated,
            "norm_linear": norm_linear, "norm_mlp": norm_mlp}
    return b.finish({k: b.one("Cast", [t], to=F32) for k, t in outs.items()}, "fused", FP8_INPUTS, FP8_OUTPUTS)


def fp8_reference() -> onnx.ModelProto:
    b = _Builder()
    r = {k: b.rounded(k) for k in FP8_INPUTS}
    b.inits.append(_e4m3_tensor("zero_e4m3", np.zeros((), np.uint8)))
    x_scale = b.const("x_scale", np.array(X_SCALE, np.float32))
    w_scale = b.const("w_scale", np.array(W_SCALE, np.float32))

    # Cast and Mul rather than DequantizeLinear: onnxruntime would fuse that into an integer MatMul
    # that takes no FP8.
    def weight(name: str, v: np.ndarray) -> str:
        b.inits.append(_e4m3_tensor(f"w_{name}", v))
        return b.one("Transpose", [b.one("Mul", [b.one("Cast", [f"w_{name}"], to=F32), w_scale])], perm=[1, 0])

    def qdq(x: str, scale: str = x_scale) -> str:
        q = b.one("QuantizeLinear", [x, scale, "zero_e4m3"], saturate=1)
        return b.one("Mul", [b.one("Cast", [q], to=F32), scale])

    w = {k: weight(k, v) for k, v in _fp8_weights().items()}
    z = b.one("MatMul", [qdq(r["x"]), w["up"]])
    one = b.const("one", np.array(1.0, np.float32))
    gelu = _gelu_tanh(b, b.one("Add", [z, r["wide_bias"]]), one)
    down = b.one("MatMul", [qdq(r["wide_x"]), w["down"]])
    y_scale = b.const("y_scale", np.array(Y_SCALE, np.float32))
    mlp = b.one("MatMul", [qdq(gelu, y_scale), w["down"]])
    gated = b.rounded(b.one("Add", [r["x"], b.one("Mul", [r["gate"], b.one("Add", [r["y"], r["bias"]])])]))
    norm = b.one("LayerNormalization", [gated, b.const("ones", np.ones(HIDDEN, np.float32)),
                                        b.const("zeros", np.zeros(HIDDEN, np.float32))], axis=-1, epsilon=EPS)
    hn = qdq(b.one("Add", [b.one("Mul", [norm, b.one("Add", [r["scale"], one])]), r["shift"]]),
             b.const("h_scale", np.array(H_SCALE, np.float32)))
    norm_linear = b.one("MatMul", [hn, w["up"]])
    norm_mlp = b.one("MatMul", [qdq(_gelu_tanh(b, b.one("Add", [norm_linear, r["wide_bias"]]), one), y_scale), w["down"]])
    outs = {"linear": z, "linear_gelu": gelu, "down": down, "mlp": mlp, "gated": gated, "norm_linear": norm_linear,
            "norm_mlp": norm_mlp}
    return b.finish({k: b.rounded(t) for k, t in outs.items()}, "reference", FP8_INPUTS, FP8_OUTPUTS, opset=19)


def _save(out: Path, graphs, inputs, outputs) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, model in graphs:
        # The checker knows no custom domain, and an older onnx package no opset 19.
        if name == "reference" and onnx.defs.onnx_opset_version() >= model.opset_import[0].version:
            onnx.checker.check_model(model)
        path = out / f"{name}.onnx"
        path.write_bytes(model.SerializeToString())
        paths.append(path)
    shapes = out / "shapes.json"  # what a runner of the graphs feeds and gets back
    shapes.write_text(json.dumps({"inputs": inputs, "outputs": outputs}, indent=1) + "\n")
    return paths + [shapes]


def write(out: Path) -> list[Path]:
    return (_save(out, (("fused", fused()), ("reference", reference())), INPUTS, OUTPUTS)
            + _save(out / "fp8", (("fused", fp8_fused()), ("reference", fp8_reference())), FP8_INPUTS, FP8_OUTPUTS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    for p in write(ap.parse_args().out):
        print(p)


if __name__ == "__main__":
    main()

"""GPU machine: one linear layer of the SD3-medium shape (CFG batch of 2 × 4429 tokens) as ONNX
graphs, fp16 against onnxruntime's only FP8 GEMM (com.microsoft::GemmFloat8, CUDA), for
bench/gpu/fp8-gemm.cuda.ts (docs/performance.md, "FP8").

    PYTHONPATH=gpu-worker/training python3 bench/gpu/fp8_gemm_graphs.py --out /tmp/fp8

Each graph takes x float32 [M, K] and returns y float32 [M, N] (= x·W + b), casting to fp16
inside. The FP8 ones quantize x per tensor (QuantizeLinear to E4M3 with a calibrated scale),
multiply with the E4M3 weights (GemmFloat8, two layouts), then add the bias in fp16. Also writes x and the float64
reference y as raw files. With --torch, times the same layers in PyTorch: fp16 matmul against
torch._scaled_mm (cuBLASLt's FP8 GEMM, what an FP8 path could reach), with and without the
activations' quantization, and prints one JSON line each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper
from torch_peer import cuda_ms, med  # bench/gpu/ is this script's directory, so on sys.path

E4M3_MAX = 448.0
TOKENS = 2 * 4429
# (K, N): the attention output projection (square) and the MLP's two projections.
SHAPES = [(1536, 1536), (1536, 6144), (6144, 1536)]


def fp8_bytes(a: np.ndarray) -> bytes:
    return torch.from_numpy(a.astype(np.float32)).to(torch.float8_e4m3fn).view(torch.uint8).numpy().tobytes()


def tensor(name: str, a: np.ndarray, dtype: int) -> onnx.TensorProto:
    t = onnx.TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(a.shape)
    t.raw_data = fp8_bytes(a) if dtype == TensorProto.FLOAT8E4M3FN else a.tobytes()
    return t


def write(path: Path, nodes, inits, m: int, k: int, n: int) -> None:
    graph = helper.make_graph(
        nodes, path.stem,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9
    onnx.save(model, str(path))


def torch_peer() -> None:
    """fp16 matmul against torch._scaled_mm on the same shapes (relative L2 against float64)."""
    g = torch.Generator(device="cuda").manual_seed(1)
    for k, n in SHAPES:
        x = torch.randn(TOKENS, k, device="cuda", generator=g)
        w = torch.randn(k, n, device="cuda", generator=g) / k**0.5
        ref = x.double() @ w.double()
        x16, w16 = x.half(), w.half()
        sx = (x.abs().max() / E4M3_MAX).float()
        sw = (w.abs().max() / E4M3_MAX).float()
        w8 = (w16.t() / sw).to(torch.float8_e4m3fn).contiguous().t()  # column-major, as cuBLASLt takes it
        x8 = (x16 / sx).to(torch.float8_e4m3fn)

        def fp8():
            return torch._scaled_mm(x8, w8, scale_a=sx, scale_b=sw, out_dtype=torch.float16)

        def fp8_quantized():
            return torch._scaled_mm((x16 / sx).to(torch.float8_e4m3fn), w8, scale_a=sx, scale_b=sw,
                                    out_dtype=torch.float16)

        rel = lambda y: float((y.double() - ref).norm() / ref.norm())  # noqa: E731
        flops = 2 * TOKENS * k * n
        for name, fn in (("torch_fp16", lambda: x16 @ w16), ("torch_fp8", fp8), ("torch_fp8_with_quantize", fp8_quantized)):
            ms = med(cuda_ms(fn, iters=20))
            print(json.dumps({"part": "fp8-gemm", "name": f"{name}_{k}x{n}", "msPerRun": ms,
                              "tflops": flops / (ms / 1000) / 1e12, "relL2": rel(fn())}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("/tmp/fp8"))
    ap.add_argument("--torch", action="store_true")
    args = ap.parse_args()
    if args.torch:
        torch_peer()
        return
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for k, n in SHAPES:
        m = TOKENS
        # Activations of a normed hidden state, weights of a trained-like scale (~1/sqrt(K)).
        x = rng.standard_normal((m, k)).astype(np.float32)
        w = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
        b = (0.02 * rng.standard_normal(n)).astype(np.float32)
        tag = f"{k}x{n}"
        x.tofile(out / f"x_{tag}.f32")
        (x.astype(np.float64) @ w.astype(np.float64) + b).astype(np.float32).tofile(out / f"ref_{tag}.f32")
        cast16 = helper.make_node("Cast", ["x"], ["x16"], to=TensorProto.FLOAT16)
        to32 = helper.make_node("Cast", ["y16"], ["y"], to=TensorProto.FLOAT)
        bias = tensor("b", b.astype(np.float16), TensorProto.FLOAT16)
        write(out / f"fp16_{tag}.onnx", [
            cast16,
            helper.make_node("MatMul", ["x16", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y16"]),
            to32,
        ], [tensor("w", w.astype(np.float16), TensorProto.FLOAT16), bias], m, k, n)
        # Per-tensor scales: the weights' and the activations' largest magnitude onto E4M3's.
        sw = float(np.abs(w).max()) / E4M3_MAX
        sx = float(np.abs(x).max()) / E4M3_MAX
        # onnxruntime 1.29's GemmFloat8 has no rowMajor attribute (later versions do): its kernel
        # then takes every matrix row-major. Two layouts: x8 [M, K] · w8 [K, N] (NN), and
        # x8 · w8ᵀ with w8 [N, K] as PyTorch stores a Linear's weight (NT).
        scales = [
            tensor("sx16", np.array(sx, dtype=np.float16), TensorProto.FLOAT16),
            tensor("zp8", np.array(0.0, dtype=np.float32), TensorProto.FLOAT8E4M3FN),
            tensor("sw", np.array([sw], dtype=np.float32), TensorProto.FLOAT),
            tensor("sx", np.array([sx], dtype=np.float32), TensorProto.FLOAT),
            tensor("one", np.array([1.0], dtype=np.float32), TensorProto.FLOAT),
        ]
        # 1.29 reads its inputs as A, B, C, scales: C (unused at beta 0) must have the output's type.
        c0 = tensor("c0", np.zeros((m, n), dtype=np.float16), TensorProto.FLOAT16)
        for layout, w8, trans_b in (("nn", w / sw, 0), ("nt", np.ascontiguousarray((w / sw).T), 1)):
            write(out / f"fp8{layout}_{tag}.onnx", [
                cast16,
                helper.make_node("QuantizeLinear", ["x16", "sx16", "zp8"], ["x8"], saturate=1),
                helper.make_node("GemmFloat8", ["x8", "w8", "c0", "sx", "sw", "one"], ["xw"], domain="com.microsoft",
                                 transA=0, transB=trans_b, dtype=TensorProto.FLOAT16),
                helper.make_node("Add", ["xw", "b"], ["y16"]),
                to32,
            ], [tensor("w8", w8, TensorProto.FLOAT8E4M3FN), bias, c0, *scales], m, k, n)
        print(f"wrote {tag}: sw {sw:.3g}, sx {sx:.3g}")


if __name__ == "__main__":
    main()

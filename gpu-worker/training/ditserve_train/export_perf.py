"""Exports the production-scale transformer (SD3-medium shapes, random weights) to ONNX, fp16.

    python3 -m ditserve_train.export_perf --out /tmp/perf      (GPU machine; not shipped)

The benchmark issue times this graph; weights are random because only speed and memory matter.
"""

from __future__ import annotations

import json
import time

import torch

from .config import ExportPerfConfig, parse_args
from .export import _Fp16Edges, export_one
from .models.mmdit import SD3_MEDIUM, MMDiT


def main(argv: list[str] | None = None) -> None:
    args = parse_args(ExportPerfConfig, argv, __doc__)
    torch.manual_seed(0)
    cfg = SD3_MEDIUM
    t0 = time.time()
    dit = MMDiT(cfg).cuda().eval()
    params = sum(p.numel() for p in dit.parameters())
    x = torch.randn(1, cfg.in_channels, args.latent, args.latent, device="cuda")
    ctx = torch.randn(1, 333, cfg.joint_attention_dim, device="cuda")  # SD3: 77 CLIP + 256 T5 tokens
    pooled = torch.randn(1, cfg.pooled_projection_dim, device="cuda")
    t = torch.tensor([500.0], device="cuda")
    folder = args.out / "transformer"
    with torch.no_grad():
        export_one(_Fp16Edges(dit), "transformer", (x, t, ctx, pooled), folder / "model.fp16.onnx")
    (folder / "config.json").write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
    size = sum(f.stat().st_size for f in folder.iterdir())
    import onnx

    onnx.checker.check_model(str(folder / "model.fp16.onnx"), full_check=False)
    report = {"params": params, "bytes": size, "export_s": round(time.time() - t0, 1), "checker": "ok"}
    print(json.dumps(report))
    (args.out / "export_perf.json").write_text(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()

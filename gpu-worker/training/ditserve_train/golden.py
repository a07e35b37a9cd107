"""Shared test vectors: full sampling runs of the shipped model by the PyTorch reference (fp32).

The TypeScript golden test must reproduce reference images within 2/255 per pixel.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from .noise import latent_noise
from .ort_pipeline import OrtPipeline
from .pipeline import TorchPipeline

CASES = [
    {"name": "euler-square", "prompt": "a red circle left of a blue square", "negative_prompt": "", "seed": 7,
     "steps": 20, "guidance_scale": 4.0, "width": 128, "height": 128, "sampler": "euler"},
    {"name": "heun-landscape", "prompt": "two yellow stars on a black background", "negative_prompt": "a blue ring",
     "seed": 2**40 + 3, "steps": 10, "guidance_scale": 5.0, "width": 192, "height": 128, "sampler": "heun"},
]


def write_golden(pipe: TorchPipeline, model_dir: Path, out: Path) -> dict:
    """Runs each case in fp32 on the CPU, saves case.json + PNG, and checks ORT against it."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    # Copies: moving the caller's (GPU) models to the CPU would change them under its feet.
    models = (copy.deepcopy(m).float().cpu().eval() for m in (pipe.text_encoder, pipe.transformer, pipe.vae))
    cpu = TorchPipeline(*models, pipe.tokenizer, pipe.shift)
    ort = OrtPipeline(model_dir)
    report = {}
    for case in CASES:
        img = cpu([case["prompt"]], [case["seed"]], case["width"], case["height"], case["steps"],
                  case["guidance_scale"], case["sampler"], case["negative_prompt"])[0]
        Image.fromarray(img).save(out / f"{case['name']}.png")
        ids = np.array([pipe.tokenizer.ids(case["prompt"])])
        uncond = np.array([pipe.tokenizer.ids(case["negative_prompt"])])
        via_ort = ort(ids, uncond, [case["seed"]], case["width"], case["height"], case["steps"], case["guidance_scale"], case["sampler"])[0]
        diff = np.abs(via_ort.astype(int) - img.astype(int))
        c = pipe.transformer.cfg.in_channels
        noise = latent_noise([case["seed"]], (c, case["height"] // 8, case["width"] // 8))[0]
        record = {**case, "input_ids": ids[0].tolist(), "uncond_input_ids": uncond[0].tolist(),
                  "noise_first_values": [float(v) for v in noise.reshape(-1)[:8]],
                  "image": f"{case['name']}.png", "reference": "PyTorch fp32 on CPU (gpu-worker/training/ditserve_train/golden.py)",
                  "onnxruntime_python_cpu": {"max_abs_diff_255": int(diff.max()), "mean_abs_diff_255": float(diff.mean())}}
        (out / f"{case['name']}.json").write_text(json.dumps(record, indent=1) + "\n")
        report[case["name"]] = record["onnxruntime_python_cpu"]
    return report

"""The same sampling loop on onnxruntime sessions of an exported model folder (parity check)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .flow import sigmas
from .manifest import read_shift
from .noise import latent_noise


class OrtPipeline:
    def __init__(self, folder: Path, variant: str = "model.onnx"):
        import onnxruntime as ort

        self.folder = folder
        opts = ["CPUExecutionProvider"]
        self.te = ort.InferenceSession(str(folder / "text_encoder" / variant), providers=opts)
        self.dit = ort.InferenceSession(str(folder / "transformer" / variant), providers=opts)
        self.vae = ort.InferenceSession(str(folder / "vae_decoder" / variant), providers=opts)
        self.vae_cfg = json.loads((folder / "vae_decoder" / "config.json").read_text())
        self.dit_cfg = json.loads((folder / "transformer" / "config.json").read_text())
        self.shift = read_shift(folder)

    def __call__(self, ids: np.ndarray, uncond: np.ndarray, seeds: list[int], width: int, height: int,
                 steps: int, guidance: float, sampler: str = "euler") -> np.ndarray:
        b = len(seeds)
        hidden, pooled = self.te.run(None, {"input_ids": np.concatenate([ids, uncond]).astype(np.int64)})
        f = self.vae_cfg["downsample_factor"]
        x = latent_noise(seeds, (self.dit_cfg["in_channels"], height // f, width // f))

        def velocity(x, sigma):
            t = np.full((2 * b,), sigma * 1000.0, np.float32)
            v = self.dit.run(None, {"hidden_states": np.concatenate([x, x]), "timestep": t,
                                    "encoder_hidden_states": hidden, "pooled_projections": pooled})[0]
            return v[b:] + np.float32(guidance) * (v[:b] - v[b:])

        s = sigmas(steps, self.shift)
        for i in range(steps):
            d = velocity(x, s[i])
            x_next = x + np.float32(s[i + 1] - s[i]) * d
            if sampler == "heun" and s[i + 1] > 0:
                x_next = x + np.float32(s[i + 1] - s[i]) * (d + velocity(x_next, s[i + 1])) / 2
            x = x_next.astype(np.float32)
        z = x / np.float32(self.vae_cfg["scaling_factor"]) + np.float32(self.vae_cfg["shift_factor"])
        img = self.vae.run(None, {"latent_sample": z.astype(np.float32)})[0]
        return np.floor(np.clip((img + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)

"""The PyTorch reference pipeline: captions -> images, as the TypeScript sampler does it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .flow import SampleRequest, sample, to_uint8
from .tokenizer import WordTokenizer


@dataclass
class TorchPipeline:
    text_encoder: torch.nn.Module
    transformer: torch.nn.Module
    vae: torch.nn.Module
    tokenizer: WordTokenizer
    shift: float = 3.0

    @torch.no_grad()
    def latents(self, prompts: list[str], seeds: list[int], width: int, height: int, steps: int,
                guidance: float, sampler: str = "euler", negative: str = "") -> torch.Tensor:
        uncond = np.array(self.tokenizer.ids(negative), np.int64)
        reqs = [SampleRequest(np.array(self.tokenizer.ids(p), np.int64), uncond, s, guidance) for p, s in zip(prompts, seeds)]
        c = self.transformer.cfg.in_channels
        f = self.vae.cfg.downsample_factor
        return sample(self.text_encoder, self.transformer, reqs, (c, height // f, width // f), steps, self.shift, sampler)

    @torch.no_grad()
    def __call__(self, prompts: list[str], seeds: list[int], width: int = 128, height: int = 128, steps: int = 20,
                 guidance: float = 4.0, sampler: str = "euler", negative: str = "", chunk: int = 256) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for i in range(0, len(prompts), chunk):
            z = self.latents(prompts[i : i + chunk], seeds[i : i + chunk], width, height, steps, guidance, sampler, negative)
            out.extend(to_uint8(self.vae.decode_latents(z)))
        return out

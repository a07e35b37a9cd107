"""The PyTorch reference sampler for clips: captions (+ given frames) -> uint8 clips, as the
TypeScript video sampler does it (batched CFG, Euler over the image model's sigmas, per-clip seed
and guidance, Philox noise of shape [C, F, h, w] per clip)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..flow import from_uint8, sigmas, to_uint8
from ..noise import latent_noise
from ..tokenizer import WordTokenizer
from .model import given_frame_velocity


@dataclass
class ClipRequest:
    prompt: str
    seed: int
    guidance: float
    # Given frames: uint8 [K, H, W, 3] placed at frames 0..K-1 (image-to-video: K = 1; extension:
    # the previous clip's last frames), or None.
    given: np.ndarray | None = None


@dataclass
class VideoPipeline:
    text_encoder: torch.nn.Module
    transformer: torch.nn.Module
    vae: torch.nn.Module
    tokenizer: WordTokenizer
    shift: float = 3.0

    def _device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    def encode_frames(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 [N, H, W, 3] -> scaled latents [N, C, h, w]."""
        return self.vae.encode_latents(from_uint8(frames, self._device()))

    @torch.no_grad()
    def latents(self, reqs: list[ClipRequest], frames: int, width: int, height: int, steps: int,
                negative: str = "") -> torch.Tensor:
        dev = self._device()
        b = len(reqs)
        ids = torch.as_tensor(self.tokenizer.batch([r.prompt for r in reqs] + [negative] * b), device=dev)
        hidden, pooled = self.text_encoder(ids)
        c, f8 = self.transformer.cfg.in_channels, self.vae.cfg.downsample_factor
        h, w = height // f8, width // f8
        x = torch.as_tensor(latent_noise([r.seed for r in reqs], (c, frames, h, w)), device=dev)
        cond = torch.zeros_like(x)
        mask = torch.zeros(b, frames, device=dev)
        for i, r in enumerate(reqs):
            if r.given is not None and len(r.given):
                k = len(r.given)
                cond[i, :, :k] = self.encode_frames(r.given).permute(1, 0, 2, 3)
                mask[i, :k] = 1
        g = torch.tensor([r.guidance for r in reqs], device=dev)[:, None, None, None, None]
        cond2, mask2 = torch.cat([cond, cond]), torch.cat([mask, mask])
        s = sigmas(steps, self.shift)
        for i in range(steps):
            t = torch.full((2 * b,), s[i] * 1000.0, device=dev)
            x2 = torch.cat([x, x])
            v = self.transformer(x2, t, hidden, pooled, cond2, mask2).float()
            v = given_frame_velocity(v, x2, t, cond2, mask2)
            d = v[b:] + g * (v[:b] - v[b:])
            x = x + (s[i + 1] - s[i]) * d
        return x

    def decode(self, z: torch.Tensor) -> list[np.ndarray]:
        """[B, C, F, h, w] -> uint8 clips [F, H, W, 3]."""
        b, c, f, h, w = z.shape
        flat = z.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
        imgs = np.concatenate([to_uint8(self.vae.decode_latents(flat[i : i + 256])) for i in range(0, b * f, 256)])
        return list(imgs.reshape(b, f, *imgs.shape[1:]))

    @torch.no_grad()
    def __call__(self, reqs: list[ClipRequest], frames: int = 16, width: int = 128, height: int = 128,
                 steps: int = 24, chunk: int = 64) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for i in range(0, len(reqs), chunk):
            out.extend(self.decode(self.latents(reqs[i : i + chunk], frames, width, height, steps)))
        return out

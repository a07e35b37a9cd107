"""Rectified flow: the training objective and the reference samplers (docs/model-format.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .noise import latent_noise


def sigmas(steps: int, shift: float) -> list[float]:
    """sigma_i = shift*t / (1 + (shift-1)*t) for t_i = 1 - i/n, i = 0..n (last is 0)."""
    out = []
    for i in range(steps + 1):
        t = 1.0 - i / steps
        out.append(shift * t / (1.0 + (shift - 1.0) * t))
    return out


def logit_normal(n: int, device: torch.device, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    return torch.sigmoid(torch.randn(n, device=device) * std + mean)


def flow_pair(x0: torch.Tensor, t_shift: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_t, t in 0..1, target): x_t = (1-t) x0 + t eps, target eps - x0 (SD3's rectified flow,
    logit-normal t).

    t_shift > 1 moves the logit-normal t towards noise with the sampler's map
    t -> s t / (1 + (s - 1) t), as SD3 does when it shifts the schedule for larger images."""
    t = logit_normal(x0.shape[0], x0.device)
    if t_shift != 1.0:
        t = t_shift * t / (1.0 + (t_shift - 1.0) * t)
    eps = torch.randn_like(x0)
    tt = t[:, None, None, None]
    return (1 - tt) * x0 + tt * eps, t, eps - x0


def flow_loss(model: Callable, x0: torch.Tensor, cond: tuple, t_shift: float = 1.0) -> torch.Tensor:
    """The rectified-flow MSE of model(x_t, 1000 t, *cond) against eps - x0 (flow_pair)."""
    xt, t, target = flow_pair(x0, t_shift)
    pred = model(xt, t * 1000.0, *cond)
    return torch.nn.functional.mse_loss(pred.float(), target.float())


@dataclass
class SampleRequest:
    input_ids: np.ndarray  # [L] conditional
    uncond_ids: np.ndarray  # [L] negative prompt or ""
    seed: int
    guidance: float


@torch.no_grad()
def sample(text_encoder, transformer, requests: list[SampleRequest], latent_shape: tuple[int, int, int],
           steps: int, shift: float, sampler: str = "euler", device: torch.device | None = None) -> torch.Tensor:
    """Reference sampler: batched CFG ([cond..., uncond...]), per-sample seed and guidance."""
    device = device or next(transformer.parameters()).device
    b = len(requests)
    ids = torch.as_tensor(np.stack([r.input_ids for r in requests] + [r.uncond_ids for r in requests]), device=device)
    hidden, pooled = text_encoder(ids)
    g = torch.tensor([r.guidance for r in requests], device=device, dtype=torch.float32)[:, None, None, None]
    x = torch.as_tensor(latent_noise([r.seed for r in requests], latent_shape), device=device)

    def velocity(x: torch.Tensor, sigma: float) -> torch.Tensor:
        t = torch.full((2 * b,), sigma * 1000.0, device=device, dtype=torch.float32)
        v = transformer(torch.cat([x, x]), t, hidden, pooled).float()
        cond, uncond = v[:b], v[b:]
        return uncond + g * (cond - uncond)

    s = sigmas(steps, shift)
    for i in range(steps):
        d = velocity(x, s[i])
        x_next = x + (s[i + 1] - s[i]) * d
        if sampler == "heun" and s[i + 1] > 0:
            x_next = x + (s[i + 1] - s[i]) * (d + velocity(x_next, s[i + 1])) / 2
        elif sampler not in ("euler", "heun"):
            raise ValueError(f"unknown sampler {sampler!r}")
        x = x_next
    return x


def from_uint8(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [B,H,W,3] -> [B,3,H,W] in [-1,1] on device (what the VAE encoder takes)."""
    return torch.as_tensor(images, device=device).permute(0, 3, 1, 2).float() / 127.5 - 1


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[B,3,H,W] in [-1,1] -> uint8 [B,H,W,3] with floor(clamp((x+1)/2)*255 + 0.5)."""
    x = ((images.float() + 1) / 2).clamp(0, 1) * 255 + 0.5
    return x.floor().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

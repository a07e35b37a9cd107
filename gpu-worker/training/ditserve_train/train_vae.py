"""Phase 1: the VAE, trained first; its scaling and shift factors are measured on data."""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F

from .data import batches, to_device
from .log import Log
from .models.vae import Vae, VaeConfig

LR = 1.5e-3


def train_vae(device: torch.device, seconds: float, batch_size: int, seed: int, workers: int, log: Log) -> Vae:
    torch.manual_seed(seed)
    vae = Vae(VaeConfig()).to(device)
    opt = torch.optim.AdamW(vae.parameters(), lr=LR, betas=(0.9, 0.99), weight_decay=0.0)
    it = batches(batch_size, seed + 1, workers, caption_dropout=0.0)
    t0, step = time.time(), 0
    while (elapsed := time.time() - t0) < seconds:
        lr = LR * min(1.0, (step + 1) / 200) * (0.5 + 0.5 * math.cos(math.pi * min(elapsed / seconds, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        images, _ = to_device(next(it), device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            mean, logvar = vae.encoder(images)
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
            rec = vae.decoder(z)
        rec = rec.float()
        kl = 0.5 * (mean.float().pow(2) + logvar.float().exp() - 1 - logvar.float()).mean()
        loss = F.l1_loss(rec, images) + F.mse_loss(rec, images) + 1e-6 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            log.scalar("vae", step=step, t=round(elapsed, 1), loss=round(loss.item(), 5), kl=round(kl.item(), 3))
    vae.eval()
    _measure_factors(vae, it, device, log)
    log.event("vae_done", steps=step, seconds=round(time.time() - t0, 1), **{k: getattr(vae.cfg, k) for k in ("scaling_factor", "shift_factor")})
    return vae


@torch.no_grad()
def _measure_factors(vae: Vae, it, device: torch.device, log: Log, n_batches: int = 16) -> None:
    """SD3-style: shift = mean, scale = 1/std of the posterior means over fresh data."""
    zs, psnr = [], []
    for _ in range(n_batches):
        images, _ = to_device(next(it), device)
        mean, _ = vae.encoder(images)
        zs.append(mean.float().flatten())
        rec = vae.decoder(mean).clamp(-1, 1)
        mse = ((rec - images) ** 2).mean(dim=(1, 2, 3))
        psnr.append((10 * torch.log10(4.0 / mse)).mean().item())
    z = torch.cat(zs)
    vae.cfg.shift_factor = round(z.mean().item(), 6)
    vae.cfg.scaling_factor = round(1.0 / z.std().item(), 6)
    log.event("vae_reconstruction", psnr_db=round(sum(psnr) / len(psnr), 2))

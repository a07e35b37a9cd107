"""Phase 1: the VAE, trained first; its scaling and shift factors are measured on data."""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F

from .config import VaeRun
from .data import batches, render_arrays, to_device, unpack
from .graphs import GraphedLoss
from .log import Log
from .models.vae import Vae, VaeConfig


def train_vae(device: torch.device, run: VaeRun, seed: int, workers: int, log: Log, decoder_of: Vae | None = None) -> Vae:
    """A VAE trained for run.seconds; with decoder_of, only an encoder for that VAE's (trained,
    frozen) decoder, for run.encoder_seconds, its latent factors kept (a DiT's latents are that
    decoder's)."""
    torch.manual_seed(seed)
    vae = (decoder_of or Vae(VaeConfig())).to(device)
    if decoder_of is not None:
        vae.decoder.requires_grad_(False)
    params = [p for p in vae.parameters() if p.requires_grad]
    seconds = run.seconds if decoder_of is None else run.encoder_seconds
    cuda = device.type == "cuda"
    opt = torch.optim.AdamW(params, lr=run.lr, betas=(0.9, 0.99), weight_decay=0.0, fused=cuda)
    it = batches(run.batch_size, seed + 1, workers, caption_dropout=0.0)
    kl_last = torch.zeros((), device=device)

    def loss_fn(size, *arrays: torch.Tensor) -> torch.Tensor:
        images = render_arrays(arrays, *size)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda, cache_enabled=False):
            mean, logvar = vae.encoder(images)
            z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
            rec = vae.decoder(z)
        rec = rec.float()
        kl = 0.5 * (mean.float().pow(2) + logvar.float().exp() - 1 - logvar.float()).mean()
        kl_last.copy_(kl.detach())
        return F.l1_loss(rec, images) + F.mse_loss(rec, images) + 1e-6 * kl

    # One CUDA graph per aspect bucket (graphs.py): the eager step at this batch is launch-bound.
    graphed: dict[tuple[int, int], GraphedLoss] = {}
    use_graphs = run.graphs and cuda
    t0, step = time.time(), 0
    while (elapsed := time.time() - t0) < seconds:
        lr = run.lr * min(1.0, (step + 1) / run.warmup_steps) * (0.5 + 0.5 * math.cos(math.pi * min(elapsed / seconds, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        arrays, _, size = unpack(next(it), device)
        loss = None
        if use_graphs:
            try:
                if size not in graphed:
                    graphed[size] = GraphedLoss(lambda *a, size=size: loss_fn(size, *a), params)
                loss = graphed[size](*arrays)
            except Exception as exc:  # a capture failure must not cost the run: fall back to eager
                log.event("graph_failed", phase="vae", error=str(exc).splitlines()[0][:300])
                use_graphs = False
                torch.cuda.synchronize()
        if loss is None:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(size, *arrays)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            log.scalar("vae", step=step, t=round(elapsed, 1), loss=round(loss.item(), 5), kl=round(kl_last.item(), 3))
    vae.eval()
    _measure_factors(vae, it, device, log, set_factors=decoder_of is None)
    log.event("vae_done", steps=step, seconds=round(time.time() - t0, 1), **{k: getattr(vae.cfg, k) for k in ("scaling_factor", "shift_factor")})
    return vae


@torch.no_grad()
def _measure_factors(vae: Vae, it, device: torch.device, log: Log, n_batches: int = 16, set_factors: bool = True) -> None:
    """SD3-style: shift = mean, scale = 1/std of the posterior means over fresh data (and the
    reconstruction PSNR, logged)."""
    zs, psnr = [], []
    for _ in range(n_batches):
        images, _ = to_device(next(it), device)
        mean, _ = vae.encoder(images)
        zs.append(mean.float().flatten())
        rec = vae.decoder(mean).clamp(-1, 1)
        mse = ((rec - images) ** 2).mean(dim=(1, 2, 3))
        psnr.append((10 * torch.log10(4.0 / mse)).mean().item())
    z = torch.cat(zs)
    if set_factors:
        vae.cfg.shift_factor = round(z.mean().item(), 6)
        vae.cfg.scaling_factor = round(1.0 / z.std().item(), 6)
    log.event("vae_reconstruction", psnr_db=round(sum(psnr) / len(psnr), 2),
              latent_mean=round(z.mean().item(), 6), latent_std=round(z.std().item(), 6))

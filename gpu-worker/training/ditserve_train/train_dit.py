"""Phase 2: the text encoder and the MMDiT, trained jointly with rectified flow.

Validation prompts (a split disjoint from train and test) are scored with ShapesEval during
training; the best EMA weights are kept, and training stops early when validation stalls.
"""

from __future__ import annotations

import copy

import torch

from .config import DitRun
from .data import batches, render_arrays, unpack
from .flow import flow_pair
from .graphs import GraphedFn, GraphedLoss
from .layout_loss import LayoutHead, token_targets
from .log import Log
from .models.mmdit import MMDiT, MMDiTConfig
from .models.text_encoder import TextEncoder, TextEncoderConfig
from .models.vae import Vae
from .pipeline import TorchPipeline
from .shapes_eval import evaluate
from .tokenizer import WordTokenizer
from .train_loop import train_loop


def validate(pipe: TorchPipeline, prompts, run: DitRun, pool, guidance: float | None = None, steps: int | None = None,
             seed0: int = 0) -> dict:
    images = pipe([c for _, c in prompts], list(range(seed0, seed0 + len(prompts))), 128, 128, steps or run.steps,
                  run.guidance if guidance is None else guidance)
    return evaluate(prompts, images, pool)


def train_dit(vae: Vae, tok: WordTokenizer, val, device: torch.device, run: DitRun, seed: int, workers: int, pool,
              log: Log, te_cfg: TextEncoderConfig | None = None, dit_cfg: MMDiTConfig | None = None):
    torch.manual_seed(seed)
    te = TextEncoder(te_cfg or TextEncoderConfig(vocab_size=len(tok.vocab), max_length=tok.max_length,
                                                 num_layers=run.te_layers)).to(device)
    dit = MMDiT(dit_cfg or MMDiTConfig(in_channels=vae.cfg.latent_channels, out_channels=vae.cfg.latent_channels,
                                       patch_size=run.patch_size, hidden_size=run.hidden_size, depth=run.depth,
                                       num_heads=run.num_heads, ada_rank=run.ada_rank, joint_attention_dim=te.cfg.hidden_size,
                                       pooled_projection_dim=te.cfg.hidden_size)).to(device)
    head = LayoutHead(dit.cfg.hidden_size).to(device) if run.aux_weight > 0 else None
    token_px = vae.cfg.downsample_factor * dit.cfg.patch_size
    params = [*te.parameters(), *dit.parameters(), *(head.parameters() if head else ())]
    log.event("params", text_encoder=sum(p.numel() for p in te.parameters()), transformer=sum(p.numel() for p in dit.parameters()),
              vae_decoder=sum(p.numel() for p in vae.decoder.parameters()))
    opt = torch.optim.AdamW(params, lr=run.lr, betas=(0.9, 0.99), weight_decay=0.01, fused=device.type == "cuda")
    ema_te, ema_dit = copy.deepcopy(te).eval(), copy.deepcopy(dit).eval()
    pipe = TorchPipeline(ema_te, ema_dit, vae, tok, run.shift)
    it = batches(run.batch_size, seed + 2, workers)
    cuda = device.type == "cuda"
    mode = run.mode if cuda else "eager"
    # "compile": one static compile per aspect bucket (~40 s each, ~3x faster than eager).
    # "graph": CUDA graphs of the eager code, one capture per bucket (~1 s each), no compiler.
    fwd = torch.compile(dit.forward_features, dynamic=False) if mode == "compile" else dit.forward_features
    tap = run.aux_tap if head is not None else -1

    def loss_fn(x0: torch.Tensor, seg: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """[total, flow, aux]: the total is what backward() sees, the parts are logged."""
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda, cache_enabled=False):
            hidden, pooled = te(ids)
            xt, t, target = flow_pair(x0, run.t_shift)
            pred, feats = fwd(xt, t * 1000.0, hidden, pooled, tap)
            flow = torch.nn.functional.mse_loss(pred.float(), target.float())
            aux = head.loss(feats, seg) if head is not None else flow.new_zeros(())
            return torch.stack([flow + run.aux_weight * aux, flow, aux])

    def eager_loss(x0: torch.Tensor, seg: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(x0, seg, ids)
        loss[0].backward()
        return loss

    # The frozen encoder runs in plain bf16 on CUDA (GroupNorm included; autocast would keep it in
    # fp32): encoding a batch cost as much as a whole DiT step.
    encoder = copy.deepcopy(vae.encoder).to(torch.bfloat16).eval() if cuda else vae.encoder

    def encode(arrays, size):
        """(latents x0, per-token layout targets) of a batch of laid-out scenes."""
        images = render_arrays(arrays, *size)
        mean, _ = encoder(images.to(torch.bfloat16) if cuda else images)
        seg = token_targets(arrays, *size, token_px)
        return (mean.float() - vae.cfg.shift_factor) * vae.cfg.scaling_factor, seg

    graphed_loss = GraphedLoss(loss_fn, params) if mode == "graph" else None
    graphed_encode: dict[tuple[int, int], GraphedFn] = {}

    def train_step(arrays, ids, size, fresh: bool):
        nonlocal mode, fwd, encoded, head, tap, graphed_loss
        if mode != "graph":
            if fresh:
                with torch.no_grad():
                    encoded = encode(arrays, size)
            try:
                return eager_loss(*encoded, ids)
            except Exception as exc:  # a compiler failure must not cost the run: fall back to eager
                if mode == "eager":
                    raise
                log.event("compile_failed", error=str(exc).splitlines()[0][:300])
                mode, fwd = "eager", dit.forward_features
                return eager_loss(*encoded, ids)
        try:
            if fresh:
                if size not in graphed_encode:
                    graphed_encode[size] = GraphedFn(lambda *a: encode(a, size))
                encoded = graphed_encode[size](*arrays)
            return graphed_loss(*encoded, ids)
        except Exception as exc:  # a capture failure must not cost the run: fall back to eager
            log.event("graph_failed", error=str(exc).splitlines()[0][:300], aux=head is not None)
            torch.cuda.synchronize()
            if head is not None:  # first without the auxiliary loss, still graphed (2x eager's speed)
                head, tap = None, -1
                graphed_loss = GraphedLoss(loss_fn, params)
                graphed_encode.clear()
            else:
                mode = "eager"
            return train_step(arrays, ids, size, True)

    encoded = None  # (latents, layout targets) of the current batch, reused for `echo` steps
    train_loop(run, opt, params, (te, dit), (ema_te, ema_dit), lambda: unpack(next(it), device), train_step,
               lambda: validate(pipe, val, run, pool), log, samples_per_step=run.batch_size)
    return ema_te, ema_dit, pipe

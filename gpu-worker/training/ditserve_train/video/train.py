"""The video model's phase 2: its text encoder and the VideoMMDiT, trained jointly with rectified
flow on rendered clips encoded frame by frame by the (frozen) per-frame VAE.

Each clip is conditioned at random on nothing, on its first frame (image-to-video) or on its
first few frames (extension): the given frames' clean latents and a mask enter as input channels,
and the loss is taken on the other frames only. Validation clips are scored with MotionEval; the
best EMA weights are kept.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import torch

from ..config import VideoDitRun
from ..flow import logit_normal
from ..graphs import GraphedFn, GraphedLoss
from ..layout_loss import LayoutHead
from ..log import Log
from ..models.text_encoder import TextEncoder, TextEncoderConfig
from ..models.vae import Vae
from ..tokenizer import WordTokenizer
from ..train_loop import train_loop
from .clip_data import WINDOW_FRAMES, FRAME_WEIGHTS, clip_batches, render_clip_arrays, tokens_per_clip, unpack_clips
from .layout_targets import clip_token_targets
from .from_image import CHECKED, init_text_encoder, init_transformer
from .model import VideoMMDiT, VideoMMDiTConfig
from .pipeline import ClipRequest, VideoPipeline
from .motion_eval import evaluate


def cond_mask(b: int, frames: int, run: VideoDitRun, device: torch.device) -> torch.Tensor:
    """[B, F] 1 at given frames: none, the first frame, or the first run.extend_frames (graph-safe)."""
    u = torch.rand(b, device=device)
    n = torch.where(u < run.p_first_frame, 1.0, torch.where(u < run.p_first_frame + run.p_extend,
                                                           float(run.extend_frames), 0.0))
    return (torch.arange(frames, device=device, dtype=torch.float32)[None] < n[:, None]).float()


def text_params(te: TextEncoder, dit: VideoMMDiT) -> list[torch.nn.Parameter]:
    """The text pathway: the text encoder and the transformer's embeddings of its outputs."""
    return [*te.parameters(), *dit.context_embed.parameters(), *dit.pooled_embed.parameters()]


def new_params(dit: VideoMMDiT) -> list[torch.nn.Parameter]:
    """What the image model has no weights for, started at zero: time positions, text attention, frame text."""
    return [p for m in (dit.time_pos, dit.text_attn, dit.frame_text) if m is not None for p in m.parameters()]


def param_groups(params: list, scaled: list[tuple[list, float]]) -> list[dict]:
    """params as optimizer groups: each (subset, scale) of `scaled` at scale x the lr (train_loop
    reads "lr_scale"), the rest at the lr; the subsets must not overlap."""
    groups, taken = [], set()
    for subset, scale in scaled:
        ids = {id(p) for p in subset}
        if ids & taken:
            raise ValueError("parameter groups overlap")
        taken |= ids
        groups.append({"params": [p for p in params if id(p) in ids], "lr_scale": scale})
    return [{"params": [p for p in params if id(p) not in taken]}, *groups]


def masked_flow_loss(model, x0: torch.Tensor, hidden, pooled, mask: torch.Tensor, t_shift: float, tap: int = -1):
    """(rectified-flow MSE on the frames that are not given, tokens after `tap` blocks or None);
    x0 [B,C,F,h,w] latents, mask [B,F]; model is VideoMMDiT.forward_features."""
    b = x0.shape[0]
    t = logit_normal(b, x0.device)
    t = t_shift * t / (1.0 + (t_shift - 1.0) * t)
    eps = torch.randn_like(x0)
    tt = t[:, None, None, None, None]
    xt = (1 - tt) * x0 + tt * eps
    m = mask[:, None, :, None, None]
    pred, feats = model(xt, t * 1000.0, hidden, pooled, x0 * m, mask, tap)
    err = (pred.float() - (eps - x0).float()).pow(2) * (1 - m)
    return err.sum() / ((1 - m).sum() * x0.shape[1] * x0.shape[3] * x0.shape[4]).clamp(min=1.0), feats


def validate(pipe: VideoPipeline, prompts, pool, steps: int, guidance: float, frames: int = 16, seed0: int = 0) -> dict:
    reqs = [ClipRequest(c, seed0 + i, guidance) for i, (_, c) in enumerate(prompts)]
    return evaluate(prompts, pipe(reqs, frames, 128, 128, steps), pool)


def train_video_dit(vae: Vae, tok: WordTokenizer, val, device: torch.device, run: VideoDitRun, seed: int,
                    workers: int, pool, log: Log, image: Path | None = None, resumed: dict | None = None):
    """(EMA text encoder, EMA transformer, their pipeline); image: the image model's folder to
    start from (from_image.py), or None for random weights; resumed: a checkpoint
    (runs.load_checkpoint) whose text encoder and transformer go on training."""
    torch.manual_seed(seed)
    te = TextEncoder(TextEncoderConfig(vocab_size=len(tok.vocab), max_length=tok.max_length,
                                       num_layers=run.te_layers))
    dit = VideoMMDiT(VideoMMDiTConfig(in_channels=vae.cfg.latent_channels, out_channels=vae.cfg.latent_channels,
                                      hidden_size=run.hidden_size, depth=run.depth, num_heads=run.num_heads,
                                      ada_rank=run.ada_rank, joint_attention_dim=te.cfg.hidden_size,
                                      pooled_projection_dim=te.cfg.hidden_size,
                                      text_attention_dim=run.text_attention_dim, frame_text=run.frame_text))
    if resumed is not None:
        te.load_state_dict(resumed["text_encoder"])
        dit.load_state_dict(resumed["transformer"])
    elif image is not None:
        init_text_encoder(te, tok.vocab, image)
        init_transformer(dit, image)
        log.event("from_image", folder=image.name, checked_against_graphs=CHECKED)
    te, dit = te.to(device), dit.to(device)
    head = LayoutHead(dit.cfg.hidden_size).to(device) if run.aux_weight > 0 else None
    tap = run.aux_tap if head is not None else -1
    token_px = vae.cfg.downsample_factor * dit.cfg.patch_size
    params = [*te.parameters(), *dit.parameters(), *(head.parameters() if head else ())]
    log.event("params", text_encoder=sum(p.numel() for p in te.parameters()),
              transformer=sum(p.numel() for p in dit.parameters()),
              vae_decoder=sum(p.numel() for p in vae.decoder.parameters()),
              vae_encoder=sum(p.numel() for p in vae.encoder.parameters()))
    cuda = device.type == "cuda"
    opt = torch.optim.AdamW(param_groups(params, [(text_params(te, dit), run.text_lr_scale),
                                                    (new_params(dit), run.new_lr_scale)]), lr=run.lr,
                            betas=(0.9, 0.99), weight_decay=0.01, fused=cuda)
    ema_te, ema_dit = copy.deepcopy(te).eval(), copy.deepcopy(dit).eval()
    pipe = VideoPipeline(ema_te, ema_dit, vae, tok, run.shift)
    # A token budget per batch: run.batch_size default clips' worth (frames x size buckets differ).
    weights = {**FRAME_WEIGHTS, **{f: run.window_weight for f in WINDOW_FRAMES}} if run.window_weight else FRAME_WEIGHTS
    budget = run.batch_size * tokens_per_clip(16, 128, 128)
    it = clip_batches(run.batch_size, seed + 2, workers, frame_weights=weights, tokens_per_batch=budget)
    # Windows only, for the curriculum's first part (its workers idle once their queue is full).
    windows = (clip_batches(run.batch_size, seed + 3, max(1, workers // 2), tokens_per_batch=budget,
                            frame_weights={f: 1.0 for f in WINDOW_FRAMES})
               if run.appearance_frac > 0 else None)
    t_start = time.time()

    def next_batch():
        early = (time.time() - t_start) < run.appearance_frac * run.seconds
        return unpack_clips(next(windows if windows is not None and early else it), device)

    mode = run.mode if cuda else "eager"
    encoder = copy.deepcopy(vae.encoder).to(torch.bfloat16).eval() if cuda else vae.encoder

    def encode(arrays, size, frames):
        video = render_clip_arrays(arrays, size[0], size[1], frames)  # [B, F, 3, H, W]
        b = video.shape[0]
        flat = video.reshape(b * frames, *video.shape[2:])
        mean, _ = encoder(flat.to(torch.bfloat16) if cuda else flat)
        z = (mean.float() - vae.cfg.shift_factor) * vae.cfg.scaling_factor
        seg = clip_token_targets(arrays, size[0], size[1], frames, dit.cfg.temporal_patch, token_px)
        return z.reshape(b, frames, *z.shape[1:]).permute(0, 2, 1, 3, 4).contiguous(), seg

    def loss_fn(x0: torch.Tensor, seg: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """[total, flow, aux]: the total is what backward() sees, the parts are logged."""
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda, cache_enabled=False):
            hidden, pooled = te(ids)
            mask = cond_mask(x0.shape[0], x0.shape[2], run, x0.device)
            flow, feats = masked_flow_loss(dit.forward_features, x0, hidden, pooled, mask, run.t_shift, tap)
            aux = head.loss(feats, seg) if head is not None else flow.new_zeros(())
            return torch.stack([flow + run.aux_weight * aux, flow, aux])

    # One memory pool for every capture (graphs.py): a capture per (frames, size) bucket each with
    # its own pool ran out of the H200's memory.
    mempool = torch.cuda.graph_pool_handle() if mode == "graph" else None
    graphed_loss = GraphedLoss(loss_fn, params, pool=mempool) if mode == "graph" else None
    graphed_encode: dict[tuple, GraphedFn] = {}

    def train_step(arrays, ids, size, frames, fresh: bool):
        nonlocal mode, encoded, graphed_loss
        if mode != "graph":
            if fresh:
                with torch.no_grad():
                    encoded = encode(arrays, size, frames)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(*encoded, ids)
            loss[0].backward()
            return loss
        try:
            if fresh:
                key = (size, frames)
                if key not in graphed_encode:
                    graphed_encode[key] = GraphedFn(lambda *a: encode(a, size, frames), pool=mempool)
                encoded = graphed_encode[key](*arrays)
            return graphed_loss(*encoded, ids)
        except Exception as exc:  # a capture failure must not cost the run: fall back to eager
            log.event("graph_failed", error=str(exc).splitlines()[0][:300])
            torch.cuda.synchronize()
            mode, graphed_loss = "eager", None
            graphed_encode.clear()  # their memory pool, for the eager steps
            torch.cuda.empty_cache()
            return train_step(arrays, ids, size, frames, True)

    encoded = None
    train_loop(run, opt, params, (te, dit), (ema_te, ema_dit), next_batch, train_step,
               lambda: validate(pipe, val, pool, run.steps, run.guidance), log)
    return ema_te, ema_dit, pipe

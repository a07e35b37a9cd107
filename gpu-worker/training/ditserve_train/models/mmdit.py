"""MMDiT (SD3): separate text and image streams with joint attention and adaLN-Zero modulation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class MMDiTConfig:
    in_channels: int = 8
    out_channels: int = 8
    patch_size: int = 2
    hidden_size: int = 128
    depth: int = 6
    num_heads: int = 4
    mlp_ratio: float = 3.0
    joint_attention_dim: int = 128
    pooled_projection_dim: int = 128
    num_train_timesteps: int = 1000
    # Rank of each block's adaLN projection (0: a full d x 6d linear, as SD3). A full projection
    # holds 37% of a block's parameters but is applied once per sample, not per token: a rank-r
    # factorisation keeps per-block modulation from timestep + pooled text and frees those
    # parameters (and shipped bytes) for width, which is what the tokens pay for.
    ada_rank: int = 0

    def to_json(self) -> dict:
        return {"_class_name": "MMDiT", **asdict(self)}


# SD3-medium's transformer shapes (random weights): the production-scale benchmark config.
SD3_MEDIUM = MMDiTConfig(in_channels=16, out_channels=16, patch_size=2, hidden_size=1536, depth=24,
                         num_heads=24, mlp_ratio=4.0, joint_attention_dim=4096, pooled_projection_dim=2048)


def sincos_2d(h, w, dim: int, device: torch.device) -> torch.Tensor:
    """2D sin-cos positions [h*w, dim] for any grid, centred so that the image centre is 0."""
    quarter = dim // 4
    omega = 1.0 / (10000 ** (torch.arange(quarter, device=device, dtype=torch.float32) / quarter))
    ys = torch.arange(h, device=device, dtype=torch.float32)
    xs = torch.arange(w, device=device, dtype=torch.float32)
    ys = ys - ys.mean()
    xs = xs - xs.mean()
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    ay = gy.reshape(-1, 1) * omega[None]
    ax = gx.reshape(-1, 1) * omega[None]
    return torch.cat([ay.sin(), ay.cos(), ax.sin(), ax.cos()], dim=1)


def timestep_embedding(t: torch.Tensor, dim: int = 256) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.cos(), args.sin()], dim=-1)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.is_cuda and not torch.onnx.is_in_onnx_export():
            # Training on CUDA: the fused kernel in the activations' dtype (the same formula; the
            # unfused fp32 version below cost ~10% of a training step). Eval and export use it.
            return F.rms_norm(x, (x.shape[-1],), self.weight.to(x.dtype), self.eps)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Stream(nn.Module):
    """One modality's half of a joint block: modulation, qkv with QK-RMSNorm, output and MLP."""

    def __init__(self, d: int, heads: int, mlp_ratio: float, pre_only: bool, ada_rank: int = 0):
        super().__init__()
        self.heads, self.pre_only = heads, pre_only
        out = (2 if pre_only else 6) * d
        self.ada = nn.Linear(d, out) if ada_rank <= 0 else nn.Sequential(nn.Linear(d, ada_rank), nn.Linear(ada_rank, out))
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(d, 3 * d)
        self.q_norm, self.k_norm = RMSNorm(d // heads), RMSNorm(d // heads)
        if not pre_only:
            self.proj = nn.Linear(d, d)
            self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
            hidden = int(d * mlp_ratio)
            self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))

    def pre(self, x: torch.Tensor, c: torch.Tensor):
        mods = self.ada(F.silu(c)).chunk(2 if self.pre_only else 6, dim=-1)
        b, n, d = x.shape
        q, k, v = self.qkv(modulate(self.norm1(x), mods[0], mods[1])).view(b, n, 3, self.heads, d // self.heads).unbind(2)
        return self.q_norm(q), self.k_norm(k), v, mods

    def post(self, x: torch.Tensor, attn: torch.Tensor, mods) -> torch.Tensor:
        _, _, gate_msa, shift_mlp, scale_mlp, gate_mlp = mods
        x = x + gate_msa[:, None] * self.proj(attn)
        return x + gate_mlp[:, None] * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))


class JointBlock(nn.Module):
    def __init__(self, d: int, heads: int, mlp_ratio: float, context_pre_only: bool, ada_rank: int = 0):
        super().__init__()
        self.context = Stream(d, heads, mlp_ratio, pre_only=context_pre_only, ada_rank=ada_rank)
        self.image = Stream(d, heads, mlp_ratio, pre_only=False, ada_rank=ada_rank)

    def forward(self, ctx: torch.Tensor, x: torch.Tensor, c: torch.Tensor):
        qc, kc, vc, mc = self.context.pre(ctx, c)
        qx, kx, vx, mx = self.image.pre(x, c)
        q, k, v = (torch.cat(p, dim=1).transpose(1, 2) for p in ((qc, qx), (kc, kx), (vc, vx)))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        n_ctx = ctx.shape[1]
        a_ctx, a_x = a[:, :n_ctx], a[:, n_ctx:]
        x = self.image.post(x, a_x, mx)
        ctx = ctx if self.context.pre_only else self.context.post(ctx, a_ctx, mc)
        return ctx, x


class JointTransformer(nn.Module):
    """What every MMDiT here has, whatever its tokens: the timestep, pooled-text and context
    embeddings, the joint blocks and the final adaLN layer, adaLN-Zero initialised. A subclass
    sets its patch embedding first, then calls _build(): the attributes (state_dict keys, ONNX
    names) and the order of their random initialisation are the image MMDiT's."""

    def _build(self, cfg, out_per_token: int) -> None:
        d = cfg.hidden_size
        self.t_embed = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.pooled_embed = nn.Sequential(nn.Linear(cfg.pooled_projection_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.context_embed = nn.Linear(cfg.joint_attention_dim, d)
        self.blocks = nn.ModuleList(
            JointBlock(d, cfg.num_heads, cfg.mlp_ratio, context_pre_only=(i == cfg.depth - 1), ada_rank=cfg.ada_rank)
            for i in range(cfg.depth)
        )
        self.final_ada = nn.Linear(d, 2 * d)
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final = nn.Linear(d, out_per_token)
        self._zero_init()

    def _zero_init(self) -> None:
        # adaLN-Zero: every residual branch and the output start at zero.
        for blk in self.blocks:
            for s in (blk.context, blk.image):
                last = s.ada if isinstance(s.ada, nn.Linear) else s.ada[-1]  # zero the output side only
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)
        for m in (self.final_ada, self.final):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def _after_block(self, i: int, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        """The tokens x after block i, given the text tokens ctx that block read (a subclass adds here)."""
        return x

    def _joint(self, x: torch.Tensor, timestep, encoder_hidden_states, pooled_projections, tap: int):
        """(per-token outputs [B, N, out_per_token], tokens [B, N, D] after `tap` blocks or None)
        of the embedded, positioned tokens x [B, N, D]."""
        c = self.t_embed(timestep_embedding(timestep).to(x.dtype)) + self.pooled_embed(pooled_projections)
        ctx = self.context_embed(encoder_hidden_states)
        feats = None
        for i, blk in enumerate(self.blocks):
            ctx_in = ctx
            ctx, x = blk(ctx, x, c)
            x = self._after_block(i, x, ctx_in)
            if i + 1 == tap:
                feats = x
        shift, scale = self.final_ada(F.silu(c)).chunk(2, dim=-1)
        return self.final(modulate(self.final_norm(x), shift, scale)), feats


class MMDiT(JointTransformer):
    """(hidden_states [B,C,h,w], timestep [B] in 0..1000, text [B,L,Dt], pooled [B,Dp]) -> velocity."""

    def __init__(self, cfg: MMDiTConfig):
        super().__init__()
        self.cfg = cfg
        d, p = cfg.hidden_size, cfg.patch_size
        self.patch = nn.Conv2d(cfg.in_channels, d, p, stride=p)
        self._build(cfg, p * p * cfg.out_channels)

    def forward(self, hidden_states, timestep, encoder_hidden_states, pooled_projections):
        return self.forward_features(hidden_states, timestep, encoder_hidden_states, pooled_projections)[0]

    def forward_features(self, hidden_states, timestep, encoder_hidden_states, pooled_projections, tap: int = -1):
        """(velocity, image tokens [B, N, D] after `tap` blocks, or None): training taps the
        tokens for an auxiliary loss (layout_loss.py); the exported graph is forward()."""
        cfg, p = self.cfg, self.cfg.patch_size
        b, _, h, w = hidden_states.shape
        gh, gw = h // p, w // p
        # Patchify = the stride-p convolution as one matmul over (C, py, px) patches (same weights
        # and result; cuDNN's small strided convolutions are slow, in the backward pass above all).
        c_in = hidden_states.shape[1]
        patches = hidden_states.reshape(b, c_in, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5).reshape(b, gh * gw, c_in * p * p)
        x = F.linear(patches, self.patch.weight.reshape(self.patch.weight.shape[0], -1), self.patch.bias)  # [B, gh*gw, D]
        pos = sincos_2d(gh, gw, cfg.hidden_size, x.device)
        x = x + pos.to(x.dtype)[None]
        x, feats = self._joint(x, timestep, encoder_hidden_states, pooled_projections, tap)  # [B, gh*gw, p*p*C]
        x = x.view(b, gh, gw, p, p, cfg.out_channels).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, cfg.out_channels, gh * p, gw * p), feats

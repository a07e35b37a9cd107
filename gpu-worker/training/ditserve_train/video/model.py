"""VideoMMDiT: the image MMDiT's joint blocks over spacetime patches of a per-frame latent video.

A clip's latent [C, F, h, w] is cut into patches of `temporal_patch` frames x `patch_size`^2 latent
pixels; each patch is one token, placed by the image model's 2-D sin-cos positions in its frame
plus a learned projection of its frame's sin-cos position, so any (frames, height, width) grid
runs. Conditioning frames (image-to-video, extension) enter as extra input channels: their clean
latents and a mask channel, concatenated to the noisy latent before patchifying.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..models.mmdit import JointTransformer, sincos_2d
from .text_attention import FrameText, TextAttention

TIME_CHANNELS = 64  # sin-cos channels of a frame's position


@dataclass
class VideoMMDiTConfig:
    in_channels: int = 16
    out_channels: int = 16
    patch_size: int = 2
    temporal_patch: int = 2
    hidden_size: int = 256
    depth: int = 6
    num_heads: int = 4
    mlp_ratio: float = 3.0
    joint_attention_dim: int = 256
    pooled_projection_dim: int = 256
    num_train_timesteps: int = 1000
    ada_rank: int = 64
    # text_attention.py: each block's own attention to the text (its width; 0: none, runs 1-5)
    # and the per-frame embedding of pooled text and time.
    text_attention_dim: int = 0
    frame_text: bool = False

    @property
    def cond_channels(self) -> int:
        """Input channels per latent pixel: noisy latent + clean conditioning latent + mask."""
        return 2 * self.in_channels + 1

    def to_json(self) -> dict:
        return {"_class_name": "VideoMMDiT", **asdict(self)}


def sincos_time(f, dim: int, device: torch.device) -> torch.Tensor:
    """sin-cos of centred frame positions 0..f-1 over dim channels (dim even) -> [f, dim]."""
    half = dim // 2
    omega = 1.0 / (10000 ** (torch.arange(half, device=device, dtype=torch.float32) / half))
    pos = torch.arange(f, device=device, dtype=torch.float32)
    a = (pos - pos.mean())[:, None] * omega[None]
    return torch.cat([a.sin(), a.cos()], dim=1)


class VideoMMDiT(JointTransformer):
    """(hidden_states [B,C,F,h,w], timestep [B] 0..1000, text [B,L,Dt], pooled [B,Dp],
    cond_latents [B,C,F,h,w], cond_mask [B,F]) -> velocity [B,C,F,h,w]."""

    def __init__(self, cfg: VideoMMDiTConfig):
        super().__init__()
        self.cfg = cfg
        d, p, pt = cfg.hidden_size, cfg.patch_size, cfg.temporal_patch
        self.patch = nn.Linear(cfg.cond_channels * pt * p * p, d)
        self._build(cfg, pt * p * p * cfg.out_channels)
        # Positions: the image model's 2-D sin-cos in every frame, plus a learned projection of
        # the frame's sin-cos, zero at the start, so a video model that starts from an image model
        # (from_image.py) sees each frame's tokens where the image model saw them.
        self.time_pos = nn.Linear(TIME_CHANNELS, d)
        nn.init.zeros_(self.time_pos.weight)
        nn.init.zeros_(self.time_pos.bias)
        self.text_attn = (nn.ModuleList(TextAttention(d, cfg.text_attention_dim, cfg.num_heads) for _ in range(cfg.depth))
                          if cfg.text_attention_dim else None)
        self.frame_text = FrameText(cfg.pooled_projection_dim, TIME_CHANNELS, d) if cfg.frame_text else None

    def _after_block(self, i: int, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        return self.text_attn[i](x, ctx) if self.text_attn is not None else x

    def forward(self, hidden_states, timestep, encoder_hidden_states, pooled_projections, cond_latents, cond_mask):
        return self.forward_features(hidden_states, timestep, encoder_hidden_states, pooled_projections,
                                     cond_latents, cond_mask)[0]

    def forward_features(self, hidden_states, timestep, encoder_hidden_states, pooled_projections, cond_latents,
                         cond_mask, tap: int = -1):
        cfg, p, pt = self.cfg, self.cfg.patch_size, self.cfg.temporal_patch
        b, c, f, h, w = hidden_states.shape
        gf, gh, gw = f // pt, h // p, w // p
        mask = cond_mask.to(hidden_states.dtype)[:, None, :, None, None].expand(b, 1, f, h, w)
        x = torch.cat([hidden_states, cond_latents.to(hidden_states.dtype), mask], dim=1)
        ci = x.shape[1]
        x = x.reshape(b, ci, gf, pt, gh, p, gw, p).permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(b, gf * gh * gw, ci * pt * p * p)
        x = self.patch(x)
        space = sincos_2d(gh, gw, cfg.hidden_size, x.device).to(x.dtype)
        frame_pos = sincos_time(gf, TIME_CHANNELS, x.device).to(x.dtype)
        per_frame = self.time_pos(frame_pos)[None]  # [1 or B, gf, D]
        if self.frame_text is not None:
            per_frame = per_frame + self.frame_text(pooled_projections.to(x.dtype), frame_pos)
        x = x + (space[None, None] + per_frame[:, :, None]).reshape(-1, gf * gh * gw, cfg.hidden_size)
        x, feats = self._joint(x, timestep, encoder_hidden_states, pooled_projections, tap)  # [B, N, pt*p*p*C]
        x = x.view(b, gf, gh, gw, cfg.out_channels, pt, p, p).permute(0, 4, 1, 5, 2, 6, 3, 7)
        return x.reshape(b, cfg.out_channels, f, h, w), feats


def given_frame_velocity(v: torch.Tensor, hidden_states: torch.Tensor, timestep: torch.Tensor,
                         cond_latents: torch.Tensor, cond_mask: torch.Tensor) -> torch.Tensor:
    """v with the exact rectified-flow velocity towards the given frames where cond_mask is 1:
    (x - cond) / sigma, so that any Euler-style sampler lands on the given latents at sigma 0 and
    the sampler needs no special case (the exported graph ends with this)."""
    m = cond_mask.to(v.dtype)[:, None, :, None, None]
    sigma = (timestep.to(v.dtype) / 1000.0).clamp(min=1e-4)[:, None, None, None, None]
    return v * (1 - m) + (hidden_states - cond_latents) / sigma * m

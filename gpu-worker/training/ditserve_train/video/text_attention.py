"""What a video model adds to the image model's way of reading text: in each block, the clip's
tokens attend to the text on their own (TextAttention), and each frame gets an embedding of the
pooled text and its place in the clip (FrameText). Both start at zero, so a video model started
from the image model (from_image.py) starts as that model.

Why: a video model started from the image model hardly read the direction words (runs 3-4 of
VIDEO_EXPERIMENTS.md). Its joint attention had learned the image vocabulary, and a token it never
attended to gets a tiny share of the softmax, and so of the gradient. A new attention has no such
history: it reads every text token from the first step, as gated cross-attention adds a modality
to a trained model. And which way an object moves is a property of the whole clip that differs
from frame to frame; FrameText carries exactly that: text x time, added to the tokens of each frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.mmdit import RMSNorm


class TextAttention(nn.Module):
    """x [B, N, D] + attention(x -> ctx [B, L, D]) through its own projections (width `width`)."""

    def __init__(self, d: int, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.q, self.kv, self.out = nn.Linear(d, width), nn.Linear(d, 2 * width), nn.Linear(width, d)
        self.q_norm, self.k_norm = RMSNorm(width // heads), RMSNorm(width // heads)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q = self.q_norm(self.q(self.norm(x)).view(b, n, self.heads, -1)).transpose(1, 2)
        k, v = self.kv(ctx).view(b, ctx.shape[1], 2, self.heads, -1).unbind(2)
        a = F.scaled_dot_product_attention(q, self.k_norm(k).transpose(1, 2), v.transpose(1, 2))
        return x + self.out(a.transpose(1, 2).reshape(b, n, -1))


class FrameText(nn.Module):
    """(pooled text [B, Dp], frame positions [F, T]) -> an embedding per clip and frame [B, F, D]."""

    def __init__(self, pooled_dim: int, time_dim: int, d: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(pooled_dim + time_dim, d), nn.SiLU(), nn.Linear(d, d))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, pooled: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        b, f = pooled.shape[0], time.shape[0]
        both = torch.cat([pooled[:, None].expand(b, f, pooled.shape[1]), time[None].expand(b, f, time.shape[1])], -1)
        return self.mlp(both)

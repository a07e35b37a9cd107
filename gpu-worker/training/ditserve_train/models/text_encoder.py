"""A small transformer text encoder trained jointly with the DiT (CLIP-like outputs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TextEncoderConfig:
    vocab_size: int = 128
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    max_length: int = 32
    pad_token_id: int = 0

    def to_json(self) -> dict:
        return {"_class_name": "TextEncoder", **asdict(self)}


class EncoderLayer(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    """input_ids [B, L] -> (last_hidden_state [B, L, D], pooled_output [B, D]); PAD is masked."""

    def __init__(self, cfg: TextEncoderConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden_size
        self.tok = nn.Embedding(cfg.vocab_size, d)
        self.pos = nn.Parameter(torch.randn(cfg.max_length, d) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(d, cfg.num_heads) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(d)
        self.pool = nn.Linear(d, d)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep = (input_ids != self.cfg.pad_token_id).to(self.pos.dtype)  # [B, L]
        # A finite bias (not -inf) keeps softmax defined for every row, in fp16 too.
        bias = ((1.0 - keep) * -1.0e4)[:, None, None, :]
        x = self.tok(input_ids) + self.pos[: input_ids.shape[1]]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.ln(x)
        pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)
        return x, self.pool(pooled)

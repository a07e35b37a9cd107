"""An auxiliary training loss: the image tokens say which shape, color and object each one shows.

Trained on the flow loss alone, the model drew the right number of objects far more often than
the right shapes: the flow loss teaches shape only through a few pixels on an outline. Our data
knows every token's ground truth, so a small head reads the image tokens after an early block and
predicts, per token, the share of its pixels covered by each shape, each color and each object of
the caption (background a class of each group), with a soft cross-entropy. The target plays the
part of REPA's pretrained features (Yu et al. 2024, aligning early DiT tokens with an encoder's):
it shapes the early representation directly. The head is used in training only; nothing of it is
exported. EXPERIMENTS.md (runs 15-17) records what it changed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import vocab as V
from .data import ARRAY_KEYS
from .layout import MAX_OBJECTS
from .render import coverage

N_SHAPES, N_COLORS = len(V.SHAPES) + 1, len(V.COLORS) + 1  # + background
N_SLOTS = MAX_OBJECTS + 1  # which object of the caption (layout._canonical's order), + background
GROUP_NAMES = ("shape", "color", "object")
GROUPS = ((0, N_SHAPES), (N_SHAPES, N_SHAPES + N_COLORS), (N_SHAPES + N_COLORS, N_SHAPES + N_COLORS + N_SLOTS))


def token_targets(arrays: tuple[torch.Tensor, ...], width: int, height: int, token_px: int) -> torch.Tensor:
    """Soft per-token class shares [B, N, classes] in three groups (GROUPS): shape, color, and
    which object of the caption (the first named, the second, ...; copies of a counted object
    left to right), each with the background as its last class; tokens in row-major order as
    the transformer's."""
    t = dict(zip(ARRAY_KEYS, arrays))
    geom, present = t["geom"], t["present"]
    radius = torch.where(present > 0, geom[..., 2], torch.ones_like(geom[..., 2]))
    alpha = coverage(t["shape"], geom[..., 0], geom[..., 1], radius, height, width) * present[..., None, None]
    share = F.avg_pool2d(alpha, token_px).flatten(2).transpose(1, 2)  # [B, N, K]: objects never overlap
    shapes, colors = _one_hot(t["shape"], N_SHAPES - 1), _one_hot(t["color"], N_COLORS - 1)  # [B, K, classes]
    bg = (1 - share.sum(-1, keepdim=True)).clamp(min=0.0)
    return torch.cat([share @ shapes, bg, share @ colors, bg, share, bg], dim=-1)


def _one_hot(idx: torch.Tensor, n: int) -> torch.Tensor:
    # A comparison, not F.one_hot: it must not read values back to the host (CUDA graph capture,
    # graphs.py), and no tensor may be copied from the host inside it either.
    return (idx[..., None] == torch.arange(n, device=idx.device)).float()


class LayoutHead(nn.Module):
    """Image tokens [B, N, D] -> class logits [B, N, classes] (a small MLP, as
    REPA's projector, so the tokens need not hold the classes linearly)."""

    def __init__(self, d: int):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.SiLU(), nn.Linear(d, GROUPS[-1][1]))

    def loss(self, tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits = self.net(tokens).float()
        total = tokens.new_zeros((), dtype=torch.float32)
        for lo, hi in GROUPS:
            logp = F.log_softmax(logits[..., lo:hi], dim=-1)
            total = total - (targets[..., lo:hi] * logp).sum(-1).mean()
        return total

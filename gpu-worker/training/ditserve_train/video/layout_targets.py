"""The image model's layout loss (layout_loss.py) for spacetime tokens: each token's targets are
those of the first frame of its temporal patch. Run 1 of the video model, on the flow loss alone,
drew blobs of the right colors in the right places (EXPERIMENTS.md): the loss that taught the
image model shape identity is what it lacked."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..layout import MAX_OBJECTS
from ..layout_loss import token_targets


def _pad_objects(x: torch.Tensor, k: int) -> torch.Tensor:
    """Pads the object axis (dim 1) from the clip's k objects to the image layout's MAX_OBJECTS."""
    extra = MAX_OBJECTS - k
    if extra <= 0:
        return x
    return F.pad(x, [0, 0] * (x.dim() - 2) + [0, extra])


def clip_token_targets(arrays: tuple[torch.Tensor, ...], width: int, height: int, frames: int,
                       temporal_patch: int, token_px: int) -> torch.Tensor:
    """[B, (F/tp)*(H/px)*(W/px), classes] in the transformer's token order (frame, row, column)."""
    shape, rgb, geom, present, bg, color = arrays
    b, k = shape.shape
    g = frames // temporal_patch

    def per_patch(x: torch.Tensor) -> torch.Tensor:  # [B, ...] the same in every temporal patch
        return x.unsqueeze(1).expand(b, g, *x.shape[1:]).reshape(b * g, *x.shape[1:])

    def first_frames(x: torch.Tensor) -> torch.Tensor:  # [B, F, ...] -> [B*g, ...]
        return x[:, ::temporal_patch].reshape(b * g, *x.shape[2:])

    flat = (_pad_objects(per_patch(shape), k), _pad_objects(first_frames(rgb), k), _pad_objects(first_frames(geom), k),
            _pad_objects(per_patch(present), k), per_patch(bg), _pad_objects(first_frames(color), k))
    seg = token_targets(flat, width, height, token_px)
    return seg.reshape(b, g * seg.shape[1], seg.shape[2])

"""On-the-fly training clips: CPU workers sample clips and captions, the GPU renders them (data.py's
design: only small arrays and token ids leave the workers; pixels never leave the GPU).

Each batch is one bucket, (frames, size), so a training step can be captured once per bucket.
"""

from __future__ import annotations

import random
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset

from .. import vocab as V
from ..data import ARRAY_KEYS, BUCKET_WEIGHTS, endless, unpack, worker_rng
from ..flow import to_uint8
from ..layout import LayoutError
from ..render import render
from . import motions as M
from .clips import ClipSpec, caption, sample_train
from .tokenizer import video_tokenizer
from .trajectory import layout_clip, to_clip_arrays

# Frame counts drawn per batch: 16 (the default length) ~43%, each other even count 8..24 ~7%.
FRAME_WEIGHTS = {f: (6 if f == M.DEFAULT_FRAMES else 1) for f in M.FRAME_COUNTS}
# Short windows of a default-length clip (frames at a random offset of its 16): what a shape looks
# like costs a 2-frame window 64 tokens instead of a whole clip's 512, so they teach appearance at
# 8x the clips per step (joint image + video training, as video models are trained).
WINDOW_FRAMES = (2, 4)


def tokens_per_clip(frames: int, width: int, height: int, temporal_patch: int = 2, token_px: int = 16) -> int:
    """Transformer tokens of one clip: spacetime patches of temporal_patch frames x token_px^2 pixels."""
    return max(1, frames // temporal_patch) * (height // token_px) * (width // token_px)

class ClipBatches(IterableDataset):
    def __init__(self, batch_size: int, seed: int, caption_dropout: float = 0.1, buckets=V.SIZES_PX,
                 frame_weights: dict[int, float] | None = None, tokens_per_batch: int | None = None):
        super().__init__()
        self.batch_size, self.seed, self.dropout, self.buckets = batch_size, seed, caption_dropout, buckets
        self.frame_weights = frame_weights or FRAME_WEIGHTS
        # With a token budget, each bucket's batch holds as many clips as fit it (batch_size ignored).
        self.tokens_per_batch = tokens_per_batch

    def _size_of(self, frames: int, w: int, h: int) -> int:
        if self.tokens_per_batch is None:
            return self.batch_size
        return max(1, self.tokens_per_batch // tokens_per_clip(frames, w, h))

    def __iter__(self) -> Iterator[dict]:
        rng = worker_rng(self.seed)
        tok = video_tokenizer()
        weights = BUCKET_WEIGHTS[: len(self.buckets)]
        counts, fweights = list(self.frame_weights), list(self.frame_weights.values())
        while True:
            w, h = rng.choices(self.buckets, weights)[0]
            frames = rng.choices(counts, fweights)[0]
            clips, texts = [], []
            n = self._size_of(frames, w, h)
            times = None
            if frames in WINDOW_FRAMES:
                start = rng.randrange(M.DEFAULT_FRAMES - frames + 1)
                times = (start + np.arange(frames)) / (M.DEFAULT_FRAMES - 1)
            while len(clips) < n:
                spec = sample_train(rng)
                try:
                    clips.append(layout_clip(spec, w, h, rng))
                except LayoutError:
                    continue
                texts.append("" if rng.random() < self.dropout else caption(spec, rng))
            yield {"arrays": to_clip_arrays(clips, frames, times), "ids": tok.batch(texts), "size": (w, h), "frames": frames}


def clip_batches(batch_size: int, seed: int, workers: int, caption_dropout: float = 0.1, **kw) -> Iterator[dict]:
    """Endless batches: {"arrays": to_clip_arrays() output, "ids": [B,L], "size": (w, h), "frames": F}."""
    return endless(ClipBatches(batch_size, seed, caption_dropout, **kw), workers)


def unpack_clips(batch: dict, device: torch.device) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, tuple[int, int], int]:
    """(layout arrays in ARRAY_KEYS order, input_ids [B,L], (width, height), frames), on the device."""
    arrays, ids, size = unpack(batch, device)
    return arrays, ids, size, int(batch["frames"])


def render_clip_arrays(arrays: tuple[torch.Tensor, ...], width: int, height: int, frames: int) -> torch.Tensor:
    """Clips [B,F,3,H,W] in [-1,1] from unpack_clips()'s arrays (graph-safe: no host transfers,
    shapes fixed by the bucket): the image renderer over B*F frames."""
    shape, rgb, geom, present, bg, color = arrays
    b, k = shape.shape

    def per_frame(x: torch.Tensor) -> torch.Tensor:  # [B, ...] -> [B*F, ...], the same in every frame
        return x.unsqueeze(1).expand(b, frames, *x.shape[1:]).reshape(b * frames, *x.shape[1:])

    flat = {"shape": per_frame(shape), "rgb": rgb.reshape(b * frames, k, 3), "geom": geom.reshape(b * frames, k, 3),
            "present": per_frame(present), "bg": per_frame(bg), "color": color.reshape(b * frames, k)}
    return render(flat, height, width, shape.device).reshape(b, frames, 3, height, width)


def render_clip(spec: ClipSpec, frames: int, width: int, height: int, seed: int) -> np.ndarray:
    """The ground truth of one spec: uint8 [F, H, W, 3], laid out as the data generator would."""
    return render_clips([spec], frames, width, height, seed)[0]


def render_clips(specs: list[ClipSpec], frames: int, width: int, height: int, seed: int = 0) -> list[np.ndarray]:
    """Ground-truth clips of several specs (uint8 [F, H, W, 3] each), drawn from one seed."""
    rng = random.Random(seed)
    arrays = to_clip_arrays([layout_clip(s, width, height, rng) for s in specs], frames)
    t = tuple(torch.as_tensor(arrays[k]) for k in ARRAY_KEYS)
    video = render_clip_arrays(t, width, height, frames)
    return list(to_uint8(video.flatten(0, 1)).reshape(len(specs), frames, height, width, 3))

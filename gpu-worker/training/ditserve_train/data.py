"""On-the-fly training batches: CPU workers sample scenes and captions, the GPU renders them.

Workers only produce small arrays (layouts and token ids); pixels never leave the GPU.
"""

from __future__ import annotations

import random
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from . import vocab as V
from .layout import LayoutError, layout, to_arrays
from .render import render
from .scenes import caption, sample_train
from .tokenizer import WordTokenizer

# Aspect buckets are drawn per batch: square 60% (the default size, and the cheapest step),
# landscape and portrait 20% each.
BUCKET_WEIGHTS = (3, 1, 1)


class SceneBatches(IterableDataset):
    def __init__(self, batch_size: int, seed: int, caption_dropout: float = 0.1, buckets=V.SIZES_PX):
        super().__init__()
        self.batch_size, self.seed, self.dropout, self.buckets = batch_size, seed, caption_dropout, buckets

    def __iter__(self) -> Iterator[dict]:
        rng = worker_rng(self.seed)
        tok = WordTokenizer()
        weights = BUCKET_WEIGHTS[: len(self.buckets)]
        while True:
            w, h = rng.choices(self.buckets, weights)[0]
            scenes, texts = [], []
            while len(scenes) < self.batch_size:
                spec = sample_train(rng)
                try:
                    scenes.append(layout(spec, w, h, rng))
                except LayoutError:
                    continue
                texts.append("" if rng.random() < self.dropout else caption(spec, rng))
            yield {"arrays": to_arrays(scenes), "ids": tok.batch(texts), "size": (w, h)}


def worker_rng(seed: int) -> random.Random:
    """This data worker's own stream (worker 0 in the main process): workers never repeat a batch."""
    info = get_worker_info()
    return random.Random(seed * 1000 + (info.id if info else 0))


def endless(ds: IterableDataset, workers: int) -> Iterator[dict]:
    """The dataset's already-batched items, produced by `workers` CPU processes (0: in this one)."""
    loader = DataLoader(ds, batch_size=None, num_workers=workers, prefetch_factor=4 if workers else None,
                        persistent_workers=bool(workers))
    return iter(loader)


def batches(batch_size: int, seed: int, workers: int, **kw) -> Iterator[dict]:
    return endless(SceneBatches(batch_size, seed, **kw), workers)


ARRAY_KEYS = ("shape", "rgb", "geom", "present", "bg", "color")


def unpack(batch: dict, device: torch.device) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, tuple[int, int]]:
    """(layout arrays in ARRAY_KEYS order, input_ids [B,L], (width, height)), on the device."""
    w, h = (int(v) for v in batch["size"])
    arrays = tuple(torch.as_tensor(np.asarray(batch["arrays"][k])).to(device, non_blocking=True) for k in ARRAY_KEYS)
    ids = torch.as_tensor(np.asarray(batch["ids"])).to(device, non_blocking=True)
    return arrays, ids, (w, h)


def render_arrays(arrays: tuple[torch.Tensor, ...], width: int, height: int) -> torch.Tensor:
    """Images [B,3,H,W] in [-1,1] from unpack()'s arrays (graph-safe: no host transfers)."""
    return render(dict(zip(ARRAY_KEYS, arrays)), height, width, arrays[0].device)


def to_device(batch: dict, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(images [B,3,H,W] in [-1,1], input_ids [B,L]) on the device."""
    w, h = (int(v) for v in batch["size"])
    arrays = {k: np.asarray(v) for k, v in batch["arrays"].items()}
    images = render(arrays, h, w, device)
    ids = torch.as_tensor(np.asarray(batch["ids"]), device=device)
    return images, ids

"""ShapesEval's detector: color segmentation + shape geometry, fully deterministic.

1. The background is the median color of the image's border, named by the nearest background.
2. Each pixel takes the nearest color of (object palette + that background) if it is close enough.
3. Per object color: connected components that survive a 3x3 opening are objects (fringes don't).
4. Each component's shape is the template (the renderer's own signed distance, fitted to the
   component's bounding box) with the highest IoU; a poor best fit is an unknown shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from scipy import ndimage

from . import vocab as V
from .render import coverage

MIN_AREA = 30  # px; a small star at 128 px covers ~100
MAX_COLOR_DIST = 75.0
MIN_IOU = 0.5
_OBJ_NAMES = list(V.COLORS)
_OBJ_RGB = np.array([V.COLORS[c] for c in _OBJ_NAMES], np.float32)


@dataclass
class Found:
    shape: str  # "unknown" when no template fits
    color: str
    cx: float  # pixels, centre of the circumscribed circle
    cy: float
    radius: float
    iou: float


@dataclass
class Detection:
    background: str
    objects: list[Found]
    width: int
    height: int


@lru_cache(maxsize=None)
def _extents(shape: str) -> tuple[float, float, float, float]:
    """Normalised bounding box (xmin, xmax, ymin, ymax) of a shape, in radius units."""
    n = 801
    cov = coverage(torch.tensor(V.SHAPES.index(shape)), torch.tensor(n / 2), torch.tensor(n / 2),
                   torch.tensor(n / 2 - 1), n, n).numpy() >= 0.5
    ys, xs = np.nonzero(cov)
    r = n / 2 - 1
    return ((xs.min() - n / 2) / r, (xs.max() + 1 - n / 2) / r, (ys.min() - n / 2) / r, (ys.max() + 1 - n / 2) / r)


def _fit(mask: np.ndarray, box: tuple[slice, slice]) -> tuple[str, float, float, float, float]:
    # Templates are drawn only in a window around the component (it lies inside its box).
    h, w = mask.shape
    y0, y1, x0, x1 = box[0].start, box[0].stop, box[1].start, box[1].stop
    wy0, wy1, wx0, wx1 = max(y0 - 3, 0), min(y1 + 3, h), max(x0 - 3, 0), min(x1 + 3, w)
    window = mask[wy0:wy1, wx0:wx1]
    best = ("unknown", 0.0, 0.0, 0.0, 0.0)
    for s in V.SHAPES:
        ex0, ex1, ey0, ey1 = _extents(s)
        r = ((x1 - x0) / (ex1 - ex0) + (y1 - y0) / (ey1 - ey0)) / 2
        cx = (x0 + x1) / 2 - (ex0 + ex1) / 2 * r
        cy = (y0 + y1) / 2 - (ey0 + ey1) / 2 * r
        tmpl = coverage(torch.tensor(V.SHAPES.index(s)), torch.tensor(cx - wx0), torch.tensor(cy - wy0),
                        torch.tensor(max(r, 1.0)), wy1 - wy0, wx1 - wx0).numpy() >= 0.5
        inter = np.logical_and(tmpl, window).sum()
        iou = inter / max(np.logical_or(tmpl, window).sum(), 1)
        if iou > best[1]:
            best = (s, float(iou), float(cx), float(cy), float(r))
    return best if best[1] >= MIN_IOU else ("unknown", *best[1:])


def init_worker() -> None:
    """For detector processes: one thread each, or torch's pools oversubscribe the CPU."""
    torch.set_num_threads(1)


def detect(img: np.ndarray) -> Detection:
    """img: uint8 [H, W, 3]."""
    h, w, _ = img.shape
    px = img.astype(np.float32)
    border = np.concatenate([px[:2].reshape(-1, 3), px[-2:].reshape(-1, 3), px[:, :2].reshape(-1, 3), px[:, -2:].reshape(-1, 3)])
    bg_rgb = np.median(border, axis=0)
    bg_names = list(V.BACKGROUNDS)
    bg_d = [np.linalg.norm(bg_rgb - np.array(V.BACKGROUNDS[n], np.float32)) for n in bg_names]
    background = bg_names[int(np.argmin(bg_d))] if min(bg_d) < MAX_COLOR_DIST else "unknown"

    palette = np.concatenate([_OBJ_RGB, bg_rgb[None]])
    dist = np.linalg.norm(px[:, :, None, :] - palette[None, None], axis=-1)  # [H, W, 9]
    label = np.where(dist.min(-1) < MAX_COLOR_DIST, dist.argmin(-1), -1)

    found: list[Found] = []
    for ci, cname in enumerate(_OBJ_NAMES):
        mask = label == ci
        if mask.sum() < MIN_AREA:
            continue
        # Seeds survive a 3x3 opening (anti-aliased fringes don't); an object is the whole
        # component of the unopened mask around a seed, so thin star tips are kept.
        seeds = ndimage.binary_opening(mask, structure=np.ones((3, 3), bool))
        comps, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
        for k in np.unique(comps[seeds]):
            comp = comps == k
            if k == 0 or comp.sum() < MIN_AREA:
                continue
            box = ndimage.find_objects(comp.astype(np.int32))[0]
            shape, iou, cx, cy, r = _fit(comp, box)
            found.append(Found(shape, cname, cx, cy, r, iou))
    return Detection(background, found, w, h)

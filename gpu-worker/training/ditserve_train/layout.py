"""Lays out a SceneSpec on a canvas: resolves what the caption left open and places objects."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from . import vocab as V
from .scenes import SceneSpec

MAX_OBJECTS = 3
GAP_PX = 4  # minimum gap between two objects' circumscribed circles
ORDER_GAP_PX = 4  # reading order: each object's centre at least this far right of the previous one


@dataclass
class Placed:
    shape: str
    color: str
    radius: float
    cx: float
    cy: float


class LayoutError(Exception):
    pass


def _fit_range(r: float, extent: int) -> tuple[float, float]:
    return r + 2, extent - r - 2


def _place_absolute(position: str, r: float, w: int, h: int, rng: random.Random) -> tuple[float, float]:
    col, row = V.POSITIONS[position]
    x0, x1 = _fit_range(r, w)
    y0, y1 = _fit_range(r, h)
    cx = ((col + 0.5) / 3 + rng.uniform(-0.06, 0.06)) * w
    cy = ((row + 0.5) / 3 + rng.uniform(-0.06, 0.06)) * h
    return min(max(cx, x0), x1), min(max(cy, y0), y1)


def _relation_holds(rel: str, a: Placed, b: Placed, w: int, h: int) -> bool:
    sx, sy = V.RELATIONS[rel]
    dx, dy = (a.cx - b.cx) / w, (a.cy - b.cy) / h
    if sx:
        return dx * sx >= 0.25 and abs(dy) <= 0.15
    return dy * sy >= 0.25 and abs(dx) <= 0.15


def _reading_order(spec: SceneSpec) -> bool:
    """Whether a scene's objects go left to right in caption order: several single objects
    with no relation and no absolute placement ("a star and a cross")."""
    return (spec.relation is None and len(spec.objects) > 1
            and all(o.count == 1 and o.position is None for o in spec.objects))


def layout(spec: SceneSpec, w: int, h: int, rng: random.Random) -> tuple[list[Placed], str]:
    """Concrete objects and background for a spec; raises LayoutError if nothing fits.

    Objects a caption names without placing them are drawn in reading order, the first named
    leftmost. With random placement the model had to break the symmetry between two blobs on
    its own, and they often resolved to the same shape or swapped colors; a convention ties
    each object to its place in the caption."""
    unit = min(w, h)
    ordered = _reading_order(spec)
    for _ in range(5):  # redraw what the caption left open when it cannot be placed
        placed = []
        for o in spec.objects:
            for _ in range(o.count):
                size = o.size or rng.choice(list(V.SIZES))
                color = o.color or rng.choice(list(V.COLORS))
                placed.append(Placed(o.shape, color, V.SIZES[size] * unit, 0.0, 0.0))
        fixed = [o.position for o in spec.objects for _ in range(o.count)]
        for _ in range(200):
            for p, pos in zip(placed, fixed):
                if pos:
                    p.cx, p.cy = _place_absolute(pos, p.radius, w, h, rng)
                else:
                    x0, x1 = _fit_range(p.radius, w)
                    y0, y1 = _fit_range(p.radius, h)
                    p.cx, p.cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            apart = all(
                np.hypot(a.cx - b.cx, a.cy - b.cy) >= a.radius + b.radius + GAP_PX
                for i, a in enumerate(placed) for b in placed[i + 1:]
            )
            in_order = not ordered or all(a.cx + ORDER_GAP_PX <= b.cx for a, b in zip(placed, placed[1:]))
            if apart and in_order and (spec.relation is None or _relation_holds(spec.relation, placed[0], placed[1], w, h)):
                return _canonical(placed, spec), spec.background or V.DEFAULT_BACKGROUND
    raise LayoutError(f"cannot lay out {spec.key()} on {w}x{h}")


def _canonical(placed: list[Placed], spec: SceneSpec) -> list[Placed]:
    """Objects in caption order, the copies of a counted object left to right: the slot order is
    what the layout loss's instance classes name (layout_loss.py), so it must be predictable
    from the caption (drawing does not depend on it: objects never overlap)."""
    out, i = [], 0
    for o in spec.objects:
        out.extend(sorted(placed[i : i + o.count], key=lambda p: p.cx))
        i += o.count
    return out


def to_arrays(scenes: list[tuple[list[Placed], str]]) -> dict[str, np.ndarray]:
    """Packs laid-out scenes into fixed-size arrays for the batched renderer."""
    b = len(scenes)
    shape = np.zeros((b, MAX_OBJECTS), np.int64)
    color = np.zeros((b, MAX_OBJECTS), np.int64)  # index in vocab.COLORS (the layout loss's classes)
    rgb = np.zeros((b, MAX_OBJECTS, 3), np.float32)
    geom = np.zeros((b, MAX_OBJECTS, 3), np.float32)  # cx, cy, radius
    present = np.zeros((b, MAX_OBJECTS), np.float32)
    bg = np.zeros((b, 3), np.float32)
    for i, (objs, background) in enumerate(scenes):
        bg[i] = V.BACKGROUNDS[background]
        for k, p in enumerate(objs):
            shape[i, k] = V.SHAPES.index(p.shape)
            rgb[i, k] = V.COLORS[p.color]
            color[i, k] = list(V.COLORS).index(p.color)
            geom[i, k] = (p.cx, p.cy, p.radius)
            present[i, k] = 1
    return {"shape": shape, "rgb": rgb, "geom": geom, "present": present, "bg": bg, "color": color}

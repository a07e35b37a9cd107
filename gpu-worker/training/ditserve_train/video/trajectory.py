"""Lays out a ClipSpec over time: where each object starts and ends, at constant velocity between.

A trajectory does not depend on the clip's length: frame i of F shows it at t = i / (F - 1), so the
same spec renders at any frame count (motions.py says why speeds are extents over the clip).
Objects stay inside the frame and at least layout.GAP_PX apart at every moment, as in the image
layouts, so the detector can always tell them apart.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from .. import vocab as V
from ..layout import GAP_PX, LayoutError, _fit_range, _place_absolute
from . import motions as M
from .clips import ClipObject, ClipSpec, Motion

MAX_OBJECTS = 2
_CHECK_TIMES = np.linspace(0.0, 1.0, 65)  # finer than any frame spacing (at most 24 frames)


@dataclass
class Track:
    """One object's path: linear in t in [0, 1] from start to end; the color switches at t_switch."""
    shape: str
    color: str
    end_color: str
    cx0: float
    cy0: float
    r0: float
    cx1: float
    cy1: float
    r1: float
    t_switch: float = 2.0  # never, unless the object changes color

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (self.cx0 + (self.cx1 - self.cx0) * t, self.cy0 + (self.cy1 - self.cy0) * t,
                self.r0 + (self.r1 - self.r0) * t)


def _random_motion(rng: random.Random) -> Motion:
    """What a caption that names no motion gets: a move in any direction at any speed, or none."""
    if rng.random() < 0.25:
        return Motion("still")
    return Motion("move", direction=rng.choice(list(M.DIRECTIONS)), speed=rng.choice((None, *M.SPEED_WORDS)))


def _inside(x: float, y: float, r: float, w: int, h: int) -> bool:
    x0, x1 = _fit_range(r, w)
    y0, y1 = _fit_range(r, h)
    return x0 <= x <= x1 and y0 <= y <= y1


def _place(o: ClipObject, motion: Motion, w: int, h: int, rng: random.Random) -> Track:
    unit = min(w, h)
    color = o.color or rng.choice(list(V.COLORS))
    if motion.kind in ("grow", "shrink"):
        small, large = (V.SIZES[s] * unit for s in M.GROW_SIZES)
        r0, r1 = (small, large) if motion.kind == "grow" else (large, small)
    else:
        r0 = r1 = V.SIZES[o.size or rng.choice(list(V.SIZES))] * unit
    rmax = max(r0, r1)
    (x0, x1), (y0, y1) = _fit_range(rmax, w), _fit_range(rmax, h)
    if motion.kind == "move":
        dx, dy = M.DIRECTIONS[motion.direction]
        extent = M.SPEEDS[motion.speed or "normal"] * (w if dx else h)
        lo, hi = (x0, x1) if dx else (y0, y1)
        if hi - lo < extent:
            raise LayoutError(f"{o.key()} does not fit {w}x{h}")
        s = rng.uniform(lo, hi - extent) if (dx or dy) > 0 else rng.uniform(lo + extent, hi)
        if dx:
            cy = rng.uniform(y0, y1)
            return Track(o.shape, color, color, s, cy, r0, s + dx * extent, cy, r1)
        cx = rng.uniform(x0, x1)
        return Track(o.shape, color, color, cx, s, r0, cx, s + dy * extent, r1)
    if motion.kind == "path":
        (ax, ay), (bx, by) = (_place_absolute(p, rmax, w, h, rng) for p in (motion.start, motion.end))
        return Track(o.shape, color, color, ax, ay, r0, bx, by, r1)
    if motion.start:
        cx, cy = _place_absolute(motion.start, rmax, w, h, rng)
    else:
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
    if motion.kind == "turn":
        return Track(o.shape, color, motion.color, cx, cy, r0, cx, cy, r1, rng.uniform(*M.TURN_SPAN))
    return Track(o.shape, color, color, cx, cy, r0, cx, cy, r1)


def _group(spec: ClipSpec, w: int, h: int, rng: random.Random) -> list[Track] | None:
    """Two objects on one line through a common midpoint, their distance changing by GROUP_EXTENT."""
    unit = min(w, h)
    tracks = [_place(o, Motion("still"), w, h, rng) for o in spec.objects]
    a, b = tracks
    near = a.r0 + b.r0 + GAP_PX + M.GROUP_NEAR_GAP * unit
    far = near + M.GROUP_EXTENT * unit
    d0, d1 = (near, far) if spec.group == "apart" else (far, near)
    for _ in range(300):
        theta = rng.uniform(0, math.pi)
        ux, uy = math.cos(theta), math.sin(theta)
        mx, my = rng.uniform(0, w), rng.uniform(0, h)
        a.cx0, a.cy0, b.cx0, b.cy0 = mx - ux * d0 / 2, my - uy * d0 / 2, mx + ux * d0 / 2, my + uy * d0 / 2
        a.cx1, a.cy1, b.cx1, b.cy1 = mx - ux * d1 / 2, my - uy * d1 / 2, mx + ux * d1 / 2, my + uy * d1 / 2
        if all(_inside(x, y, t.r0, w, h) for t in tracks for x, y in ((t.cx0, t.cy0), (t.cx1, t.cy1))):
            return tracks
    return None


def _apart(a: Track, b: Track) -> bool:
    ax, ay, ar = a.at(_CHECK_TIMES)
    bx, by, br = b.at(_CHECK_TIMES)
    return bool(np.all(np.hypot(ax - bx, ay - by) >= ar + br + GAP_PX))


def layout_clip(spec: ClipSpec, w: int, h: int, rng: random.Random) -> tuple[list[Track], str]:
    """Concrete tracks (in caption order) and background for a spec; raises LayoutError if nothing fits."""
    for _ in range(5):  # redraw what the caption left open when it cannot be placed
        if spec.group:
            tracks = _group(spec, w, h, rng)
            if tracks is not None:
                return tracks, spec.background or V.DEFAULT_BACKGROUND
            continue
        motions = [o.motion or _random_motion(rng) for o in spec.objects]
        for _ in range(200):
            try:
                tracks = [_place(o, m, w, h, rng) for o, m in zip(spec.objects, motions)]
            except LayoutError:
                break
            if all(_apart(a, b) for i, a in enumerate(tracks) for b in tracks[i + 1:]):
                return tracks, spec.background or V.DEFAULT_BACKGROUND
    raise LayoutError(f"cannot lay out {spec.key()} on {w}x{h}")


def frame_times(frames: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, frames)


def to_clip_arrays(clips: list[tuple[list[Track], str]], frames: int, times: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Packs laid-out clips into fixed-size arrays for the batched renderer (clip_data.ARRAY_KEYS):
    shape [B,K] (vocab.SHAPES index), rgb [B,F,K,3], geom [B,F,K,3] (cx, cy, radius in pixels),
    present [B,K], bg [B,3] (0..255) and color [B,F,K] (vocab.COLORS index), K = MAX_OBJECTS."""
    # times: where in the clip (0..1) each frame is; default the whole clip (frame_times). Training
    # also draws short windows of a clip (clip_data.WINDOW_FRAMES).
    b, k, t = len(clips), MAX_OBJECTS, frame_times(frames) if times is None else times
    colors = list(V.COLORS)
    shape = np.zeros((b, k), np.int64)
    color = np.zeros((b, frames, k), np.int64)
    rgb = np.zeros((b, frames, k, 3), np.float32)
    geom = np.zeros((b, frames, k, 3), np.float32)
    present = np.zeros((b, k), np.float32)
    bg = np.zeros((b, 3), np.float32)
    for i, (tracks, background) in enumerate(clips):
        bg[i] = V.BACKGROUNDS[background]
        for j, tr in enumerate(tracks):
            shape[i, j] = V.SHAPES.index(tr.shape)
            present[i, j] = 1
            geom[i, :, j] = np.stack(tr.at(t), axis=-1)
            switched = t >= tr.t_switch
            idx = np.where(switched, colors.index(tr.end_color), colors.index(tr.color))
            color[i, :, j] = idx
            rgb[i, :, j] = np.array([V.COLORS[c] for c in colors], np.float32)[idx]
    return {"shape": shape, "rgb": rgb, "geom": geom, "present": present, "bg": bg, "color": color}

"""MotionEval: clips scored by the image detector, frame by frame, and its tracks over time.

A clip passes when all three hold:
- objects: in EVERY frame exactly the prompt's objects (no extra, none unknown) with the right
  shapes, colors (a color change: the first color at the start, the second at the end, one of
  the two between), sizes and the named background;
- motion: the first-to-last-frame change of each object's track says what the prompt says:
  direction and speed class of a move (motions.SPEEDS, nearest extent), the start and end
  places of a path, a small displacement for standing still, the radius ratio for growing and
  shrinking, the distance change for two objects moving apart or together;
- consistency: one track per object through every frame (nothing vanishes or appears), each
  keeping its shape and color (a color change switches once), with no step far larger than the
  clip's average one.
A category's score is its pass rate; overall is their mean. "direction" is the share of clips
whose motion is right, "consistency" the share temporally consistent, "objects" the share with
the right objects throughout (over all clips).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from .. import vocab as V
from ..detector import Detection, Found
from ..shapes_eval import _cell
from . import motions as M
from .clips import CATEGORIES, ClipObject, ClipSpec
from .tracker import detect_clip, link

ACROSS_MAX = 0.08  # a move may stray this far (of the frame) off its axis
MIN_MOVE = 0.1  # of the frame along the axis: less is no move at all
STILL_MAX = 0.06  # of min(width, height): an object standing still moves less than this
GROW_RATIO = 1.4  # the radius grows (or shrinks) at least by this factor; the clips double it
STEADY_RATIO = 1.25  # otherwise the radius stays within this factor
GROUP_MIN = 0.12  # of min(width, height): the distance change of two objects moving apart/together
JUMP_FACTOR, JUMP_TOL = 2.0, 0.05  # a step may be 2x the mean step + 0.05 of min(width, height)
RADIUS_STEP = 1.35  # the radius changes less than this factor from one frame to the next
_SIZE_NAMES = list(V.SIZES)
_SIZE_EDGES = np.array([(a + b) / 2 for a, b in zip(list(V.SIZES.values()), list(V.SIZES.values())[1:])])


def _size_of(f: Found, det: Detection) -> str:
    return _SIZE_NAMES[int(np.searchsorted(_SIZE_EDGES, f.radius / min(det.width, det.height)))]


def _colors_allowed(o: ClipObject, i: int, frames: int) -> set[str] | None:
    """The colors object o may show in frame i (None: any)."""
    m = o.motion
    if m is not None and m.kind == "turn":
        return {o.color} if i == 0 else {m.color} if i == frames - 1 else {o.color, m.color}
    return {o.color} if o.color else None


def _frame_ok(spec: ClipSpec, det: Detection, i: int, frames: int) -> bool:
    if spec.background and det.background != spec.background:
        return False
    wanted = spec.objects
    if len(det.objects) != len(wanted) or any(f.shape == "unknown" for f in det.objects):
        return False
    for perm in permutations(det.objects):
        if all(f.shape == o.shape
               and ((allowed := _colors_allowed(o, i, frames)) is None or f.color in allowed)
               and (o.size is None or _size_of(f, det) == o.size)
               for o, f in zip(wanted, perm)):
            return True
    return False


def objects_ok(spec: ClipSpec, dets: list[Detection]) -> bool:
    return all(_frame_ok(spec, d, i, len(dets)) for i, d in enumerate(dets))


def _full_tracks(spec: ClipSpec, dets: list[Detection]) -> list[dict[int, Found]] | None:
    """One track per object spanning every frame, or None."""
    tracks = link(dets)
    if len(tracks) != len(spec.objects) or any(len(t) != len(dets) for t in tracks):
        return None
    return tracks


def _changes(values: list[str]) -> int:
    return sum(a != b for a, b in zip(values, values[1:]))


def consistency_ok(spec: ClipSpec, dets: list[Detection]) -> bool:
    tracks = _full_tracks(spec, dets)
    if tracks is None:
        return False
    unit = min(dets[0].width, dets[0].height)
    color_changes = 1 if any(o.motion is not None and o.motion.kind == "turn" for o in spec.objects) else 0
    n = len(dets)
    for t in tracks:
        fs = [t[i] for i in range(n)]
        if fs[0].shape == "unknown" or _changes([f.shape for f in fs]) or _changes([f.color for f in fs]) > color_changes:
            return False
        xy = np.array([(f.cx, f.cy) for f in fs])
        steps = np.hypot(*np.diff(xy, axis=0).T)
        mean = np.hypot(*(xy[-1] - xy[0])) / (n - 1)
        if steps.max(initial=0.0) > JUMP_FACTOR * mean + JUMP_TOL * unit:
            return False
        r = np.array([f.radius for f in fs])
        ratio = r[1:] / np.maximum(r[:-1], 1e-6)
        if ratio.size and (ratio.max() > RADIUS_STEP or ratio.min() < 1 / RADIUS_STEP):
            return False
    return True


def _in_cell(f: Found, det: Detection, position: str | None) -> bool:
    return position is None or _cell(f, det) == V.POSITIONS[position]


def _object_moves_right(o: ClipObject, t: dict[int, Found], dets: list[Detection]) -> bool:
    m, a, b = o.motion, t[0], t[len(dets) - 1]
    if m is None:
        return True
    det = dets[0]
    unit = min(det.width, det.height)
    shift = np.hypot(b.cx - a.cx, b.cy - a.cy) / unit
    ratio = b.radius / max(a.radius, 1e-6)
    if m.kind == "move":
        sx, sy = M.DIRECTIONS[m.direction]
        dx, dy = (b.cx - a.cx) / det.width, (b.cy - a.cy) / det.height
        along, across = (dx * sx, abs(dy)) if sx else (dy * sy, abs(dx))
        nearest = min(M.SPEEDS, key=lambda s: abs(M.SPEEDS[s] - along))
        return along >= MIN_MOVE and across <= ACROSS_MAX and nearest == (m.speed or "normal")
    if m.kind == "path":
        return _in_cell(a, det, m.start) and _in_cell(b, det, m.end)
    if m.kind in ("grow", "shrink"):
        return shift <= 2 * STILL_MAX and (ratio >= GROW_RATIO if m.kind == "grow" else ratio <= 1 / GROW_RATIO)
    steady = shift <= STILL_MAX and 1 / STEADY_RATIO <= ratio <= STEADY_RATIO
    placed = _in_cell(a, det, m.start) and _in_cell(b, det, m.start)
    if m.kind == "turn":
        return steady and placed and a.color == o.color and b.color == m.color
    return steady and placed  # still


def _identifies(o: ClipObject, t: dict[int, Found]) -> bool:
    return t[0].shape == o.shape and (o.color is None or t[0].color == o.color)


def motion_ok(spec: ClipSpec, dets: list[Detection]) -> bool:
    tracks = _full_tracks(spec, dets)
    if tracks is None:
        return False
    last = len(dets) - 1
    unit = min(dets[0].width, dets[0].height)
    for perm in permutations(tracks):
        if not all(_identifies(o, t) for o, t in zip(spec.objects, perm)):
            continue
        if spec.group:
            a, b = perm
            d0 = np.hypot(a[0].cx - b[0].cx, a[0].cy - b[0].cy) / unit
            d1 = np.hypot(a[last].cx - b[last].cx, a[last].cy - b[last].cy) / unit
            if (d1 - d0 if spec.group == "apart" else d0 - d1) >= GROUP_MIN:
                return True
        elif all(_object_moves_right(o, t, dets) for o, t in zip(spec.objects, perm)):
            return True
    return False


def score_detections(spec: ClipSpec, dets: list[Detection]) -> dict[str, bool]:
    out = {"objects": objects_ok(spec, dets), "motion": motion_ok(spec, dets), "consistency": consistency_ok(spec, dets)}
    out["passed"] = all(out.values())
    return out


def detect_all(clips: list[np.ndarray], pool=None) -> list[list[Detection]]:
    """Per clip, the detections of every frame; `pool` (a process pool with .map) spreads them."""
    return list(pool.map(detect_clip, clips, chunksize=2)) if pool else [detect_clip(c) for c in clips]


def score_clips(prompts: list[tuple[ClipSpec, str]], clips: list[np.ndarray], pool=None) -> list[dict[str, bool]]:
    """Per clip: {"objects", "motion", "consistency", "passed"}; clips[i] (uint8 [F,H,W,3]) belongs to prompts[i]."""
    return [score_detections(spec, dets) for (spec, _), dets in zip(prompts, detect_all(clips, pool))]


def table_of(prompts: list[tuple[ClipSpec, str]], scores: list[dict[str, bool]]) -> dict[str, float]:
    passed: dict[str, list[bool]] = {c: [] for c in CATEGORIES}
    for (spec, _), s in zip(prompts, scores):
        passed[spec.category].append(s["passed"])
    table = {c: float(np.mean(v)) for c, v in passed.items() if v}
    table["overall"] = float(np.mean([table[c] for c in CATEGORIES if c in table]))
    for key, part in (("direction", "motion"), ("consistency", "consistency"), ("objects", "objects")):
        table[key] = float(np.mean([s[part] for s in scores]))
    return table


def evaluate(prompts: list[tuple[ClipSpec, str]], clips: list[np.ndarray], pool=None) -> dict[str, float]:
    """Per-category pass rates, 'overall' (their mean), and the shares 'direction', 'consistency'
    and 'objects' over all clips. score_clips() + table_of() give the per-clip booleans too."""
    return table_of(prompts, score_clips(prompts, clips, pool))


SUMMARY = ("overall", "direction", "consistency", "objects")


def format_table(table: dict[str, float], counts: dict[str, int] | None = None) -> str:
    rows = ["| category | score |" + (" clips |" if counts else ""), "| --- | --- |" + (" --- |" if counts else "")]
    for c in [*CATEGORIES, *SUMMARY]:
        if c in table:
            extra = f" {counts.get(c, '')} |" if counts else ""
            rows.append(f"| {c} | {table[c]:.3f} |{extra}")
    return "\n".join(rows)

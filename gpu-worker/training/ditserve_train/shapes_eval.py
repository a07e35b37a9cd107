"""ShapesEval: GenEval's categories scored by the analytic detector on held-out prompts.

An image passes when the detector finds exactly the prompt's objects (no extra, none unknown),
with the right shapes, counts and colors, the named background, and the absolute or relative
positions the prompt states. A category's score is its pass rate; overall is their mean.
"""

from __future__ import annotations

from itertools import permutations
import numpy as np

from . import vocab as V
from .detector import Detection, Found, detect
from .scenes import CATEGORIES, ObjectSpec, SceneSpec

MIN_OFFSET = 0.08  # fraction of the image a relative position must at least move


def _cell(f: Found, det: Detection) -> tuple[int, int]:
    fx, fy = f.cx / det.width, f.cy / det.height
    return (0 if fx < 1 / 3 else 2 if fx > 2 / 3 else 1, 0 if fy < 1 / 3 else 2 if fy > 2 / 3 else 1)


def _relation_holds(rel: str, a: Found, b: Found, det: Detection) -> bool:
    sx, sy = V.RELATIONS[rel]
    dx, dy = (a.cx - b.cx) / det.width, (a.cy - b.cy) / det.height
    primary, secondary = (dx * sx, dy) if sx else (dy * sy, dx)
    return primary >= MIN_OFFSET and primary > abs(secondary)


def _matches(o: ObjectSpec, f: Found, det: Detection, colors: bool = True, positions: bool = True) -> bool:
    return (f.shape == o.shape and (not colors or o.color is None or f.color == o.color)
            and (not positions or o.position is None or _cell(f, det) == V.POSITIONS[o.position]))


def score(spec: SceneSpec, det: Detection, colors: bool = True, positions: bool = True) -> bool:
    """Whether det shows spec. colors/positions=False relax those checks (diagnostics only)."""
    if spec.background and det.background != spec.background:
        return False
    wanted: list[tuple[int, ObjectSpec]] = [(i, o) for i, o in enumerate(spec.objects) for _ in range(o.count)]
    if len(det.objects) != len(wanted) or any(f.shape == "unknown" for f in det.objects):
        return False
    for perm in permutations(det.objects):
        if not all(_matches(o, f, det, colors, positions) for (_, o), f in zip(wanted, perm)):
            continue
        if spec.relation is None or not positions:
            return True
        a = next(f for (i, _), f in zip(wanted, perm) if i == 0)
        b = next(f for (i, _), f in zip(wanted, perm) if i == 1)
        if _relation_holds(spec.relation, a, b, det):
            return True
    return False


def evaluate(prompts: list[tuple[SceneSpec, str]], images: list[np.ndarray], pool=None) -> dict[str, float]:
    """Per-category pass rates and their mean ('overall'); images[i] belongs to prompts[i].

    `pool` (a process pool with .map) spreads the detector over CPU cores.
    """
    return table_of(prompts, detect_all(images, pool))


def detect_all(images: list[np.ndarray], pool=None) -> list[Detection]:
    return list(pool.map(detect, images, chunksize=8)) if pool else [detect(img) for img in images]


def table_of(prompts: list[tuple[SceneSpec, str]], detections: list[Detection], **relax) -> dict[str, float]:
    passed: dict[str, list[bool]] = {c: [] for c in CATEGORIES}
    for (spec, _), det in zip(prompts, detections):
        passed[spec.category].append(score(spec, det, **relax))
    table = {c: float(np.mean(v)) for c, v in passed.items() if v}
    table["overall"] = float(np.mean([table[c] for c in CATEGORIES if c in table]))
    return table


def diagnose(prompts: list[tuple[SceneSpec, str]], detections: list[Detection]) -> dict[str, dict[str, float]]:
    """Where failures come from (not a score): the pass rates with colors and/or positions not
    checked, the share of images with the right number of objects, and of unknown shapes."""
    out = {"strict": table_of(prompts, detections),
           "no_positions": table_of(prompts, detections, positions=False),
           "no_colors": table_of(prompts, detections, colors=False),
           "shapes_only": table_of(prompts, detections, colors=False, positions=False)}
    n_ok: dict[str, list[bool]] = {c: [] for c in CATEGORIES}
    unknown: dict[str, list[bool]] = {c: [] for c in CATEGORIES}
    for (spec, _), det in zip(prompts, detections):
        n_ok[spec.category].append(len(det.objects) == sum(o.count for o in spec.objects))
        unknown[spec.category].append(any(f.shape == "unknown" for f in det.objects))
    out["object_count_right"] = {c: float(np.mean(v)) for c, v in n_ok.items() if v}
    out["has_unknown_shape"] = {c: float(np.mean(v)) for c, v in unknown.items() if v}
    return out


def format_table(table: dict[str, float], counts: dict[str, int] | None = None) -> str:
    rows = ["| category | score |" + (" images |" if counts else ""), "| --- | --- |" + (" --- |" if counts else "")]
    for c in [*CATEGORIES, "overall"]:
        if c in table:
            extra = f" {counts.get(c, '')} |" if counts else ""
            rows.append(f"| {c} | {table[c]:.3f} |{extra}")
    return "\n".join(rows)

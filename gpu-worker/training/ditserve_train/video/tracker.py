"""Links the image detector's per-frame objects into tracks, deterministically.

Frame to frame, each track (extrapolated at its last velocity) is matched to the detections by an
optimal assignment on distance, a shape change costing extra; a detection that no track can reach
within LINK_MAX starts a new track, and a track left unmatched ends. A clean clip thus gives one
track per object spanning every frame; a vanishing, duplicated or teleporting object does not.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..detector import Detection, Found, detect

LINK_MAX = 0.3  # of min(width, height): beyond any plausible step at 8+ frames (paths move < 0.2)
SHAPE_COST = 0.15  # of min(width, height): prefer the same shape when two tracks compete


def detect_clip(frames: np.ndarray) -> list[Detection]:
    """The detector on every frame of a uint8 [F, H, W, 3] clip (a pool's unit of work)."""
    return [detect(f) for f in frames]


def link(detections: list[Detection]) -> list[dict[int, Found]]:
    """Tracks, each a {frame index: detection} in order of first appearance."""
    if not detections:
        return []
    unit = min(detections[0].width, detections[0].height)
    tracks: list[dict[int, Found]] = [{0: f} for f in detections[0].objects]
    for i, det in enumerate(detections[1:], start=1):
        live = [t for t in tracks if i - 1 in t]
        cost = np.full((len(live), len(det.objects)), np.inf)
        for a, t in enumerate(live):
            last = t[i - 1]
            px, py = last.cx, last.cy
            if i - 2 in t:  # constant velocity
                px, py = 2 * last.cx - t[i - 2].cx, 2 * last.cy - t[i - 2].cy
            for b, f in enumerate(det.objects):
                d = np.hypot(f.cx - px, f.cy - py) / unit
                if d <= LINK_MAX:
                    cost[a, b] = d + (SHAPE_COST if f.shape != last.shape else 0.0)
        taken: set[int] = set()
        if live and det.objects:
            rows, cols = linear_sum_assignment(np.where(np.isinf(cost), 1e6, cost))
            for a, b in zip(rows, cols):
                if np.isfinite(cost[a, b]):
                    live[a][i] = det.objects[b]
                    taken.add(int(b))
        tracks.extend({i: f} for b, f in enumerate(det.objects) if b not in taken)
    return tracks

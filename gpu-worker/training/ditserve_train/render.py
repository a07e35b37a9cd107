"""Batched, anti-aliased rendering of laid-out scenes on the GPU (or CPU), in torch.

Every shape is a signed distance in units of its radius (the radius of its circumscribed circle),
so one function draws any shape at any place and scale; the detector reuses it as its template.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .vocab import SHAPES

_STAR_IN = 0.5  # inner radius of the five-pointed star


def _star(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Fold the angle into one half-spike [0, 36deg] measured from a tip (tip points up).
    theta = torch.atan2(x, -y)  # 0 at the top, clockwise
    seg = 2 * math.pi / 5
    phi = torch.remainder(theta, seg)
    phi = torch.minimum(phi, seg - phi)
    rho = torch.sqrt(x * x + y * y)
    qx, qy = rho * torch.cos(phi), rho * torch.sin(phi)
    tx, ty = 1.0, 0.0
    ix, iy = _STAR_IN * math.cos(seg / 2), _STAR_IN * math.sin(seg / 2)
    ex, ey = ix - tx, iy - ty
    n = math.hypot(ex, ey)
    nx, ny = ey / n, -ex / n  # normal of the tip->inner edge, pointing away from the centre
    if nx * (0 - tx) + ny * (0 - ty) > 0:
        nx, ny = -nx, -ny
    return nx * (qx - tx) + ny * (qy - ty)


def _triangle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Equilateral, pointing up, circumradius 1: three half-planes at distance 0.5 from the centre.
    d = y - 0.5
    for ang in (math.radians(-30), math.radians(210)):
        d = torch.maximum(d, x * math.cos(ang) + y * math.sin(ang) - 0.5)
    return d


def signed_distance(shape_idx: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Distance (radius units, negative inside) of points (x, y) to each shape; shape_idx broadcasts."""
    r = torch.sqrt(x * x + y * y)
    cands = {
        "circle": r - 1.0,
        "square": torch.maximum(x.abs(), y.abs()) - 0.72,
        "triangle": _triangle(x, y),
        "star": _star(x, y),
        "ring": (r - 0.74).abs() - 0.26,
        "cross": torch.minimum(torch.maximum(x.abs() - 0.92, y.abs() - 0.32),
                               torch.maximum(x.abs() - 0.32, y.abs() - 0.92)),
    }
    stacked = torch.stack([cands[s] for s in SHAPES], dim=0)
    idx = shape_idx.expand_as(stacked[0]).unsqueeze(0)
    return torch.gather(stacked, 0, idx).squeeze(0)


def coverage(shape_idx: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor, radius: torch.Tensor,
             height: int, width: int) -> torch.Tensor:
    """Anti-aliased coverage in [0, 1], [..., H, W], for shapes with leading batch dims."""
    dev = cx.device
    ys = torch.arange(height, device=dev, dtype=torch.float32) + 0.5
    xs = torch.arange(width, device=dev, dtype=torch.float32) + 0.5
    r = radius[..., None, None]
    x = (xs[None, :] - cx[..., None, None]) / r
    y = (ys[:, None] - cy[..., None, None]) / r
    d = signed_distance(shape_idx[..., None, None], x, y) * r  # in pixels
    return (0.5 - d).clamp(0.0, 1.0)


def render(arrays: dict[str, np.ndarray], height: int, width: int, device: torch.device) -> torch.Tensor:
    """Images [B, 3, H, W] in [-1, 1] from layout.to_arrays() output."""
    t = {k: torch.as_tensor(v, device=device) for k, v in arrays.items()}
    geom = t["geom"]
    radius = torch.where(t["present"] > 0, geom[..., 2], torch.ones_like(geom[..., 2]))
    alpha = coverage(t["shape"], geom[..., 0], geom[..., 1], radius, height, width)  # [B, K, H, W]
    alpha = alpha * t["present"][..., None, None]
    img = t["bg"][:, :, None, None].expand(-1, -1, height, width).clone()
    for k in range(alpha.shape[1]):
        a = alpha[:, k : k + 1]
        img = img * (1 - a) + t["rgb"][:, k, :, None, None] * a
    return img / 127.5 - 1.0

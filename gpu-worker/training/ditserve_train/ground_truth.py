"""Renders prompts exactly as the data generator would: the detector's ground truth."""

from __future__ import annotations

import random

import numpy as np
import torch

from .flow import to_uint8
from .layout import layout, to_arrays
from .render import render
from .scenes import SceneSpec


def render_specs(specs: list[SceneSpec], width: int, height: int, seed: int = 0) -> list[np.ndarray]:
    rng = random.Random(seed)
    arrays = to_arrays([layout(s, width, height, rng) for s in specs])
    return list(to_uint8(render(arrays, height, width, torch.device("cpu"))))

"""Which block linears of an MMDiT go FP8 (fp8.choose's arithmetic, without torch): layers by
group, and the greedy choice of groups for an error budget. bench/gpu/fp8_groups.py reads a
study's recorded errors with it."""

from __future__ import annotations


def group_of(layer: str) -> str:
    """The group of a block linear named as fp8.linears names them (blocks.<i>.<stream>.<kind>):
    the layer itself, or for either MLP layer the MLP (fused, the first writes E4M3 for the
    second, so both go FP8 or neither)."""
    stem, kind = layer.rsplit(".", 1)
    return f"{stem}.mlp" if kind in ("fc1", "fc2") else layer


def select(error2: dict[str, float], cost: dict[str, float], target: float) -> list[str]:
    """The groups to make FP8 for an output error within `target` (relative L2): cheapest error
    per saved multiply-add first, as long as the squared errors' sum stays within target²."""
    chosen, total = [], 0.0
    for key in sorted(error2, key=lambda k: error2[k] / max(cost[k], 1)):
        if total + error2[key] <= target**2:
            chosen.append(key)
            total += error2[key]
    return chosen

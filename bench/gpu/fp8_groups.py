"""Where the FP8 error of the SD3 step comes from, and what fp8.select keeps at a budget, from a
study's recorded errors (`torch_peer.py --only sd3_fp8` writes them as sd3_fp8.group_error2):

  python3 bench/gpu/fp8_groups.py bench/gpu/results/<run>/torch_fp8.json [--target 0.018]

Each group's multiply-adds come from the bench's shape (a CFG batch of 2, 4096 image and 333
text tokens, the MLP 4x wide); only their ratios matter. Needs no torch."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "gpu-worker" / "training"))
from ditserve_train.fp8_select import select  # noqa: E402


def cost(group: str, rows: dict[str, int], mlp_ratio: float) -> float:
    """A group's multiply-adds in units of hidden²: rows × (3 for qkv, 1 for proj, 2 × ratio for the MLP)."""
    _, _, stream, kind = group.split(".")
    return rows[stream] * {"qkv": 3, "proj": 1, "mlp": 2 * mlp_ratio}[kind]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("study", type=Path)
    ap.add_argument("--target", type=float, default=0.018)
    ap.add_argument("--image-tokens", type=int, default=4096)
    ap.add_argument("--text-tokens", type=int, default=333)
    ap.add_argument("--mlp-ratio", type=float, default=4.0)
    a = ap.parse_args()
    study = json.loads(a.study.read_text())["sd3_fp8"]
    error2 = study["group_error2"]
    rows = {"image": 2 * a.image_tokens, "context": 2 * a.text_tokens}
    macs = {g: cost(g, rows, a.mlp_ratio) for g in error2}
    e_all, m_all = sum(error2.values()), sum(macs.values())
    print(f"{len(error2)} groups; their squares sum to ({e_all ** 0.5:.2%})²")
    print("| stream, kind | share of the squared error | share of the multiply-adds |\n| --- | ---: | ---: |")
    by_kind: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for g in error2:
        _, _, stream, kind = g.split(".")
        by_kind[(stream, kind)][0] += error2[g] / e_all
        by_kind[(stream, kind)][1] += macs[g] / m_all
    for (stream, kind), (e, m) in sorted(by_kind.items()):
        print(f"| {stream} {kind} | {e:.1%} | {m:.1%} |")
    by_block: dict[int, float] = defaultdict(float)
    for g in error2:
        by_block[int(g.split(".")[1])] += error2[g] / e_all
    print("share of the squared error by block:", ", ".join(f"{i}: {by_block[i]:.1%}" for i in sorted(by_block)))
    chosen = select(error2, macs, a.target)
    share = sum(macs[g] for g in chosen) / m_all
    kinds: dict[tuple[str, str], list[int]] = defaultdict(list)
    for g in chosen:
        _, block, stream, kind = g.split(".")
        kinds[(stream, kind)].append(int(block))
    print(f"within {a.target}: {len(chosen)} groups, {share:.1%} of the multiply-adds")
    for (stream, kind), blocks in sorted(kinds.items()):
        print(f"  {stream} {kind}: {len(blocks)} (blocks {', '.join(map(str, sorted(blocks)))})")
    recorded = study.get(f"mixed_{a.target}")
    if recorded:
        print(f"the study's own choice: {recorded['groups']} groups, {recorded['fp8_macs_share']:.1%}, "
              f"relative L2 {recorded['relative_l2']:.4f} on the bench's input")


if __name__ == "__main__":
    main()

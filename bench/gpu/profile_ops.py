"""GPU time per op type in the last run of an onnxruntime profile (sd3-native.mjs --profile, run
with CUDA_LAUNCH_BLOCKING=1: every launch then waits for its kernel, so a node's time is its
kernels' plus one launch, ~5-10 us). Prints a table of ms by op type, largest first.

    python3 bench/gpu/profile_ops.py /tmp/prof/ditserve_ops_gemm_ln_*.json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def by_op(events: list[dict]) -> dict[str, tuple[float, int]]:
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    start, end = (runs[-1]["ts"], runs[-1]["ts"] + runs[-1]["dur"]) if runs else (0, float("inf"))
    ms: dict[str, float] = defaultdict(float)
    n: dict[str, int] = defaultdict(int)
    for e in events:
        if not start <= e.get("ts", 0) <= end:
            continue
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            ms[op] += e.get("dur", 0) / 1e3
            n[op] += 1
    return {op: (ms[op], n[op]) for op in ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("profile", type=Path)
    a = ap.parse_args()
    rows = sorted(by_op(json.loads(a.profile.read_text())).items(), key=lambda kv: -kv[1][0])
    total = sum(ms for _, (ms, _) in rows)
    print(f"{a.profile.name}: {total:.1f} ms in nodes, last run")
    print("| op type | ms | share | nodes |\n| --- | ---: | ---: | ---: |")
    for op, (ms, n) in rows:
        print(f"| {op} | {ms:.2f} | {100 * ms / total:.1f}% | {n} |")


if __name__ == "__main__":
    main()

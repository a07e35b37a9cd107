"""Joins the GPU benchmark's JSON files into one summary and prints the table (docs/performance.md).

    python3 bench/gpu/summarize.py --dir $OUT --onnx /tmp/perf
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path


def load(p: Path) -> dict:
    return json.loads(p.read_text()) if p.exists() else {}


def census(path: Path) -> dict:
    import onnx

    if not path.exists():
        return {}
    m = onnx.load(str(path), load_external_data=False)
    return dict(collections.Counter(n.op_type for n in m.graph.node).most_common())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--onnx", type=Path, default=None)
    a = ap.parse_args()
    ta, tb, o = load(a.dir / "torch_a.json"), load(a.dir / "torch_b.json"), load(a.dir / "ort.json")
    peaks = {**ta.get("matmul_peak_flops", {})}
    for k, v in tb.get("matmul_peak_flops", {}).items():
        peaks[k] = max(peaks.get(k, 0), v)
    peak16 = peaks.get("float16") or 1.0
    sd3 = ta.get("sd3", {})
    flops = sd3.get("flops_per_step_cfg_batch1")
    rows = []

    def add(name: str, ms: float | None, extra: str = "") -> None:
        if ms is None:
            rows.append((name, None, None, extra))
            return
        rows.append((name, ms, flops / (ms / 1e3) / peak16 if flops else None, extra))

    add("PyTorch eager (fp16, SDPA)", sd3.get("eager", {}).get("ms_per_step"),
        f"peak mem {sd3.get('eager', {}).get('peak_mem_gib', 0):.1f} GiB")
    c = tb.get("sd3_compile", {})
    add("PyTorch torch.compile (fp16, SDPA)", c.get("ms_per_step"),
        f"compiled in {c.get('compile_s', 0):.0f} s; eager in that process {c.get('eager_ms_per_step_same_process', 0):.1f} ms")
    for v in ("mha", "mha_fused"):
        r = o.get(f"sd3_{v}")
        if r:
            add(f"ditserve onnxruntime-node CUDA, {v}", r["msPerStep"],
                f"create {r['createMs'] / 1e3:.0f} s, CFG as 2 calls {r['cfgAsTwoCallsMs']:.1f} ms, {r['gpuMemMiB']} MiB, "
                f"max|diff| {r['parity']['maxAbsDiff']:.3g} of {r['parity']['maxAbsRef']:.3g}")
        elif o.get(f"sd3_{v}_error"):
            add(f"ditserve onnxruntime-node CUDA, {v}", None, o[f"sd3_{v}_error"][:200])
    eager = sd3.get("eager", {}).get("ms_per_step")
    comp = c.get("ms_per_step")
    summary = {"device": ta.get("device"), "torch": ta.get("torch"), "onnxruntime": o.get("onnxruntime"),
               "matmul_peak_flops": peaks, "sd3_flops_per_step": flops, "sd3_params": sd3.get("params"),
               "sd3_rows": [{"runner": n, "ms_per_step": ms, "mfu_fp16": mfu, "note": e,
                             "vs_eager": (ms / eager if ms and eager else None),
                             "vs_compile": (ms / comp if ms and comp else None)} for n, ms, mfu, e in rows],
               "shipped_ort": o.get("shipped"), "shipped_torch_eager": ta.get("shipped_torch_eager"),
               "errors": {**ta.get("errors", {}), **tb.get("errors", {}),
                          **{k: v for k, v in o.items() if k.endswith("error") or k.endswith("Error")}}}
    if a.onnx:
        summary["census"] = {v: {"exported": census(a.onnx / f"{v}_depth2" / "model.fp16.onnx"),
                                 "optimized": census(a.onnx / f"{v}_depth2" / "optimized.onnx")}
                             for v in ("mha", "mha_fused")}
    so, st = summary["shipped_ort"] or {}, summary["shipped_torch_eager"] or {}
    print(f"device: {summary['device']}; fp16 matmul peak {peak16 / 1e12:.0f} TFLOP/s, bf16 {peaks.get('bfloat16', 0) / 1e12:.0f}")
    print(f"SD3-medium shape: {summary['sd3_params']} params, {flops / 1e12 if flops else 0:.2f} TFLOP per CFG step (2 rows)")
    print(f"{'runner':45} {'ms/step':>8} {'MFU':>6} {'/eager':>7} {'/compile':>8}  note")
    for r in summary["sd3_rows"]:
        f = lambda x, fmt: (fmt.format(x) if x is not None else "-")  # noqa: E731
        print(f"{r['runner']:45} {f(r['ms_per_step'], '{:8.1f}')} {f(r['mfu_fp16'] and 100 * r['mfu_fp16'], '{:5.1f}%')} "
              f"{f(r['vs_eager'], '{:7.2f}')} {f(r['vs_compile'], '{:8.2f}')}  {r['note']}")
    print("shipped model (defaults), images/s:  batch | ditserve CUDA | PyTorch eager | ratio")
    for b in ("1", "8", "32"):
        x = (so.get("rows") or {}).get(b, {}).get("imagesPerSecond")
        y = (st.get("rows") or {}).get(b, {}).get("images_per_s")
        print(f"  {b:>5} | {x or 0:13.1f} | {y or 0:13.1f} | {(x / y if x and y else 0):.2f}")
    if so:
        print(f"shipped model load on CUDA (sessions + warm-up): {so.get('loadMs', 0):.0f} ms")
    for v, c2 in (summary.get("census") or {}).items():
        print(f"census {v} (depth 2) optimized: {c2.get('optimized')}")
    if summary["errors"]:
        print("errors:", json.dumps(summary["errors"])[:2000])
    (a.dir / "summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

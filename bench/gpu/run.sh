#!/usr/bin/env bash
# The GPU benchmark's second device call (docs/performance.md), from the repository root on the
# GPU machine, after `bash .gpu-kit/part1/install.sh` in the call before on the same machine.
# Carry: .gpu-kit/part2 and dist/bench-gpu (npm run bench:gpu builds both here). Writes $OUT.
set -o pipefail
bash .gpu-kit/part2/install.sh && source /opt/ditserve-gpu/env.sh || exit 3
export PYTHONUNBUFFERED=1 PYTHONPATH=gpu-worker/training
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
(
  timeout 330 python3 bench/gpu/torch_peer.py --out "$OUT/torch_a.json" --onnx /tmp/perf
  timeout 200 node dist/bench-gpu/ort-cuda.mjs --sd3 /tmp/perf --out "$OUT/ort.json"
  timeout 200 python3 bench/gpu/torch_peer.py --out "$OUT/torch_b.json" --stage b
  python3 bench/gpu/summarize.py --dir "$OUT" --onnx /tmp/perf
) 2>&1 | grep -v -i "warning\|torch.onnx.export(" | tee "$OUT/log.txt"

#!/usr/bin/env bash
# The GPU engine benchmark (docs/performance.md), from the repository root on the GPU machine,
# once the GPU kit is there (`bash .gpu-kit/partK/install.sh`, one part a device call, K = 1..N;
# npm run bench:gpu packs it), each in a call that carries dist/bench-gpu (each fits 10 minutes):
#   bash bench/gpu/run.sh shipped
#   bash bench/gpu/run.sh sd3       # right after, on the same machine
#   bash bench/gpu/run.sh video [MODEL]   # a video model's clips (default models/shapes-video-s)
# FP8's error by set of layers, in PyTorch (~40 s):
#   PYTHONPATH=gpu-worker/training python3 bench/gpu/torch_peer.py --out $OUT/torch_fp8.json --only sd3_fp8
# and, anywhere, where that error comes from and which groups a budget keeps in FP8:
#   python3 bench/gpu/fp8_groups.py <run>/torch_fp8.json [--target 0.018]
# Each writes its raw files to $OUT; copy both into bench/gpu/results/<run>/ and run
#   python3 bench/gpu/summarize_engine.py --dir bench/gpu/results/<run> --out bench/gpu/results/summary.json
set -o pipefail
provider=/opt/ditserve-gpu/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
if [[ ! -f $provider ]]; then
  echo "run.sh: the GPU kit is not on this machine: carry .gpu-kit/partK and run its install.sh, one part a call (docs/gpu.md)" >&2
  exit 3
fi
source /opt/ditserve-gpu/env.sh || exit 3
export PYTHONUNBUFFERED=1 PYTHONPATH=gpu-worker/training
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
case "${1:-shipped}" in
  shipped)
    # One stepping path per process (docs/gpu.md), then PyTorch eager on the same shapes.
    for p in graph host stock; do
      timeout 150 node dist/bench-gpu/step-engine.mjs "$p" /tmp 2>&1 | tee -a "$OUT/step-engine.log" | cut -c1-300
    done
    node dist/bench-gpu/compare-pixels.mjs /tmp | tee -a "$OUT/step-engine.log"
    timeout 120 python3 bench/gpu/torch_peer.py --out "$OUT/torch_shipped.json" --only peak,shipped
    timeout 300 node dist/bench-gpu/batching.mjs --device cuda --runner native --jobs 160 --batch-size 32 \
      --variants static,continuous --out "$OUT/batching.json" | tee "$OUT/batching.log" | tail -12
    ;;
  sd3)
    # ditserve's fused ops (gpu-worker/ops), built here with nvcc, first on the test graphs against
    # onnxruntime's own ops, then in an SD3 export of their own beside onnxruntime's fusions.
    export PATH=$PATH:/usr/local/cuda/bin
    CUDA_ARCHS=90 bash gpu-worker/ops/build.sh cuda /tmp/ops 2>&1 | tee "$OUT/ops-build.log"
    for f in tests/fixtures/fused-ops tests/fixtures/fused-ops/fp8; do
      node dist/bench-gpu/fused-ops.mjs /tmp/ops/libditserve_ops_cuda.so "$f" 2>&1 | tee -a "$OUT/fused-ops.log"
    done
    # SD3_VARIANTS: the exports to compare (each ~30-60 s to export); those after mha_fused use the ops:
    # ditserve_fp8_fused_norms has every block linear in E4M3 (and the activations between them),
    # ditserve_fp8_mixed only the groups fp8.choose picks for an output within 1.8% of fp16; both
    # are compared with ditserve_ops_gemm, the fp16 graph. The last one listed is profiled.
    read -ra variants <<<"${SD3_VARIANTS:-ditserve_ops_gemm ditserve_fp8_mixed ditserve_fp8_fused_norms}"
    timeout 320 python3 bench/gpu/torch_peer.py --out "$OUT/torch_a.json" --onnx /tmp/perf --only peak,sd3 \
      --variants "$(IFS=,; echo "${variants[*]}")"
    for v in "${variants[@]}"; do
      python3 -m ditserve_train.step_fusions --input /tmp/perf/$v/model.fp16.onnx \
        --output /tmp/perf/$v/model.ln.fp16.onnx --heads 24 | tee -a "$OUT/sd3.log"
    done
    sd3=(node dist/bench-gpu/sd3-native.mjs --sd3 /tmp/perf --ops /tmp/ops/libditserve_ops_cuda.so)
    timeout 200 "${sd3[@]}" --variants "$(IFS=,; echo "${variants[*]/%/_ln}")" --kernels "${SD3_KERNELS:-0,1}" --baseline ditserve_ops_gemm_ln \
      2>&1 | grep -v "E:onnxruntime" | tee -a "$OUT/sd3.log" | cut -c1-300
    # Where the time goes: each node's kernels, launches made blocking (profile_ops.py).
    mkdir -p /tmp/prof
    CUDA_LAUNCH_BLOCKING=1 timeout 100 "${sd3[@]}" --variants "${variants[-1]}_ln" --kernels 0 --profile /tmp/prof \
      2>&1 | grep -v "E:onnxruntime" | cut -c1-300
    for f in /tmp/prof/*.json; do python3 bench/gpu/profile_ops.py "$f"; done | tee "$OUT/sd3-profile.md"
    timeout 200 python3 bench/gpu/torch_peer.py --out "$OUT/torch_b.json" --stage b
    ;;
  video)
    # A video model's default clips, ditserve on CUDA (1 and 4 a call), then PyTorch eager on the
    # same weights (read back from the model's fp16 graphs).
    model=${2:-models/shapes-video-s}
    for b in 1 4; do
      timeout 150 node dist/bench-gpu/video.mjs --model "$model" --device cuda --batch "$b" 2>&1 | tee -a "$OUT/video.log" | tail -7
    done
    timeout 150 python3 bench/gpu/torch_peer.py --out "$OUT/torch_video.json" --only video --video-model "$model"
    ;;
  *) echo "usage: bench/gpu/run.sh shipped|sd3|video [MODEL]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Builds the fused-op library (ops.cc + one kernels file) for one provider:
#   bash gpu-worker/ops/build.sh cpu  OUT_DIR   -> OUT_DIR/libditserve_ops_cpu.so   (g++)
#   bash gpu-worker/ops/build.sh cuda OUT_DIR   -> OUT_DIR/libditserve_ops_cuda.so  (nvcc; CUDA_ARCHS, default "80 90")
# The CUDA build links the CUDA runtime statically, so the library needs only the driver and the
# onnxruntime that loads it. docs/custom-ops.md says what the ops do and how a session loads them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=${1:?usage: build.sh cpu|cuda OUT_DIR}
out=${2:?usage: build.sh cpu|cuda OUT_DIR}
mkdir -p "$out"
case "$kind" in
  cpu)
    g++ -O2 -std=c++17 -fPIC -shared -fvisibility=hidden -Wall -Wextra \
      "$here/ops.cc" "$here/kernels_cpu.cc" -o "$out/libditserve_ops_cpu.so"
    ;;
  cuda)
    gencode=()
    for arch in ${CUDA_ARCHS:-80 90}; do gencode+=(-gencode "arch=compute_$arch,code=sm_$arch"); done
    nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC,-fvisibility=hidden -DDITSERVE_CUDA "${gencode[@]}" \
      "$here/ops.cc" "$here/kernels_cuda.cu" -o "$out/libditserve_ops_cuda.so"
    ;;
  *) echo "build.sh: cpu or cuda, not $kind" >&2; exit 2 ;;
esac
echo "$out/libditserve_ops_$kind.so"

#!/usr/bin/env bash
# Builds the fused-op library (ops.cc + one kernels file) for one provider:
#   bash gpu-worker/ops/build.sh cpu  OUT_DIR   -> OUT_DIR/libditserve_ops_cpu.so   (g++)
#   bash gpu-worker/ops/build.sh cuda OUT_DIR   -> OUT_DIR/libditserve_ops_cuda.so  (nvcc; CUDA_ARCHS, default "80 90")
# The CUDA build links the CUDA runtime statically and cuBLASLt dynamically (the CUDA provider of
# onnxruntime loads the same libcublasLt), so it needs only what that provider needs. docs/custom-ops.md says what the ops do and how a session loads them.
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
    # cuBLASLt (LinearGelu): the toolkit's, else any copy on the machine (e.g. a Python wheel's).
    header=$(find "${CUDA_HOME:-/usr/local/cuda}/" /usr/include /opt -name cublasLt.h 2>/dev/null | head -1 || true)
    blas=()
    if [[ -n $header ]]; then
      root=$(dirname "$(dirname "$header")")
      lib=$(find "$root" "${CUDA_HOME:-/usr/local/cuda}/" -name 'libcublasLt.so*' 2>/dev/null | sort | head -1 || true)
      [[ -n $lib ]] && blas=(-I"$(dirname "$header")" "$lib")
    fi
    if [[ ${#blas[@]} -eq 0 ]]; then
      echo "build.sh: no cuBLASLt here: LinearGelu will refuse to run" >&2
      blas=(-DDITSERVE_NO_CUBLASLT)
    fi
    nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC,-fvisibility=hidden -DDITSERVE_CUDA "${gencode[@]}" \
      "$here/ops.cc" "$here/kernels_cuda.cu" "${blas[@]}" -o "$out/libditserve_ops_cuda.so"
    ;;
  *) echo "build.sh: cpu or cuda, not $kind" >&2; exit 2 ;;
esac
echo "$out/libditserve_ops_$kind.so"

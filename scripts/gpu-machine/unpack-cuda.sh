#!/usr/bin/env bash
# GPU machine (install-part.sh runs it after unpack-node.sh): the CUDA execution provider.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=/opt/ditserve-gpu
[[ -x $dest/node ]] || { echo "unpack: $dest/node is missing: run unpack-node.sh first" >&2; exit 3; }
bin=$dest/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
xz -dc "$src/cuda-provider-sm90.so.xz" >"$bin/libonnxruntime_providers_cuda.so"
cp "$src/libonnxruntime_providers_shared.so" "$bin/"
source "$dest/env.sh"
node -p "'backends: ' + require('onnxruntime-node').listSupportedBackends().map((b) => b.name).join(',')"

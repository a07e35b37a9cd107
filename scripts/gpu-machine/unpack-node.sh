#!/usr/bin/env bash
# GPU machine (install-part.sh runs it from the unpacked kit): node and onnxruntime-node into
# /opt/ditserve-gpu (kept while the machine stays warm), and env.sh to put them on PATH and NODE_PATH.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=/opt/ditserve-gpu
mkdir -p "$dest" && cd "$dest"
xz -dc "$src/node.xz" >node && chmod +x node
tar xJf "$src"/onnxruntime-node-*.tar.xz
cat >env.sh <<ENV
export PATH=$dest:\$PATH
export NODE_PATH=$dest/node_modules\${NODE_PATH:+:\$NODE_PATH}
export LD_LIBRARY_PATH=/usr/local/cuda/targets/x86_64-linux/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
ENV
echo "unpacked: node $(./node --version), onnxruntime-node $(./node -p "require('$dest/node_modules/onnxruntime-node/package.json').version")"

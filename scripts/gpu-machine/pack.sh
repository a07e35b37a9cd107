#!/usr/bin/env bash
# Packs what the GPU machine lacks (it has CUDA, but no Node.js and no package registry) into
# parts that each fit one device call next to the working tree: this machine's node binary, onnxruntime-node
# 1.29.0 (linux-x64 files) with koffi (the native runner's FFI, docs/native-runner.md) and the
# 1.29.0 CUDA execution provider built for CUDA 13, with every
# GPU binary but sm_90 (H100/H200) zeroed so it compresses from ~230 MB to ~38 MB. Everything
# comes from the npm registry. From the repository root:
#   bash scripts/gpu-machine/pack.sh          -> .gpu-kit/part1 … partN (docs/gpu.md)
# A device call carries the working tree (~48 MiB with the two shipped models) and what it names,
# 64 MiB in all: hence parts of GPU_KIT_PART_MIB (default 12) each, installed one a call.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$PWD/.gpu-kit}
cache=${GPU_KIT_CACHE:-$HOME/.cache/ditserve-gpu-kit}
# The provider must match the core library exactly: hence the pinned onnxruntime-node.
ort=1.29.0
# koffi and its prebuilt linux-x64 binary, as package.json pins it.
koffi=3.3.4
node_kit=onnxruntime-node-$ort-koffi-$koffi.tar.xz
provider_pkg=com.github.asus4.onnxruntime.linux-x64-gpu
provider_ver=0.4.9
part_mib=${GPU_KIT_PART_MIB:-12}
rm -rf "$out"/part* # a file left from an older pack would ride along in every call
mkdir -p "$cache"

if [[ ! -f $cache/node.xz ]]; then
  echo "pack: node $(node --version)"
  xz -T2 -9 -c "$(readlink -f "$(command -v node)")" >"$cache/node.xz.part"
  mv "$cache/node.xz.part" "$cache/node.xz"
fi
if [[ ! -f $cache/$node_kit ]]; then
  echo "pack: onnxruntime-node@$ort, koffi@$koffi"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm init -y >/dev/null && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ort" "koffi@$koffi" >/dev/null)
  tar -C "$tmp" -cf - --exclude='bin/napi-v6/darwin' --exclude='bin/napi-v6/win32' \
    --exclude='bin/napi-v6/linux/arm64' --exclude='musl_x64' node_modules/onnxruntime-node \
    node_modules/onnxruntime-common node_modules/koffi node_modules/@koromix/koffi-linux-x64 |
    xz -T2 -9 >"$cache/$node_kit"
  rm -rf "$tmp"
fi
if [[ ! -f $cache/cuda-provider-sm90.so.xz ]]; then
  echo "pack: CUDA provider from $provider_pkg@$provider_ver, sm_90 only"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$provider_pkg@$provider_ver" >/dev/null && tar xzf ./*.tgz)
  lib=$tmp/package/Plugins/Linux/x64
  python3 "$here/prune_fatbin.py" "$lib/libonnxruntime_providers_cuda.so" "$tmp/cuda.so" 90
  xz -T2 -9 -c "$tmp/cuda.so" >"$cache/cuda-provider-sm90.so.xz"
  cp "$lib/libonnxruntime_providers_shared.so" "$cache/"
  rm -rf "$tmp"
fi
# One tar of everything (with the two unpack steps), cut into parts: install-part.sh puts it
# back together on the GPU machine once every part has been carried there.
stage=$(mktemp -d)
cp "$cache/node.xz" "$cache/$node_kit" "$cache/cuda-provider-sm90.so.xz" \
  "$cache/libonnxruntime_providers_shared.so" "$here/unpack-node.sh" "$here/unpack-cuda.sh" "$stage/"
tar -C "$stage" -cf "$stage.tar" .
sum=$(sha256sum "$stage.tar" | cut -d' ' -f1)
split -b "${part_mib}M" -d -a 2 "$stage.tar" "$stage.tar."
chunks=("$stage".tar.??)
for i in "${!chunks[@]}"; do
  part=$out/part$((i + 1))
  mkdir -p "$part"
  mv "${chunks[$i]}" "$part/kit.tar.$(printf %02d "$i")"
  echo "${#chunks[@]} $sum" >"$part/kit.sum"
  cp "$here/install-part.sh" "$part/install.sh"
done
rm -rf "$stage" "$stage.tar"
du -sh "$out"/part*

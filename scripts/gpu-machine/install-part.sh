#!/usr/bin/env bash
# GPU machine: one part of the GPU kit (pack.sh), one device call each, all on the same warm
# machine and in any order. Each call leaves its part in /opt/ditserve-gpu/parts; the call that
# brings the last missing one checks the whole kit against its SHA-256 and unpacks node,
# onnxruntime-node and its CUDA provider into /opt/ditserve-gpu (unpack-node.sh, unpack-cuda.sh).
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=/opt/ditserve-gpu
read -r count sum <"$src/kit.sum"
mkdir -p "$dest/parts"
# Parts of another pack would not add up: start over when the sums differ.
if [[ -f $dest/parts/kit.sum ]] && ! cmp -s "$src/kit.sum" "$dest/parts/kit.sum"; then rm -f "$dest/parts"/*; fi
cp "$src/kit.sum" "$src"/kit.tar.* "$dest/parts/"
have=$(find "$dest/parts" -name 'kit.tar.*' | wc -l)
if ((have < count)); then
  echo "gpu kit: $have of $count parts on this machine; carry the others, one a call"
  exit 0
fi
cat "$dest/parts"/kit.tar.* >"$dest/kit.tar"
echo "$sum  $dest/kit.tar" | sha256sum -c --quiet
mkdir -p "$dest/kit" && tar -C "$dest/kit" -xf "$dest/kit.tar" && rm "$dest/kit.tar"
bash "$dest/kit/unpack-node.sh"
bash "$dest/kit/unpack-cuda.sh"

#!/usr/bin/env bash
# Retrains the video model on the GPU machine, starting from the image model in models/ (see
# ditserve_train/video/from_image.py), and prints the MotionEval table.
#   bash gpu-worker/training/retrain_video.sh [OUT_DIR]      (from the repository root; < 10 min on one H200)
# Then copy OUT_DIR/model/shapes-video-s to models/.
# DITSERVE_TRAIN_SECONDS sets the budget and DITSERVE_TRAIN_FLAGS adds options (e.g. "--seed 7"):
# results.json's "command" names both where a run had them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$PWD/runs/video-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
export PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
cd "$here"
# MotionEval must prove itself (ground truth >= 0.98, mismatched prompts <= 0.20): its tests run on
# the CPU beside the training, and a failure (or a skipped test) fails the command.
DITSERVE_TRAIN_ALL_TESTS=1 python3 -m pytest -q -p no:cacheprovider tests/test_video_*.py >"$out/motion-eval-tests.log" 2>&1 &
tests=$!
python3 -m ditserve_train.video.run --out "$out" ${DITSERVE_TRAIN_SECONDS:+--seconds "$DITSERVE_TRAIN_SECONDS"} ${DITSERVE_TRAIN_FLAGS:-}
if wait "$tests"; then tail -1 "$out/motion-eval-tests.log"; else cat "$out/motion-eval-tests.log"; exit 1; fi

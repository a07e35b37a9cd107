#!/usr/bin/env bash
# Retrains the shipped model from scratch on the GPU machine and prints the ShapesEval table.
#   bash gpu-worker/training/retrain.sh [OUT_DIR]      (from the repository root; < 10 min on one H100)
# Then copy OUT_DIR/model/shapes-mmdit-s to models/ and OUT_DIR/golden to tests/fixtures/golden.
# DITSERVE_TRAIN_SECONDS sets the budget and DITSERVE_TRAIN_FLAGS adds options (e.g. "--seed 7"):
# results.json's "command" names both where a run had them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$PWD/runs/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
export PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
cd "$here"
# The detector must prove itself (ground truth >= 0.98, mismatched prompts <= 0.20); its tests run
# on the CPU beside the training, and a failure (or a test skipped for a missing package) fails
# the command.
DITSERVE_TRAIN_ALL_TESTS=1 python3 -m pytest -q -p no:cacheprovider tests >"$out/detector-tests.log" 2>&1 &
tests=$!
# DITSERVE_TRAIN_SECONDS, when set, is the whole budget (default: RunConfig.seconds, config.py).
python3 -m ditserve_train.run --out "$out" ${DITSERVE_TRAIN_SECONDS:+--seconds "$DITSERVE_TRAIN_SECONDS"} ${DITSERVE_TRAIN_FLAGS:-}
if wait "$tests"; then tail -1 "$out/detector-tests.log"; else cat "$out/detector-tests.log"; exit 1; fi

#!/usr/bin/env bash
# CI of the Python training package (.ci/run calls it): the linter, then the tests that need no
# PyTorch (those that need torch, scipy or tokenizers skip). Installs only what is missing:
# Debian's numpy, pytest and onnx when python3 lacks them, ruff with pip where the machine's package
# index has it, else Debian's pyflakes (the same F checks). `apt-get update` runs only before an install.
set -euo pipefail
cd "$(dirname "$0")"

updated=
apt_install() {
  [ -n "$updated" ] || { apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

py=
# onnx too: the step-graph tests rebuild the shipped step graphs (Debian's python3-onnx).
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import numpy, pytest, onnx' 2>/dev/null; then py=$candidate; break; fi
done
if [ -z "$py" ]; then
  apt_install python3-numpy python3-pytest python3-onnx
  py=/usr/bin/python3
fi

if "$py" -m ruff --version >/dev/null 2>&1 || "$py" -m pip install -q ruff >/dev/null 2>&1; then
  "$py" -m ruff check --no-cache .
else
  /usr/bin/python3 -m pyflakes --version >/dev/null 2>&1 || apt_install python3-pyflakes
  /usr/bin/python3 -m pyflakes ditserve_train tests scripts && echo "pyflakes: no problems"
fi

"$py" -m pytest -q -p no:cacheprovider tests

"""Writes tests/fixtures/noise-vectors.json: the cases the TypeScript noise must reproduce."""

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ditserve_train.noise import standard_normal  # noqa: E402

CASES = [(0, 16), (7, 1024), (123456789, 3), (2**32 + 5, 32), (2**53 - 1, 64)]
DIGEST_CASES = [(42, 1_000_000), (2**40 + 17, 262_144)]


def main(out: Path) -> None:
    doc = {
        "generator": "philox4x32-10 + box-muller, float64 rounded to float32 (docs/model-format.md)",
        "cases": [
            {"seed": s, "count": n, "values": [float(v) for v in standard_normal(s, n)]} for s, n in CASES
        ],
        "digests": [
            {"seed": s, "count": n, "sha256_float32_le": hashlib.sha256(standard_normal(s, n).astype("<f4").tobytes()).hexdigest()}
            for s, n in DIGEST_CASES
        ],
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "tests/fixtures/noise-vectors.json")

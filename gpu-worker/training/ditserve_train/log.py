"""Structured run log: one JSON object a line, echoed to stdout, plus the loss curve as CSV."""

from __future__ import annotations

import json
import time
from pathlib import Path


class Log:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.t0 = time.time()
        self._events = (folder / "events.jsonl").open("a")
        self.curves: dict[str, list[dict]] = {}

    def event(self, kind: str, **fields) -> None:
        row = {"event": kind, "wall_s": round(time.time() - self.t0, 1), **fields}
        line = json.dumps(row)
        print(line, flush=True)
        self._events.write(line + "\n")
        self._events.flush()

    def scalar(self, curve: str, **fields) -> None:
        self.curves.setdefault(curve, []).append(fields)
        self.event(curve, **fields)

    def write_curves(self) -> None:
        for name, rows in self.curves.items():
            keys = list(rows[0])
            lines = [",".join(keys)] + [",".join(str(r.get(k, "")) for k in keys) for r in rows]
            (self.folder / f"{name}_curve.csv").write_text("\n".join(lines) + "\n")

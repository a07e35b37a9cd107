"""The check the wrapped graphs' tests share: written again from the shipped model's component
graphs (weights linked, not copied), they are byte for byte the committed files."""

import shutil
from pathlib import Path

MODEL = Path(__file__).resolve().parents[3] / "models" / "shapes-mmdit-s"


def assert_rewritten_as_shipped(tmp_path: Path, component: str, files: dict[str, str], write) -> None:
    folder = tmp_path / component
    wrapped = [Path(t).stem.split(".")[0] + "*" for t in files.values()]
    shutil.copytree(MODEL / component, folder, ignore=shutil.ignore_patterns("weights.bin", *wrapped))
    (folder / "weights.bin").symlink_to(MODEL / component / "weights.bin")
    written = write(tmp_path)
    assert sorted(p.name for p in written) == sorted(files.values())
    for path in written:
        assert path.read_bytes() == (MODEL / component / path.name).read_bytes(), path.name

"""The check the wrapped graphs' tests share: written again from the shipped model's component
graphs (weights linked, not copied), they are byte for byte the committed files."""

import shutil
from pathlib import Path

MODELS = Path(__file__).resolve().parents[3] / "models"
MODEL = MODELS / "shapes-mmdit-s"


def assert_rewritten_as_shipped(tmp_path: Path, component: str, files: dict[str, str], write, model: Path = MODEL) -> None:
    folder = tmp_path / component
    wrapped = [Path(t).stem.split(".")[0] + "*" for t in files.values()]
    shutil.copytree(model / component, folder, ignore=shutil.ignore_patterns("weights.bin", *wrapped))
    (folder / "weights.bin").symlink_to(model / component / "weights.bin")
    written = write(tmp_path)
    assert sorted(p.name for p in written) == sorted(files.values())
    for path in written:
        assert path.read_bytes() == (model / component / path.name).read_bytes(), path.name

"""The shipped decode graphs are what decode_graph.py writes (needs onnx)."""

import shutil
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")

from ditserve_train.decode_graph import DECODE_FILES, write_decode_graphs  # noqa: E402

MODEL = Path(__file__).resolve().parents[3] / "models" / "shapes-mmdit-s"


def test_committed_decode_graphs_are_reproducible(tmp_path):
    folder = tmp_path / "vae_decoder"
    shutil.copytree(MODEL / "vae_decoder", folder, ignore=shutil.ignore_patterns("weights.bin", "decode*"))
    (folder / "weights.bin").symlink_to(MODEL / "vae_decoder" / "weights.bin")
    written = write_decode_graphs(tmp_path)
    assert sorted(p.name for p in written) == sorted(DECODE_FILES.values())
    for path in written:
        assert path.read_bytes() == (MODEL / "vae_decoder" / path.name).read_bytes(), path.name


def test_decode_graph_interface():
    for target in DECODE_FILES.values():
        graph = onnx.load(str(MODEL / "vae_decoder" / target), load_external_data=False).graph
        assert [i.name for i in graph.input] == ["latents"]
        assert [(o.name, o.type.tensor_type.elem_type) for o in graph.output] == [("pixels", onnx.TensorProto.UINT8)]
        assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim][3] == 3

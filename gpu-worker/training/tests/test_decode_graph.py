"""The shipped decode graphs are what decode_graph.py writes (needs onnx)."""

import pytest

onnx = pytest.importorskip("onnx")

from ditserve_train.decode_graph import DECODE_FILES, write_decode_graphs  # noqa: E402
from shipped_graphs import MODEL, MODELS, assert_rewritten_as_shipped  # noqa: E402


def test_committed_decode_graphs_are_reproducible(tmp_path):
    assert_rewritten_as_shipped(tmp_path, "vae_decoder", DECODE_FILES, write_decode_graphs)


def test_committed_video_decode_graphs_are_reproducible(tmp_path):
    assert_rewritten_as_shipped(tmp_path, "vae_decoder", DECODE_FILES, write_decode_graphs, MODELS / "shapes-video-s")


def test_decode_graph_interface():
    for target in DECODE_FILES.values():
        graph = onnx.load(str(MODEL / "vae_decoder" / target), load_external_data=False).graph
        assert [i.name for i in graph.input] == ["latents"]
        assert [(o.name, o.type.tensor_type.elem_type) for o in graph.output] == [("pixels", onnx.TensorProto.UINT8)]
        assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim][3] == 3

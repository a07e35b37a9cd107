"""The shipped step graphs are what step_graph.py writes, with every fusion applied (needs onnx)."""

import json

import pytest

onnx = pytest.importorskip("onnx")

from ditserve_train.step_graph import STEP_FILES, build_step_graph, write_step_graphs  # noqa: E402
from shipped_graphs import MODEL, MODELS, assert_rewritten_as_shipped  # noqa: E402


def test_committed_step_graphs_are_reproducible(tmp_path):
    assert_rewritten_as_shipped(tmp_path, "transformer", STEP_FILES, write_step_graphs)


def test_committed_video_step_graphs_are_reproducible(tmp_path):
    assert_rewritten_as_shipped(tmp_path, "transformer", STEP_FILES, write_step_graphs, MODELS / "shapes-video-s")


def test_video_step_graph_takes_the_conditioning_per_sample():
    step = onnx.load(str(MODELS / "shapes-video-s" / "transformer" / "step.onnx"), load_external_data=False)
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in step.graph.input}
    assert dims["latents"] == ["batch", 16, "frames", "height", "width"]
    assert dims["cond_latents"] == dims["latents"]
    assert dims["cond_mask"] == ["batch", "frames"]
    assert dims["encoder_hidden_states"][:2] == [2, "batch"]


def test_step_graph_inputs_and_fusions():
    heads = json.loads((MODEL / "transformer" / "config.json").read_text())["num_heads"]
    for source, target in STEP_FILES.items():
        step = onnx.load(str(MODEL / "transformer" / target), load_external_data=False)
        names = [i.name for i in step.graph.input]
        assert names == ["latents", "sigma", "sigma_next", "guidance_scale", "encoder_hidden_states", "pooled_projections"]
        assert [o.name for o in step.graph.output] == ["latents_next"]
        ops = [n.op_type for n in step.graph.node]
        raw = onnx.load(str(MODEL / "transformer" / source), load_external_data=False)
        assert ops.count("FastGelu") == [n.op_type for n in raw.graph.node].count("Tanh")
        assert ops.count("MultiHeadAttention") == [n.op_type for n in raw.graph.node].count("Softmax")
        assert "Softmax" not in ops and "Tanh" not in ops
        mha = [n for n in step.graph.node if n.op_type == "MultiHeadAttention"]
        assert all(a.i == heads for n in mha for a in n.attribute if a.name == "num_heads")


def test_unfused_graph_keeps_the_transformer_intact():
    raw = onnx.load(str(MODEL / "transformer" / "model.onnx"), load_external_data=False)
    n = len(raw.graph.node)
    step = build_step_graph(raw, 1000)
    # The transformer's own nodes plus the guidance and Euler nodes around it.
    assert len(step.graph.node) > n
    # The same weights, still in the transformer's weights.bin.
    assert {t.name for t in step.graph.initializer} == {t.name for t in raw.graph.initializer}
    assert {e.value for t in step.graph.initializer for e in t.external_data if e.key == "location"} == {"weights.bin"}

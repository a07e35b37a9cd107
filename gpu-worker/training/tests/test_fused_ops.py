"""ditserve's fused ops on the Python side: the committed test graphs are what
fused_ops_graphs.py writes (needs onnx), and an MMDiT patched for them computes what the model
does and exports one op per chain (needs PyTorch)."""

from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")

from ditserve_train.fused_ops_graphs import write  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "fused-ops"


def test_committed_test_graphs_are_reproducible(tmp_path):
    for path in write(tmp_path):
        name = path.relative_to(tmp_path)
        assert path.read_bytes() == (FIXTURES / name).read_bytes(), f"{name}: rerun fused_ops_graphs.py"


def _small_model():
    torch = pytest.importorskip("torch")
    from ditserve_train.models.mmdit import MMDiT, MMDiTConfig

    torch.manual_seed(0)
    model = MMDiT(MMDiTConfig(hidden_size=128, num_heads=2, depth=2, joint_attention_dim=32, pooled_projection_dim=32))
    with torch.no_grad():  # random everywhere: adaLN-Zero would leave every gate at zero
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.1 + (1.0 if p.ndim == 1 and p.shape[0] <= 64 else 0.0))
    g = torch.Generator().manual_seed(1)
    args = (torch.randn(2, 8, 8, 8, generator=g), torch.tensor([100.0, 700.0]),
            torch.randn(2, 5, 32, generator=g), torch.randn(2, 32, generator=g))
    return torch, model.eval(), args


def test_patched_model_computes_what_the_model_does():
    torch, model, args = _small_model()
    from ditserve_train.fused_ops import patch

    with torch.no_grad():
        want = model(*args)
        got = patch(model)(*args)
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5), (got - want).abs().max()


@pytest.mark.parametrize("linear_gelu", [False, True])
def test_export_has_one_op_per_chain(tmp_path, linear_gelu):
    torch, model, args = _small_model()
    from ditserve_train.fused_ops import OPSETS, patch

    path = tmp_path / "model.onnx"
    with torch.no_grad():
        want = model(*args)
        patched = patch(model, linear_gelu=linear_gelu)
        assert torch.allclose(patched(*args), want, atol=1e-5, rtol=1e-5)
        torch.onnx.export(patched, args, str(path), opset_version=17, dynamo=False, custom_opsets=OPSETS)
    nodes = onnx.load(str(path)).graph.node
    ops = [n.op_type for n in nodes if n.domain == "ditserve"]
    depth = 2  # the last block's text stream is pre-only: no residuals there
    assert ops.count("JointQkvNorm") == depth
    # Each residual with the norm after it (the MLP's with the next block's or the final norm).
    assert ops.count("GateResidualNorm") == 2 * (2 * depth - 1)
    assert ops.count("GateResidual") == 0
    mlps = 2 * depth - 1
    assert ops.count("LinearGelu") == (mlps if linear_gelu else 0)
    assert sum(n.op_type == "FastGelu" for n in nodes) == (0 if linear_gelu else mlps)


def test_fp8_layers_stay_near_the_model_and_export_as_fp8_ops(tmp_path):
    torch, model, args = _small_model()
    from ditserve_train import fp8
    from ditserve_train.fused_ops import OPSETS, patch

    path = tmp_path / "model.onnx"
    with torch.no_grad():
        want = model(*args)
        amax = fp8.calibrate(model, args)
        assert set(amax) == set(fp8.linears(model)) and all(a > 0 for a in amax.values())
        patched = patch(fp8.attach(model, amax), linear_gelu=True)
        got = patched(*args)
        # E4M3's 3 mantissa bits: a few percent, not fp16's 0.1%, and not a pass-through either.
        assert 1e-3 < fp8.relative_l2(got, want) < 0.1
        torch.onnx.export(patched, args, str(path), opset_version=17, dynamo=False, custom_opsets=OPSETS)
    graph = onnx.load(str(path)).graph
    ops = [n.op_type for n in graph.node if n.domain == "ditserve"]
    depth, mlps = 2, 3  # per block: both streams' qkv, and the full streams' proj, fc1 and fc2
    assert ops.count("LinearGeluFp8") == mlps and ops.count("LinearGelu") == 0
    assert ops.count("LinearFp8") == 2 * depth + 2 * mlps
    weights = {t.name: t for t in graph.initializer}
    fp8_nodes = [n for n in graph.node if n.op_type == "LinearFp8"]
    assert all(weights[n.input[1]].data_type == onnx.TensorProto.UINT8 for n in fp8_nodes)
    assert all({a.name for a in n.attribute} == {"x_scale", "w_scale"} for n in fp8_nodes)


@pytest.mark.parametrize("fuse_norms", [False, True])
def test_fp8_activations_stay_e4m3_between_the_ops(tmp_path, fuse_norms):
    torch, model, args = _small_model()
    from ditserve_train import fp8
    from ditserve_train.fused_ops import OPSETS, patch

    path = tmp_path / "model.onnx"
    with torch.no_grad():
        want = model(*args)
        patched = patch(fp8.attach(model, fp8.calibrate(model, args), fuse_mlp=True, fuse_norms=fuse_norms),
                        linear_gelu=True)
        assert 1e-3 < fp8.relative_l2(patched(*args), want) < 0.1
        torch.onnx.export(patched, args, str(path), opset_version=17, dynamo=False, custom_opsets=OPSETS)
    nodes = onnx.load(str(path)).graph.node
    ops = [n.op_type for n in nodes if n.domain == "ditserve"]
    mlps = 3
    # The MLP's hidden activation; with fuse_norms also the norms before fc1 and the second
    # block's qkv (the first block's LayerNorm is onnxruntime's: its qkv quantizes for itself).
    gelu = "LinearGeluFp8InOut" if fuse_norms else "LinearGeluFp8Out"
    assert ops.count(gelu) == mlps and ops.count("LinearGeluFp8") == 0
    norms = ops.count("GateResidualNormFp8")
    assert norms == (mlps + 2 if fuse_norms else 0)
    assert ops.count("LinearFp8In") == mlps + (2 if fuse_norms else 0)
    made = {o for n in nodes if n.op_type in (gelu, "GateResidualNormFp8") for o in n.output}
    taken = [n.input[0] for n in nodes if n.op_type in ("LinearFp8In", "LinearGeluFp8InOut")]
    assert taken and all(t in made for t in taken)


def test_fp8_groups_keep_each_mlp_whole():
    torch, model, _ = _small_model()
    from ditserve_train import fp8

    groups = fp8.groups(model)
    # qkv of all four streams, proj and the MLP of the three that are not pre-only
    assert len(groups) == 4 + 2 * 3 and groups["blocks.0.image.mlp"] == ("blocks.0.image.fc1", "blocks.0.image.fc2")
    assert sorted(n for names in groups.values() for n in names) == sorted(fp8.linears(model))


def test_fp8_choose_keeps_the_output_within_its_target():
    torch, model, args = _small_model()
    from ditserve_train import fp8
    from ditserve_train.fused_ops import patch

    with torch.no_grad():
        want = model(*args)
        amax, macs = fp8.calibrate(model, args), fp8.macs(model, args)
        assert macs["blocks.0.image.fc1"] == 2 * 16 * 128 * 384  # batch 2 x 16 patches, 128 -> 3 x 128
        patched = patch(model, linear_gelu=True)
        everything = fp8.relative_l2(fp8.attach(patched, amax, fuse_mlp=True, fuse_norms=True)(*args), want)
        fp8.clear(patched)
        target = everything / 2
        chosen = fp8.choose(patched, args, amax, target, macs)
        assert 0 < len(chosen) < len(fp8.groups(model))
        assert fp8.relative_l2(patched(*args), want) < 1e-4  # choose leaves no layer FP8
        got = fp8.relative_l2(fp8.attach_groups(patched, amax, chosen)(*args), want)
        assert 1e-4 < got < target * 1.25  # the squares add only about: a quarter over, at most


def test_e4m3_rounding_saturates_and_rounds_to_even():
    torch = pytest.importorskip("torch")
    from ditserve_train.fp8 import quantize

    x = torch.tensor([1000.0, -500.0, 1.0625, 1.1875, 2.0**-10])
    # 1.0625 lies halfway between 1 and 1.125: to the even mantissa (1.0); 1.1875 to 1.25.
    assert quantize(x, 1.0).tolist() == [448.0, -448.0, 1.0, 1.25, 0.0]


def test_e4m3_bytes_round_trip_every_finite_code():
    torch = pytest.importorskip("torch")
    from ditserve_train.fp8 import e4m3_round, from_bytes, to_bytes
    from ditserve_train.fused_ops_graphs import e4m3_values

    codes = torch.arange(256)
    finite = [c for c in range(256) if c not in (0x7F, 0x80, 0xFF)]  # the NaNs, and -0 (written as 0)
    values = from_bytes(codes)[finite]
    assert values.tolist() == e4m3_values()[finite].tolist()  # the fixtures' own table
    assert to_bytes(values).tolist() == finite
    assert torch.equal(e4m3_round(values), values)


def test_models_the_kernels_cannot_take_are_refused():
    pytest.importorskip("torch")
    from ditserve_train.fused_ops import patch
    from ditserve_train.models.mmdit import MMDiT, MMDiTConfig

    with pytest.raises(ValueError, match="head_dim 32"):
        patch(MMDiT(MMDiTConfig(hidden_size=128, num_heads=4)))


def test_blocks_patched_one_by_one_where_layers_sit_between_them():
    torch, model, args = _small_model()
    from ditserve_train.fused_ops import patch
    from ditserve_train.models.mmdit import MMDiT

    class Between(MMDiT):  # a layer after every block, as the video model has
        def _after_block(self, i, x, ctx):
            return x * (1.0 + 0.1 * i)

    other = Between(model.cfg)
    other.load_state_dict(model.state_dict())
    other.eval()
    with torch.no_grad():
        want = other(*args)
        got = patch(other)(*args)
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5), (got - want).abs().max()

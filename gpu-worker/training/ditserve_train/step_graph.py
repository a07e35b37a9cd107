"""The denoising step as one ONNX graph: transformer + classifier-free guidance + Euler update.

    python3 -m ditserve_train.step_graph --model models/shapes-mmdit-s

writes `transformer/step.onnx` and `transformer/step.fp16.onnx` beside the transformer graphs
they wrap (the weights stay in the transformer's `weights.bin`, which both files reference), so
one run moves every sample of a batch one step and the latents never leave the device between
steps. Everything is per sample, so samples at different steps, with different schedules and
guidance, share one run (continuous batching):

    inputs   latents                [batch, C, height, width]   x_i of each sample
             sigma, sigma_next      [batch]                      σ_i and σ_{i+1} of each sample
             guidance_scale         [batch]                      g of each sample
             encoder_hidden_states  [2, batch, L, D]             [cond, uncond] text of each sample
             pooled_projections     [2, batch, D]
    output   latents_next           [batch, C, height, width]
             x_{i+1} = x_i + (σ_{i+1} − σ_i)·(v_u + g·(v_c − v_u)),  v = transformer(x_i, σ_i·T, text)

A slot that holds no sample is a sample with σ_{i+1} = σ_i: it stays as it is. The per-sample
inputs are all indexed by the leading `batch` axis and broadcast over the rest of the latent, so
a frame axis (video latents [batch, C, frames, h, w]) or a per-sample adapter index adds inputs
without changing these. A video transformer's further inputs (cond_latents [batch, C, frames, h,
w], cond_mask [batch, frames]: the given frames of image-to-video and extension) become inputs of
the step graph as they are, and both halves of the CFG batch take them. Only `batch`, `height`
and `width` (and a video's `frames`) are free: a session that fixes them
(onnxruntime's free-dimension overrides) constant-folds every shape computation, which is what
lets the CUDA provider capture the whole step as one CUDA graph.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from .step_fusions import fuse_all
from .wrapped_graphs import inner_nodes, write_variants

# The transformer's inputs and output (docs/model-format.md).
TRANSFORMER_INPUTS = ("hidden_states", "timestep", "encoder_hidden_states", "pooled_projections")
TRANSFORMER_OUTPUT = "sample"
STEP_FILES = {"model.onnx": "step.onnx", "model.fp16.onnx": "step.fp16.onnx"}
P = "step/"  # prefix of every value and node this module adds


def _dims(value: onnx.ValueInfoProto) -> list:
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def _input(name: str, dims: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def build_step_graph(transformer: onnx.ModelProto, num_train_timesteps: int) -> onnx.ModelProto:
    """Wraps `transformer` (loaded without its external data) into the step graph."""
    g = transformer.graph
    by_name = {i.name: i for i in g.input}
    missing = [n for n in TRANSFORMER_INPUTS if n not in by_name]
    if missing or [o.name for o in g.output] != [TRANSFORMER_OUTPUT]:
        raise ValueError(f"not a ditserve transformer graph (missing inputs {missing})")
    latent = _dims(by_name["hidden_states"])  # [batch, C, height, width] or [batch, C, frames, h, w]
    text = _dims(by_name["encoder_hidden_states"])[1:]  # [L, D]
    pooled = _dims(by_name["pooled_projections"])[1:]  # [D]
    rank = len(latent)
    # A video transformer's conditioning (cond_latents, cond_mask): per-sample inputs that both
    # halves of the CFG batch take as they are, as the sampler feeds them.
    extras = [i for i in g.input if i.name not in TRANSFORMER_INPUTS]
    if any(_dims(i)[:1] != latent[:1] for i in extras):
        raise ValueError("every further transformer input must lead with the batch axis")
    # The transformer's own names stay; its inputs and its output become inner values.
    inner, nodes = inner_nodes(g, (*TRANSFORMER_INPUTS, *(i.name for i in extras), TRANSFORMER_OUTPUT), P)

    def const(name: str, values: list, dtype=TensorProto.INT64) -> onnx.NodeProto:
        # int64 vectors (shapes) and float scalars
        dims = [len(values)] if dtype == TensorProto.INT64 else []
        t = helper.make_tensor(P + name, dtype, dims, values)
        return helper.make_node("Constant", [], [P + name], name=P + name, value=t)

    per_sample = [-1] + [1] * (rank - 1)  # [batch, 1, 1, 1]: broadcast over one sample
    pre = [
        const("per_sample_shape", per_sample),
        const("text_shape", [-1, *text]),
        const("pooled_shape", [-1, *pooled]),
        const("train_timesteps", [float(num_train_timesteps)], TensorProto.FLOAT),
        # Rows [cond_0 … cond_{B−1}, uncond_0 … uncond_{B−1}], as the sampler lays out CFG.
        helper.make_node("Concat", ["latents", "latents"], [inner["hidden_states"]], name=P + "rows", axis=0),
        helper.make_node("Concat", ["sigma", "sigma"], [P + "sigma_rows"], name=P + "sigma_rows", axis=0),
        helper.make_node("Mul", [P + "sigma_rows", P + "train_timesteps"], [inner["timestep"]], name=P + "timestep"),
        helper.make_node("Reshape", ["encoder_hidden_states", P + "text_shape"], [inner["encoder_hidden_states"]], name=P + "text"),
        helper.make_node("Reshape", ["pooled_projections", P + "pooled_shape"], [inner["pooled_projections"]], name=P + "pooled"),
        *(helper.make_node("Concat", [i.name, i.name], [inner[i.name]], name=P + i.name + "_rows", axis=0) for i in extras),
    ]
    post = [
        helper.make_node("Split", [inner["sample"]], [P + "v_cond", P + "v_uncond"], name=P + "split", axis=0),
        helper.make_node("Reshape", ["guidance_scale", P + "per_sample_shape"], [P + "g"], name=P + "g"),
        helper.make_node("Sub", [P + "v_cond", P + "v_uncond"], [P + "v_diff"], name=P + "v_diff"),
        helper.make_node("Mul", [P + "g", P + "v_diff"], [P + "v_scaled"], name=P + "v_scaled"),
        helper.make_node("Add", [P + "v_uncond", P + "v_scaled"], [P + "v"], name=P + "v"),
        helper.make_node("Sub", ["sigma_next", "sigma"], [P + "dt_flat"], name=P + "dt_flat"),
        helper.make_node("Reshape", [P + "dt_flat", P + "per_sample_shape"], [P + "dt"], name=P + "dt"),
        helper.make_node("Mul", [P + "dt", P + "v"], [P + "dx"], name=P + "dx"),
        helper.make_node("Add", ["latents", P + "dx"], ["latents_next"], name=P + "latents_next"),
    ]
    batch = latent[0]
    inputs = [
        _input("latents", latent),
        _input("sigma", [batch]),
        _input("sigma_next", [batch]),
        _input("guidance_scale", [batch]),
        _input("encoder_hidden_states", [2, batch, *text]),
        _input("pooled_projections", [2, batch, *pooled]),
        *extras,
    ]
    graph = helper.make_graph(
        pre + nodes + post,
        "ditserve_step",
        inputs,
        [_input("latents_next", latent)],
        initializer=list(g.initializer),
        value_info=[v for v in g.value_info if v.name not in inner],
    )
    model = helper.make_model(graph, opset_imports=list(transformer.opset_import), producer_name="ditserve")
    model.ir_version = transformer.ir_version
    helper.set_model_props(model, {"ditserve.step": "euler-cfg", "ditserve.num_train_timesteps": str(num_train_timesteps)})
    return model


def write_step_graphs(model_dir: Path, fuse: bool = True) -> list[Path]:
    """Writes the step graph of each transformer variant in `model_dir` (its model-folder layout)."""
    folder = model_dir / "transformer"
    config = json.loads((folder / "config.json").read_text())

    def build(transformer: onnx.ModelProto, target: str) -> onnx.ModelProto:
        step = build_step_graph(transformer, int(config["num_train_timesteps"]))
        if fuse:
            counts = fuse_all(step, int(config["num_heads"]), str(folder))
            print(f"{target}: fused " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        return step

    return write_variants(folder, STEP_FILES, build)

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder (models/<name>)")
    ap.add_argument("--no-fuse", action="store_true", help="write the graphs as exported (step_fusions.py)")
    a = ap.parse_args()
    for path in write_step_graphs(a.model, fuse=not a.no_fuse):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

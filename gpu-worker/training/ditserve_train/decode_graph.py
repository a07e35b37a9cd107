"""The sampler's last step as one ONNX graph: un-scale the latents, decode, and make uint8 pixels.

    python3 -m ditserve_train.decode_graph --model models/shapes-mmdit-s

writes `vae_decoder/decode.onnx` and `vae_decoder/decode.fp16.onnx` beside the decoder graphs
they wrap (the weights stay in the decoder's `weights.bin`, which both files reference):

    input    latents   float32 [batch, C, h, w]       what the denoising loop ends with
    output   pixels    uint8   [batch, H, W, 3]       RGB, row-major, what the API encodes

    pixels = floor(clamp((decoder(latents / scaling_factor + shift_factor) + 1) / 2, 0, 1) · 255 + 0.5)

The conversion is the one docs/model-format.md gives for the host (pixels.ts), in float32 here
instead of float64, so a value within one float32 rounding of a level's edge may land one level
off. On CUDA that is far below what fp16 already changes, and it saves the host the per-value
loop over every output (3·H·W values an image, the largest array of a call) and 3/4 of the
read-back. The CPU keeps the host conversion, whose bytes the Python reference reproduces.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from .wrapped_graphs import inner_nodes, write_variants

DECODER_INPUT = "latent_sample"
DECODER_OUTPUT = "sample"
DECODE_FILES = {"model.onnx": "decode.onnx", "model.fp16.onnx": "decode.fp16.onnx"}
P = "decode/"  # prefix of every value and node this module adds


def build_decode_graph(decoder: onnx.ModelProto, scaling_factor: float, shift_factor: float) -> onnx.ModelProto:
    """Wraps `decoder` (loaded without its external data) into the decode graph."""
    g = decoder.graph
    if [i.name for i in g.input] != [DECODER_INPUT] or [o.name for o in g.output] != [DECODER_OUTPUT]:
        raise ValueError("not a ditserve VAE decoder graph")
    dims = [d.dim_param or d.dim_value for d in g.input[0].type.tensor_type.shape.dim]  # [batch, C, h, w]
    inner, nodes = inner_nodes(g, (DECODER_INPUT, DECODER_OUTPUT), P)

    def scalar(name: str, value: float) -> onnx.NodeProto:
        t = helper.make_tensor(P + name, TensorProto.FLOAT, [], [value])
        return helper.make_node("Constant", [], [P + name], name=P + name, value=t)

    def op(kind: str, inputs: list[str], output: str, **attrs) -> onnx.NodeProto:
        return helper.make_node(kind, inputs, [output], name=output, **attrs)

    pre = [
        scalar("scaling_factor", scaling_factor),
        scalar("shift_factor", shift_factor),
        op("Div", ["latents", P + "scaling_factor"], P + "unscaled"),
        op("Add", [P + "unscaled", P + "shift_factor"], inner[DECODER_INPUT]),
    ]
    post = [
        scalar("one", 1.0),
        scalar("half", 0.5),
        scalar("zero", 0.0),
        scalar("levels", 255.0),
        op("Add", [inner[DECODER_OUTPUT], P + "one"], P + "shifted"),
        op("Mul", [P + "shifted", P + "half"], P + "unit"),
        op("Clip", [P + "unit", P + "zero", P + "one"], P + "clamped"),
        op("Mul", [P + "clamped", P + "levels"], P + "scaled"),
        op("Add", [P + "scaled", P + "half"], P + "offset"),
        op("Floor", [P + "offset"], P + "rounded"),
        op("Cast", [P + "rounded"], P + "bytes", to=TensorProto.UINT8),
        op("Transpose", [P + "bytes"], "pixels", perm=[0, 2, 3, 1]),
    ]
    out = helper.make_tensor_value_info("pixels", TensorProto.UINT8, [dims[0], "image_height", "image_width", 3])
    graph = helper.make_graph(
        pre + nodes + post,
        "ditserve_decode",
        [helper.make_tensor_value_info("latents", TensorProto.FLOAT, dims)],
        [out],
        initializer=list(g.initializer),
        value_info=[v for v in g.value_info if v.name not in inner],
    )
    model = helper.make_model(graph, opset_imports=list(decoder.opset_import), producer_name="ditserve")
    model.ir_version = decoder.ir_version
    helper.set_model_props(model, {"ditserve.decode": "rgb8-hwc"})
    return model


def write_decode_graphs(model_dir: Path) -> list[Path]:
    """Writes the decode graph of each VAE decoder variant in `model_dir` (its model-folder layout)."""
    folder = model_dir / "vae_decoder"
    config = json.loads((folder / "config.json").read_text())
    scaling, shift = float(config["scaling_factor"]), float(config["shift_factor"])
    return write_variants(folder, DECODE_FILES, lambda decoder, _: build_decode_graph(decoder, scaling, shift))

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder (models/<name>)")
    a = ap.parse_args()
    for path in write_decode_graphs(a.model):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

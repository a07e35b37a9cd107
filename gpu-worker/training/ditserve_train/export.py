"""ONNX export of the three components (fp32 for CPU, fp16 for CUDA) and the parity check.

Both variants take and return float32 (the fp16 graph casts at its edges), so callers never
convert; both read one fp16 weights file per component (shared_weights.py). Names and shapes follow docs/model-format.md.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .shared_weights import share_weights

OPSET = 17


class _Fp16Edges(nn.Module):
    """Runs a module in fp16 but keeps float32 inputs and outputs (ids stay int64)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner.half()

    def forward(self, *args):
        out = self.inner(*[a.half() if a.is_floating_point() else a for a in args])
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()


class _Decoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.decoder = vae.decoder

    def forward(self, latent_sample):
        return self.decoder(latent_sample)


SPECS = {
    "text_encoder": {
        "inputs": ["input_ids"], "outputs": ["last_hidden_state", "pooled_output"],
        "dynamic": {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooled_output": {0: "batch"}},
    },
    "transformer": {
        "inputs": ["hidden_states", "timestep", "encoder_hidden_states", "pooled_projections"], "outputs": ["sample"],
        "dynamic": {"hidden_states": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                    "encoder_hidden_states": {0: "batch"}, "pooled_projections": {0: "batch"},
                    "sample": {0: "batch", 2: "height", 3: "width"}},
    },
    "vae_decoder": {
        "inputs": ["latent_sample"], "outputs": ["sample"],
        "dynamic": {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "height", 3: "width"}},
    },
}


def example_inputs(te, dit, vae, batch: int = 2, h: int = 16, w: int = 16, seed: int = 0) -> dict[str, tuple]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, te.cfg.vocab_size, (batch, te.cfg.max_length), generator=g)
    ids[:, 0], ids[:, 10], ids[:, 11:] = 2, 3, 0
    c, d = dit.cfg.in_channels, te.cfg.hidden_size
    return {
        "text_encoder": (ids,),
        "transformer": (torch.randn(batch, c, h, w, generator=g), torch.rand(batch, generator=g) * 1000,
                        torch.randn(batch, te.cfg.max_length, d, generator=g), torch.randn(batch, d, generator=g)),
        "vae_decoder": (torch.randn(batch, vae.cfg.latent_channels, h, w, generator=g),),
    }


def export_one(module: nn.Module, name: str, args: tuple, path: Path, specs: dict = SPECS) -> None:
    spec = specs[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(module, args, str(path), input_names=spec["inputs"], output_names=spec["outputs"],
                      dynamic_axes=spec["dynamic"], opset_version=OPSET, dynamo=False)


def export_all(te, dit, vae, folder: Path, fp16_device: torch.device | None) -> tuple[dict[str, int], dict]:
    """Writes <component>/model.onnx (+ model.fp16.onnx when a device for fp16 is given), their
    shared weights.bin (shared_weights.py) and configs. Returns (parameter counts, file report)."""
    modules = {"text_encoder": te, "transformer": dit, "vae_decoder": _Decoder(vae)}
    configs = {"text_encoder": te.cfg.to_json(), "transformer": dit.cfg.to_json(), "vae_decoder": vae.cfg.to_json()}
    sizes, files = {}, {}
    for name, mod in modules.items():
        cpu = copy.deepcopy(mod).float().cpu().eval()
        args = example_inputs(te, dit, vae)[name]
        export_one(cpu, name, args, folder / name / "model.onnx")
        if fp16_device is not None:
            half = _Fp16Edges(copy.deepcopy(mod).to(fp16_device)).eval()
            export_one(half, name, tuple(a.to(fp16_device) for a in args), folder / name / "model.fp16.onnx")
        files[name] = share_weights(folder / name)
        (folder / name / "config.json").write_text(json.dumps(configs[name], indent=2) + "\n")
        sizes[name] = sum(p.numel() for p in mod.parameters())
    return sizes, files


def parity(te, dit, vae, folder: Path) -> dict:
    """Max abs error of onnxruntime (CPU) vs PyTorch fp32 (CPU), per component and variant."""
    modules = {"text_encoder": te, "transformer": dit, "vae_decoder": _Decoder(vae)}
    cpu = {name: copy.deepcopy(mod).float().cpu().eval() for name, mod in modules.items()}
    return ort_parity(folder, SPECS, cpu, lambda shape: example_inputs(te, dit, vae, *shape, seed=sum(shape)),
                      ((3, 16, 16), (2, 16, 24), (1, 24, 16)))


def ort_parity(folder: Path, specs: dict, modules: dict[str, nn.Module], inputs, shapes) -> dict:
    """{"<component>/<variant>": max abs error and max abs value} of each exported variant in
    folder against the fp32 CPU modules, over inputs(shape)[component] for every shape."""
    import onnxruntime as ort

    report: dict = {}
    for name, mod in modules.items():
        for shape in shapes:
            args = inputs(shape)[name]
            with torch.no_grad():
                ref = mod(*args)
            ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))]
            feeds = {k: a.numpy() for k, a in zip(specs[name]["inputs"], args)}
            for variant in ("model.onnx", "model.fp16.onnx"):
                path = folder / name / variant
                if not path.exists():
                    continue
                key = f"{name}/{variant}"
                try:
                    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                    outs = sess.run(None, feeds)
                except Exception as exc:  # fp16 kernels are missing on some CPU builds
                    report[key] = {"error": str(exc).splitlines()[0][:200]}
                    continue
                err = max(float(np.abs(o - r).max()) for o, r in zip(outs, ref))
                scale = max(float(np.abs(r).max()) for r in ref)
                prev = report.get(key, {"max_abs_error": 0.0, "max_abs_value": 0.0})
                report[key] = {"max_abs_error": max(prev["max_abs_error"], err), "max_abs_value": max(prev["max_abs_value"], scale)}
    return report

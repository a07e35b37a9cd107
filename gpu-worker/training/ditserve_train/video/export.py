"""ONNX export of the video model folder (fp32 for CPU, fp16 for CUDA) and its parity check.

The text encoder and the VAE decoder keep the image model's IO (export.SPECS). The transformer
takes the latent video [B, C, F, h, w] plus the given frames (cond_latents, cond_mask) and ends
with model.given_frame_velocity, in float32 outside the fp16 body, so a sampler needs no special
case for given frames. The VAE encoder (image-to-video, extension) returns the scaled latent mean.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from torch import nn

from ..export import SPECS as IMAGE_SPECS, _Decoder, _Fp16Edges, export_one, ort_parity
from ..shared_weights import share_weights
from .model import given_frame_velocity

_VIDEO = {0: "batch", 2: "frames", 3: "height", 4: "width"}
SPECS = {
    "text_encoder": IMAGE_SPECS["text_encoder"],
    "vae_decoder": IMAGE_SPECS["vae_decoder"],
    "transformer": {
        "inputs": ["hidden_states", "timestep", "encoder_hidden_states", "pooled_projections", "cond_latents", "cond_mask"],
        "outputs": ["sample"],
        "dynamic": {"hidden_states": _VIDEO, "timestep": {0: "batch"}, "encoder_hidden_states": {0: "batch"},
                    "pooled_projections": {0: "batch"}, "cond_latents": _VIDEO, "cond_mask": {0: "batch", 1: "frames"},
                    "sample": _VIDEO},
    },
    "vae_encoder": {
        "inputs": ["sample"], "outputs": ["latent_sample"],
        "dynamic": {"sample": {0: "batch", 2: "height", 3: "width"}, "latent_sample": {0: "batch", 2: "height", 3: "width"}},
    },
}


class _Transformer(nn.Module):
    """The shipped transformer graph: the body (fp32, or fp16 with float32 edges) + the exact
    velocity at given frames, computed in float32."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, hidden_states, timestep, encoder_hidden_states, pooled_projections, cond_latents, cond_mask):
        v = self.body(hidden_states, timestep, encoder_hidden_states, pooled_projections, cond_latents, cond_mask)
        return given_frame_velocity(v.float(), hidden_states, timestep, cond_latents, cond_mask)


class _Encoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.encoder, self.cfg = vae.encoder, vae.cfg

    def forward(self, sample):
        mean, _ = self.encoder(sample)
        return (mean - self.cfg.shift_factor) * self.cfg.scaling_factor


def example_inputs(te, dit, vae, batch: int = 2, frames: int = 4, h: int = 16, w: int = 16, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, te.cfg.vocab_size, (batch, te.cfg.max_length), generator=g)
    ids[:, 0], ids[:, 10], ids[:, 11:] = 2, 3, 0
    c, d = dit.cfg.in_channels, te.cfg.hidden_size
    mask = torch.zeros(batch, frames)
    mask[0, 0] = 1
    x = torch.randn(batch, c, frames, h, w, generator=g)
    cond = torch.randn(batch, c, frames, h, w, generator=g) * mask[:, None, :, None, None]
    f = vae.cfg.downsample_factor
    return {
        "text_encoder": (ids,),
        "transformer": (x, torch.rand(batch, generator=g) * 900 + 50, torch.randn(batch, te.cfg.max_length, d, generator=g),
                        torch.randn(batch, d, generator=g), cond, mask),
        "vae_decoder": (torch.randn(batch, vae.cfg.latent_channels, h, w, generator=g),),
        "vae_encoder": (torch.rand(batch, 3, h * f, w * f, generator=g) * 2 - 1,),
    }


def _modules(te, dit, vae, half: bool, device) -> dict[str, nn.Module]:
    def body(m):
        m = copy.deepcopy(m)
        return _Fp16Edges(m.to(device)).eval() if half else m.float().cpu().eval()

    return {"text_encoder": body(te), "transformer": _Transformer(body(dit)).eval(),
            "vae_decoder": body(_Decoder(vae)), "vae_encoder": body(_Encoder(vae))}


def export_video(te, dit, vae, folder: Path, fp16_device: torch.device | None) -> tuple[dict[str, int], dict]:
    """Writes the four components' model.onnx (+ model.fp16.onnx), weights.bin and config.json."""
    configs = {"text_encoder": te.cfg.to_json(), "transformer": dit.cfg.to_json(), "vae_decoder": vae.cfg.to_json(),
               "vae_encoder": {**vae.cfg.to_json(), "_class_name": "VaeEncoder"}}
    variants = [("model.onnx", False)] + ([("model.fp16.onnx", True)] if fp16_device is not None else [])
    for variant, half in variants:
        dev = fp16_device if half else torch.device("cpu")
        for name, mod in _modules(te, dit, vae, half, fp16_device).items():
            args = tuple(a.to(dev) for a in example_inputs(te, dit, vae)[name])
            export_one(mod, name, args, folder / name / variant, SPECS)
    files, sizes = {}, {}
    params = {"text_encoder": te, "transformer": dit, "vae_decoder": vae.decoder, "vae_encoder": vae.encoder}
    for name in SPECS:
        files[name] = share_weights(folder / name)
        (folder / name / "config.json").write_text(json.dumps(configs[name], indent=2) + "\n")
        sizes[name] = sum(p.numel() for p in params[name].parameters())
    return sizes, files


def parity(te, dit, vae, folder: Path) -> dict:
    """Max abs error of onnxruntime (CPU) against PyTorch fp32 (CPU), per component and variant."""
    return ort_parity(folder, SPECS, _modules(te, dit, vae, False, None),
                      lambda shape: example_inputs(te, dit, vae, *shape, seed=sum(shape)),
                      ((3, 4, 16, 16), (2, 8, 16, 24), (1, 2, 24, 16)))

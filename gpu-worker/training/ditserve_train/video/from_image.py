"""The video model's starting point: the repository's own image model (models/<name>/), as every
published video DiT starts from an image model.

The image model already draws the shapes, colors, places and backgrounds from text; the video
command then only has to teach time. What is taken, and how it is fitted to the video model:
- text encoder: every weight; each image word's embedding moves to its id in the video
  tokenizer, the motion words start at their random initialisation;
- VAE decoder: every weight, frozen, with the image model's latent scaling and shift (the DiT's
  latents are that decoder's); the encoder that image-to-video needs is not shipped with the image
  model and is trained against it (train_vae.py);
- transformer: the embeddings, the final layer and the joint blocks (the video model's last block
  is the image model's last, the one with the pre-only text stream; a shallower video model drops
  the image model's blocks before it). A spacetime patch of `temporal_patch` frames starts as the
  mean of the image patch over its frames, and each frame of an output patch as the image output;
  the conditioning channels and the temporal positions start at zero. So, at the start, every
  frame of a clip is denoised as the image model would denoise it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..models.mmdit import MMDiT, MMDiTConfig
from ..models.text_encoder import TextEncoder, TextEncoderConfig
from ..models.vae import Vae, VaeConfig
from ..manifest import read_config
from ..onnx_weights import load_component
from ..tokenizer import WordTokenizer
from .model import VideoMMDiT

MODELS = Path(__file__).resolve().parents[4] / "models"


def image_model_dir(name: str) -> Path:
    """models/<name> of the repository (a path is taken as it is)."""
    p = Path(name)
    return p if p.is_dir() else MODELS / name


# Components checked against their graphs, by folder (the run logs it; False: no evaluator).
CHECKED: dict[str, bool] = {}


def _load(module, folder: Path, example) -> None:
    CHECKED[folder.name] = load_component(module, folder, example)


def load_image_vae(folder: Path) -> Vae:
    """A Vae with the image model's trained decoder and latent factors (its encoder untrained)."""
    vae = Vae(VaeConfig(**read_config(folder, "vae_decoder")))
    _load(vae.decoder, folder / "vae_decoder", (torch.randn(1, vae.cfg.latent_channels, 8, 8),))
    return vae


def _image_text_encoder(folder: Path) -> TextEncoder:
    te = TextEncoder(TextEncoderConfig(**read_config(folder, "text_encoder")))
    _load(te, folder / "text_encoder", (torch.tensor([[2, 5, 9, 14, 3] + [0] * (te.cfg.max_length - 5)]),))
    return te


def _image_transformer(folder: Path) -> MMDiT:
    dit = MMDiT(MMDiTConfig(**read_config(folder, "transformer")))
    c = dit.cfg
    g = torch.Generator().manual_seed(0)
    _load(dit, folder / "transformer", (torch.randn(1, c.in_channels, 8, 8, generator=g), torch.tensor([500.0]),
                                        torch.randn(1, 32, c.joint_attention_dim, generator=g),
                                        torch.randn(1, c.pooled_projection_dim, generator=g)))
    return dit


def block_sources(video_depth: int, image_depth: int) -> list[int]:
    """Which image block starts each video block: the first ones in order, the last from the last."""
    if not 1 <= video_depth <= image_depth:
        raise ValueError(f"a video model of depth {video_depth} cannot start from an image model of depth {image_depth}")
    return [*range(video_depth - 1), image_depth - 1]


def image_vocab(folder: Path) -> dict[str, int]:
    return WordTokenizer.load(folder / "tokenizer").vocab


@torch.no_grad()
def init_text_encoder(te: TextEncoder, vocab: dict[str, int], folder: Path) -> None:
    """te (over `vocab`) from the image model's text encoder; each image word's row moves to its
    id in `vocab`."""
    src = _image_text_encoder(folder).state_dict()
    own = te.state_dict()
    for k, v in src.items():
        if k == "tok.weight":
            for word, i in image_vocab(folder).items():
                if word in vocab:
                    own[k][vocab[word]] = v[i]
        else:
            own[k].copy_(v)
    te.load_state_dict(own)


@torch.no_grad()
def init_transformer(dit: VideoMMDiT, folder: Path) -> None:
    img = _image_transformer(folder)
    ic, vc = img.cfg, dit.cfg
    for key in ("hidden_size", "num_heads", "mlp_ratio", "ada_rank", "joint_attention_dim", "patch_size", "in_channels"):
        if getattr(ic, key) != getattr(vc, key):
            raise ValueError(f"the image model's {key} is {getattr(ic, key)}, the video model's {getattr(vc, key)}")
    src, own = img.state_dict(), dit.state_dict()
    for k in own:
        if k.startswith(("t_embed.", "pooled_embed.", "context_embed.", "final_ada.")):
            own[k].copy_(src[k])
    for v_i, i_i in enumerate(block_sources(vc.depth, ic.depth)):
        for k in own:
            if k.startswith(f"blocks.{v_i}."):
                own[k].copy_(src[f"blocks.{i_i}." + k[len(f"blocks.{v_i}."):]])
    d, c, p, pt = vc.hidden_size, vc.in_channels, vc.patch_size, vc.temporal_patch
    # Patch embedding: input features (channel, frame, y, x) of [noisy | given | mask] channels.
    w = own["patch.weight"].view(d, vc.cond_channels, pt, p, p)
    w.zero_()
    w[:, :c] = src["patch.weight"].view(d, c, 1, p, p) / pt
    own["patch.bias"].copy_(src["patch.bias"])
    # Output: the image's rows are (y, x, channel), the video's (channel, frame, y, x).
    wf = src["final.weight"].view(p, p, c, d).permute(2, 0, 1, 3)  # [c, y, x, d]
    bf = src["final.bias"].view(p, p, c).permute(2, 0, 1)
    own["final.weight"].copy_(wf[:, None].expand(c, pt, p, p, d).reshape(-1, d))
    own["final.bias"].copy_(bf[:, None].expand(c, pt, p, p).reshape(-1))
    own["time_pos.weight"].zero_()
    own["time_pos.bias"].zero_()
    dit.load_state_dict(own)

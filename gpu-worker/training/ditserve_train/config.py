"""Run configurations: one dataclass per command and per training phase, filled from the command line.

Every default is written once, here. A field made with `flag(...)` is a command-line option (its
flag, default and help come from the field); the other fields are the recipe, changed in code.
`EXPERIMENTS.md` beside this package records the runs that chose these values.

This module imports neither torch nor numpy, so the command line can be parsed (and tested)
without the GPU stack.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Sequence, TypeVar

T = TypeVar("T")

# The whole run's budget in seconds (retrain.sh passes DITSERVE_TRAIN_SECONDS when it is set): it
# keeps the one GPU command, start-up and export included, under 10 minutes.
DEFAULT_SECONDS = 500.0


def flag(name: str, default: Any = MISSING, help: str = "", type: Any = None) -> Any:
    """A dataclass field that is also the command-line option `name` (required without a default)."""
    meta = {"flag": name, "help": help, "type": type}
    return field(metadata=meta) if default is MISSING else field(default=default, metadata=meta)


@dataclass
class VaeRun:
    """Phase 1, the VAE (train_vae.py)."""

    seconds: float = flag("--vae-seconds", 55.0, "wall-clock budget of the VAE phase")
    # An encoder alone, for a trained decoder (the video model's, from the image model's VAE).
    encoder_seconds: float = 30.0
    batch_size: int = flag("--vae-batch", 64, "VAE batch size")
    lr: float = 1.5e-3  # peak; cosine decay to zero over the phase
    warmup_steps: int = 200
    graphs: bool = True  # each step as a CUDA graph (graphs.py); CPU runs are eager regardless


@dataclass
class DitRun:
    """Phase 2, the text encoder and the MMDiT trained jointly (train_dit.py)."""

    # The phase's wall-clock budget: run.py sets it to what the whole run's budget leaves after the
    # VAE and before the post-training reserve.
    seconds: float = 0.0
    batch_size: int = flag("--batch", 512, "text encoder + MMDiT batch size")
    # Patch 2 (8x8 tokens at 128x128). Patch 1 has 4x the tokens and trains at ~40% of the
    # samples/s; in the time budget it lost more on positions than it gained on counting.
    patch_size: int = 2
    # Width rather than depth: a narrow step leaves the GPU mostly idle (elementwise kernels
    # dominate at d=128; d=192 took 1.4x the step time for 2.25x the FLOPs), so width costs far
    # less time than it adds capacity, while the same parameters spent on depth gave fewer steps
    # and worse scores. Rank-64 adaLN projections (MMDiTConfig.ada_rank) pay for width 256, and
    # the fp16 shared weights (shared_weights.py) keep the model folder under 25 MB.
    hidden_size: int = 256
    depth: int = 6
    num_heads: int = 4
    ada_rank: int = 64
    te_layers: int = 4
    lr: float = 1e-3  # ~2e-3 x 128/width: Adam's step per weight shrinks with width
    ema_decay: float = 0.999
    val_every_s: float = 90.0
    patience: int = 3
    # Optimizer steps per rendered+encoded batch (data echoing; fresh t and noise each). Encoding a
    # batch costs ~15% of a step at echo 4; at 8 a run still sees ~750k distinct scenes.
    echo: int = 8
    mode: str = "graph"  # CUDA: "graph" (CUDA graphs, graphs.py), "compile" (static per bucket) or "eager"
    warmup_steps: int = 300
    decay_frac: float = 0.4  # cosine decay of the lr over the last part of the time budget
    steps: int = 20
    guidance: float = 4.5  # for validation during training; the guidance sweep (RunConfig.sweep) picks the shipped one
    shift: float = 3.0
    # Training-time shift of the logit-normal t towards noise (1 = none). The sampler's shift 3 spends
    # half its steps at sigma > 0.75, where layout, counts and relations are decided, but logit-normal
    # t puts only ~14% of training there; shift 2 puts ~34% there (median t 0.67).
    t_shift: float = 2.0
    # Auxiliary layout loss (layout_loss.py): weight, and after how many blocks the head reads the
    # image tokens (REPA found about a third of the depth best). 0 turns it off. The flow loss alone
    # teaches shape identity and color attribution poorly; this loss is what fixed both.
    aux_weight: float = 0.1
    aux_tap: int = 2


@dataclass
class RunConfig:
    """The one command (run.py): VAE -> text encoder + MMDiT -> guidance pick -> test -> export -> card."""

    out: Path = flag("--out", help="output folder: model/<name>/ to ship, golden/ test vectors, training/ logs",
                     type=Path)
    name: str = flag("--name", "shapes-mmdit-s", "model name (its folder under <out>/model/)")
    seconds: float = flag("--seconds", DEFAULT_SECONDS, "wall-clock budget of the whole run")
    seed: int = flag("--seed", 20261126, "seed of the weights, the data and the layouts")
    workers: int = flag("--workers", 10, "CPU data workers (the detector pool gets the cores left)")
    val_per_category: int = flag("--val-per-category", 24, "validation prompts per ShapesEval category")
    test_per_category: int = flag("--test-per-category", 40, "test prompts per ShapesEval category")
    vae: VaeRun = field(default_factory=VaeRun)
    dit: DitRun = field(default_factory=DitRun)
    # Kept from the budget for what follows the DiT phase (guidance sweep, test eval, export,
    # parity, golden, card): ~70 s on an H200 at 10 M parameters; the onnxruntime (CPU) test pass
    # grows with the model and the chosen steps.
    post_training_reserve_s: float = 85.0
    test_seeds: int = 4  # images per test prompt
    # (sampler steps, guidance) candidates for the shipped defaults, scored on validation prompts.
    sweep: tuple[tuple[int, float], ...] = tuple((steps, g) for steps in (20, 32, 48) for g in (4.5, 6.0, 7.5))


@dataclass
class VideoDitRun:
    """The video model's phase 2: its text encoder and VideoMMDiT, trained jointly (video/train.py)."""

    seconds: float = 0.0  # set by video/run.py from what the budget leaves
    # A token budget: batch_size clips of 16 frames at 128x128; other buckets hold as many clips as
    # fit the same number of tokens (a 2-frame window: 8x as many).
    batch_size: int = flag("--batch", 64, "clips of 16 frames at 128x128 per batch (the token budget of every batch)")
    hidden_size: int = 256
    # Depth 5, not the image model's 6: the folder must stay under 25 MB with the VAE encoder that
    # image-to-video needs, and a 16-frame clip has 8x the image model's tokens on the CPU.
    depth: int = 5
    num_heads: int = 4
    ada_rank: int = 64
    te_layers: int = 4
    # text_attention.py's additions to the image model's blocks (runs 1-5 had neither).
    text_attention_dim: int = flag("--text-attention", 128,
                                   "width of each block's own attention to the text (0: none)")
    frame_text: bool = True
    # Half the image model's lr: the run starts from the image model (VideoRunConfig.from_image),
    # whose drawing should survive while the temporal weights grow from zero. Runs 4-5 (7e-4 with
    # the time positions at 4x, a motion-weighted loss) did no better (VIDEO_EXPERIMENTS.md).
    lr: float = 5e-4
    # The text pathway's lr, as a multiple of lr: runs 3-4's models move objects but ignore the
    # direction words (VIDEO_EXPERIMENTS.md); 1 = the same lr everywhere (runs 1-5).
    text_lr_scale: float = flag("--text-lr-scale", 1.0,
                                "lr multiple for the text encoder and the transformer's text and pooled-text embeddings")
    # What starts at zero in a run from the image model (time positions, text attention, frame
    # text) at a higher lr: in run 6 (1x) motion appeared only in the last quarter of the budget.
    new_lr_scale: float = flag("--new-lr-scale", 2.0,
                               "lr multiple for the time positions, text attention and per-frame text embedding")
    ema_decay: float = 0.999
    warmup_steps: int = 300
    decay_frac: float = 0.4
    echo: int = 4  # optimizer steps per rendered + encoded batch (a clip batch costs more to encode)
    mode: str = "graph"
    val_every_s: float = 75.0
    patience: int = 3
    steps: int = 24  # validation sampling steps
    guidance: float = 4.5
    shift: float = 3.0
    t_shift: float = 2.0
    # Share of training clips conditioned on their first frame (image-to-video) and on their first
    # extend_frames frames (extension); the rest are text-only.
    p_first_frame: float = 0.3
    p_extend: float = 0.2
    extend_frames: int = 4
    # The image model's layout loss on spacetime tokens (video/layout_targets.py); 0 turns it off.
    aux_weight: float = flag("--aux-weight", 0.1, "weight of the layout loss on spacetime tokens (0: off)")
    aux_tap: int = 2
    # Batch weight of each short window (clip_data.WINDOW_FRAMES) against FRAME_WEIGHTS' 6 for 16
    # frames; 0: whole clips only (run 1). Runs 2-6 had 4 (36% of batches); a run from the image
    # model already draws the shapes and learns motion only from whole clips, so 1 (12.5%).
    window_weight: float = 1.0
    # A first part of the DiT budget on short windows only (appearance before motion: a window
    # batch holds 8x the clips of a 16-frame batch), meant for runs from scratch (0.4, never run
    # on the GPU); a run from the image model already draws the shapes.
    appearance_frac: float = 0.0


@dataclass
class VideoRunConfig:
    """The video model's one command (video/run.py): VAE -> text encoder + VideoMMDiT -> defaults
    -> MotionEval on test prompts -> export -> card."""

    out: Path = flag("--out", help="output folder: model/<name>/ to ship, training/ logs", type=Path)
    name: str = flag("--name", "shapes-video-s", "model name (its folder under <out>/model/)")
    seconds: float = flag("--seconds", DEFAULT_SECONDS, "wall-clock budget of the whole run")
    seed: int = flag("--seed", 20261201, "seed of the weights and the data")
    workers: int = flag("--workers", 10, "CPU data workers (the MotionEval pool gets the cores left)")
    val_per_category: int = flag("--val-per-category", 16, "validation prompts per MotionEval category")
    test_per_category: int = flag("--test-per-category", 32, "test prompts per MotionEval category")
    # Runs 1-2 trained every component from scratch and learned colors and places but not shapes
    # in the budget (VIDEO_EXPERIMENTS.md); from_image.py says what is taken.
    from_image: str = flag("--from-image", "shapes-mmdit-s",
                           "start from this image model of models/ (or a folder); '' trains every component from scratch")
    # One GPU command has under 10 minutes; a longer training is several commands, each going on
    # from the last one's checkpoint (its VAE kept as it is, with a fresh warm-up and decay).
    resume: str = flag("--resume", "", "continue training from this checkpoint.pt of an earlier run ('' : none)")
    vae: VaeRun = field(default_factory=VaeRun)
    dit: VideoDitRun = field(default_factory=VideoDitRun)
    post_training_reserve_s: float = 110.0
    fps: int = 8
    frames: int = 16  # the default clip
    frame_range: tuple[int, int] = (8, 24)
    sweep: tuple[tuple[int, float], ...] = ((16, 4.5), (24, 4.5), (24, 6.0), (32, 6.0))


@dataclass
class ExportPerfConfig:
    """export_perf.py: the production-scale transformer's ONNX export."""

    out: Path = flag("--out", help="output folder (transformer/ and export_perf.json)", type=Path)
    latent: int = flag("--latent", 128, "latent side of the example input (1024 px / 8)")


def _nested(f) -> type | None:
    factory = f.default_factory
    return factory if factory is not MISSING and isinstance(factory, type) and is_dataclass(factory) else None


def add_flags(ap: argparse.ArgumentParser, cls: type, prefix: str = "") -> None:
    """Adds the flag fields of cls (and of its nested config dataclasses) to ap."""
    for f in fields(cls):
        if "flag" in f.metadata:
            name = f.metadata["flag"]
            kw: dict[str, Any] = {"dest": prefix + f.name, "metavar": name.lstrip("-").upper().replace("-", "_"),
                                  "help": f.metadata["help"] or None, "type": f.metadata["type"] or type(f.default)}
            if f.default is MISSING:
                kw.update(required=True, default=argparse.SUPPRESS)  # SUPPRESS: no "(default: None)" in --help
            else:
                kw["default"] = f.default
            ap.add_argument(name, **kw)
        elif (sub := _nested(f)) is not None:
            add_flags(ap, sub, f"{prefix}{f.name}.")


def from_namespace(cls: type[T], values: dict[str, Any], prefix: str = "") -> T:
    """The config cls with its flag fields taken from parsed values (the rest at their defaults)."""
    kw: dict[str, Any] = {}
    for f in fields(cls):
        if "flag" in f.metadata:
            kw[f.name] = values[prefix + f.name]
        elif (sub := _nested(f)) is not None:
            kw[f.name] = from_namespace(sub, values, f"{prefix}{f.name}.")
    return cls(**kw)


def changed_flags(cfg: Any, skip: tuple[str, ...] = ("--out", "--seconds")) -> list[str]:
    """The options (and values) of cfg's flag fields, nested ones included, that differ from their
    defaults: with the budget and the output folder (`skip`), what repeats the run."""
    out: list[str] = []
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if "flag" in f.metadata:
            if f.metadata["flag"] not in skip and (f.default is MISSING or value != f.default):
                out += [f.metadata["flag"], str(value)]
        elif _nested(f) is not None:
            out += changed_flags(value, skip)
    return out


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The description as written (it holds a command line); each option's default in its help."""


def parser(cls: type, description: str | None = None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description, formatter_class=_HelpFormatter)
    add_flags(ap, cls)
    return ap


def parse_args(cls: type[T], argv: Sequence[str] | None = None, description: str | None = None) -> T:
    """Parses argv (default: sys.argv[1:]) into the config dataclass cls."""
    return from_namespace(cls, vars(parser(cls, description).parse_args(argv)))

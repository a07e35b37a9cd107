"""What the image and the video command (run.py, video/run.py) do around their training phases:
the process set-up, the checkpoint, the pick of the shipped sampler defaults, and the results
written beside the shipped model folder."""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import shlex
import shutil
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .config import DEFAULT_SECONDS
from .detector import init_worker
from .log import Log

# What <out>/model/<name>/training/ ships of a run's logs and samples.
TRAINING_FILES = ("dit_curve.csv", "vae_curve.csv", "val_curve.csv", "results.json", "samples.png", "samples.txt")


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name() if device.type == "cuda" else "cpu"


def start(cfg) -> tuple:
    """(detector pool, device, log) of a run, its Python and NumPy seeds set."""
    # The detector pool is forked before CUDA starts, so its workers never touch the GPU.
    pool = mp.get_context("fork").Pool(max(2, (mp.cpu_count() or 4) - cfg.workers - 1), initializer=init_worker)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False  # evaluation and export are fp32
    torch.backends.cudnn.allow_tf32 = False
    log = Log(cfg.out / "training")
    log.event("start", argv=sys.argv, device=device_name(device), torch=torch.__version__)
    return pool, device, log


def _half(state: dict) -> dict:
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def save_checkpoint(out: Path, te, dit, vae) -> None:
    """out/checkpoint.pt: the (fp16-rounded) weights in fp16, half the bytes and the same numbers,
    so a checkpoint fits the GPU machine's transfers to continue a run (--resume)."""
    torch.save({"text_encoder": _half(te.state_dict()), "transformer": _half(dit.state_dict()),
                "vae": _half(vae.state_dict()),
                "configs": {"text_encoder": te.cfg.to_json(), "transformer": dit.cfg.to_json(), "vae": vae.cfg.to_json()}},
               out / "checkpoint.pt")


def load_checkpoint(path: Path) -> dict:
    """A save_checkpoint file (load_state_dict casts its fp16 tensors to each module's dtype)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def pick_defaults(sweep, score: Callable[[int, float, int], float], log: Log) -> tuple[dict, int, float]:
    """(mean score per "steps@guidance", steps, guidance) of the (steps, guidance) candidates,
    score(steps, guidance, seed0) on validation prompts only. Two seeds each: one seed of ~100
    prompts moves by ±0.05. More steps cost CPU time per sample, so a tie keeps fewer."""
    scores = {}
    for steps, g in sweep:
        runs = [score(steps, g, s) for s in (0, 10_000)]
        scores[f"{steps}@{g}"] = sum(runs) / len(runs)
    steps, guidance = max(sweep, key=lambda c: (round(scores[f"{c[0]}@{c[1]}"], 6), -c[0]))
    log.event("guidance_sweep", **scores, chosen=f"{steps}@{guidance}")
    return scores, steps, guidance


def retrain_command(seconds: float, script: str, flags: list[str] | None = None) -> str:
    """The command line that repeats a run of this budget and these options (config.changed_flags)."""
    budget = "" if seconds == DEFAULT_SECONDS else f"DITSERVE_TRAIN_SECONDS={seconds:g} "
    options = f"DITSERVE_TRAIN_FLAGS={shlex.quote(' '.join(flags))} " if flags else ""
    return f"{budget}{options}bash gpu-worker/training/{script}"


def write_results(out: Path, model_dir: Path, results: dict) -> None:
    """<out>/training/results.json, then TRAINING_FILES copied into the model folder."""
    (out / "training" / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    train_dir = model_dir / "training"
    train_dir.mkdir(exist_ok=True)
    for f in TRAINING_FILES:
        src = out / "training" / f if f.endswith((".csv", ".json")) else out / f
        if src.exists():
            shutil.copy(src, train_dir / f)

"""Writes the model folder's non-ONNX files: model_index.json, scheduler and tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

from .tokenizer import WordTokenizer
from .vocab import SIZES_PX, manifest_vocabulary

VERSION = "1.0.0"


def read_config(folder: Path, part: str) -> dict:
    """folder/part/config.json as keyword arguments of its config dataclass (lists as tuples)."""
    return config_kwargs(json.loads((folder / part / "config.json").read_text()))


def config_kwargs(cfg: dict) -> dict:
    """A component's config.json (a config's to_json()) as keyword arguments of its dataclass."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items() if k != "_class_name"}


def read_defaults(folder: Path) -> dict:
    """The generation defaults of a model folder's model_index.json (steps, guidance, size, ...)."""
    return json.loads((folder / "model_index.json").read_text())["ditserve"]["defaults"]


def read_shift(folder: Path) -> float:
    """The flow-matching shift of a model folder's scheduler."""
    return json.loads((folder / "scheduler" / "scheduler_config.json").read_text())["shift"]


def write_scheduler_and_tokenizer(folder: Path, tok: WordTokenizer, shift: float) -> None:
    """The two model-folder parts that the image and the video pipelines read alike."""
    (folder / "scheduler").mkdir(parents=True, exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(
        {"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": shift}, indent=2) + "\n")
    tok.save(folder / "tokenizer")


def write_manifest(folder: Path, name: str, tok: WordTokenizer, shift: float, defaults: dict, description: str) -> None:
    write_scheduler_and_tokenizer(folder, tok, shift)
    index = {
        "_class_name": "DitservePipeline",
        "scheduler": ["ditserve", "FlowMatchEulerDiscreteScheduler"],
        "tokenizer": ["ditserve", "WordLevelTokenizer"],
        "text_encoder": ["ditserve", "TextEncoder"],
        "transformer": ["ditserve", "MMDiT"],
        "vae_decoder": ["ditserve", "VaeDecoder"],
        "ditserve": {
            "name": name,
            "version": VERSION,
            "description": description,
            "defaults": defaults,
            "sizes": [list(s) for s in SIZES_PX],
            "vocabulary": manifest_vocabulary(),
            "variants": {"cpu": "model.onnx", "cuda": "model.fp16.onnx"},
            # Written by step_graph.py after the export (transformer + guidance + Euler update).
            "step_graph": {"cpu": "step.onnx", "cuda": "step.fp16.onnx"},
            # Written by decode_graph.py (un-scale + decoder + uint8 pixels); the CPU converts on the host.
            "decode_graph": {"cuda": "decode.fp16.onnx"},
        },
    }
    (folder / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")

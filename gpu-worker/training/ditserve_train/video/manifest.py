"""The video model folder's non-ONNX files: model_index.json, scheduler and tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

from ..manifest import VERSION, write_scheduler_and_tokenizer
from ..tokenizer import WordTokenizer
from ..vocab import SIZES_PX, manifest_vocabulary
from . import motions as M


def motion_vocabulary() -> dict:
    return {"directions": list(M.DIRECTIONS), "speeds": [s for s in M.SPEEDS if s != "normal"],
            "motions": ["move", "path", "still", "grow", "shrink", "color change", "apart", "together"]}


def write_video_manifest(folder: Path, name: str, tok: WordTokenizer, shift: float, defaults: dict,
                         description: str, extend_frames: int) -> None:
    write_scheduler_and_tokenizer(folder, tok, shift)
    index = {
        "_class_name": "DitserveVideoPipeline",
        "scheduler": ["ditserve", "FlowMatchEulerDiscreteScheduler"],
        "tokenizer": ["ditserve", "WordLevelTokenizer"],
        "text_encoder": ["ditserve", "TextEncoder"],
        "transformer": ["ditserve", "VideoMMDiT"],
        "vae_decoder": ["ditserve", "VaeDecoder"],
        "vae_encoder": ["ditserve", "VaeEncoder"],
        "ditserve": {
            "name": name,
            "version": VERSION,
            "description": description,
            "modality": "video",
            "defaults": defaults,
            "sizes": [list(s) for s in SIZES_PX],
            "video": {"frames": {"min": min(M.FRAME_COUNTS), "max": max(M.FRAME_COUNTS), "multiple_of": 2},
                      "fps": M.FPS, "image_to_video": True, "extend": True, "extend_context_frames": extend_frames},
            "vocabulary": {**manifest_vocabulary(), **motion_vocabulary()},
            "variants": {"cpu": "model.onnx", "cuda": "model.fp16.onnx"},
            # Written by step_graph.py after the export (transformer + guidance + Euler update).
            "step_graph": {"cpu": "step.onnx", "cuda": "step.fp16.onnx"},
            # Written by decode_graph.py (un-scale + decoder + uint8 pixels); the CPU converts on the host.
            "decode_graph": {"cuda": "decode.fp16.onnx"},
        },
    }
    (folder / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")

"""The video model's one command: VAE -> text encoder + VideoMMDiT -> defaults -> MotionEval on
test prompts (text-to-video, image-to-video, extension) -> ONNX export -> parity -> card.

    python3 -m ditserve_train.video.run --out /tmp/vrun --seconds 500   (retrain_video.sh)

Everything lands in <out>/model/<name>/ (the folder to ship) and <out>/training/ (logs).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..config import VideoRunConfig, changed_flags, parse_args
from ..decode_graph import write_decode_graphs
from ..flow import from_uint8, to_uint8
from ..manifest import config_kwargs
from ..models.vae import Vae, VaeConfig
from ..runs import device_name, load_checkpoint, pick_defaults, retrain_command, save_checkpoint, start, write_results
from ..shared_weights import round_to_fp16
from ..step_graph import write_step_graphs
from ..train_vae import train_vae
from ..vocab import SIZES_PX
from . import clips as C
from .card import write_video_card
from .clip_data import render_clips
from .export import export_video, parity
from .from_image import image_model_dir, load_image_vae
from .manifest import write_video_manifest
from .motion_eval import evaluate, format_table
from .pipeline import ClipRequest
from .tokenizer import video_tokenizer
from .train import train_video_dit, validate


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _vae_round_trip(vae, clips: list[np.ndarray], device) -> float:
    """Mean PSNR of VAE round trips of ground-truth frames (what image-to-video's frame 0 can reach)."""
    frames = np.concatenate([c[:1] for c in clips])
    x = from_uint8(frames, device)
    with torch.no_grad():
        rec = vae.decode_latents(vae.encode_latents(x))
    return float(np.mean([psnr(a, b) for a, b in zip(frames, to_uint8(rec))]))


def main(argv: list[str] | None = None) -> int:
    train(parse_args(VideoRunConfig, argv, __doc__))
    return 0


def train(cfg: VideoRunConfig) -> dict:
    t_start = time.time()
    pool, device, log = start(cfg)

    tok = video_tokenizer()
    image = image_model_dir(cfg.from_image) if cfg.from_image else None
    resumed = load_checkpoint(Path(cfg.resume)) if cfg.resume else None
    if resumed is not None:
        vae = Vae(VaeConfig(**config_kwargs(resumed["configs"]["vae"])))
        vae.load_state_dict(resumed["vae"])
        vae = vae.to(device)
        log.event("resume", checkpoint=cfg.resume)
    else:
        vae = train_vae(device, cfg.vae, cfg.seed, cfg.workers, log, load_image_vae(image) if image else None)
    val = C.eval_prompts("val", cfg.val_per_category, seed=7)
    gt_val = render_clips([s for s, _ in val], cfg.frames, 128, 128, seed=11)
    ceiling = evaluate(val, gt_val, pool)
    log.event("ground_truth_val", **ceiling)

    run = replace(cfg.dit, seconds=cfg.seconds - (time.time() - t_start) - cfg.post_training_reserve_s)
    te, dit, pipe = train_video_dit(vae, tok, val, device, run, cfg.seed, cfg.workers, pool, log, image, resumed)
    round_to_fp16(te, dit, vae)  # every number below is the shipped (fp16-stored) model's
    save_checkpoint(cfg.out, te, dit, vae)

    sweep, steps, guidance = pick_defaults(
        cfg.sweep, lambda steps, g, s: validate(pipe, val, pool, steps, g, cfg.frames, seed0=s)["overall"], log)
    defaults = {"steps": steps, "guidance_scale": guidance, "width": 128, "height": 128, "sampler": "euler",
                "frames": cfg.frames, "fps": cfg.fps}

    # Test prompts, text to video, at the defaults; then other lengths and sizes, image-to-video
    # (frame 0 given) and extension (the first run.extend_frames frames given).
    test = C.eval_prompts("test", cfg.test_per_category)
    counts = {c: sum(1 for s, _ in test if s.category == c) for c in C.CATEGORIES}
    reqs = [ClipRequest(c, 1000 + i, guidance) for i, (_, c) in enumerate(test)]
    clips = pipe(reqs, cfg.frames, 128, 128, steps)
    table = evaluate(test, clips, pool)
    log.event("test", **table)
    lengths = {}
    for frames in sorted({cfg.frame_range[0], cfg.frame_range[1]}):
        lengths[str(frames)] = evaluate(test, pipe(reqs, frames, 128, 128, steps), pool)
        log.event("test_frames", frames=frames, **lengths[str(frames)])
    aspect = {}
    for w, h in SIZES_PX[1:]:
        aspect[f"{w}x{h}"] = evaluate(test, pipe(reqs, cfg.frames, w, h, steps), pool)
        log.event("test_aspect", size=f"{w}x{h}", **aspect[f"{w}x{h}"])
    gt = render_clips([s for s, _ in test], cfg.frames, 128, 128, seed=23)
    i2v_clips = pipe([replace(r, given=g[:1]) for r, g in zip(reqs, gt)], cfg.frames, 128, 128, steps)
    i2v = {**evaluate(test, i2v_clips, pool),
           "frame0_psnr_db": float(np.mean([psnr(c[0], g[0]) for c, g in zip(i2v_clips, gt)])),
           "vae_round_trip_psnr_db": _vae_round_trip(vae, gt, device)}
    log.event("test_image_to_video", **i2v)
    k = run.extend_frames
    ext_clips = pipe([replace(r, given=g[:k]) for r, g in zip(reqs, gt)], cfg.frames, 128, 128, steps)
    extend = {**evaluate(test, ext_clips, pool),
              "context_psnr_db": float(np.mean([psnr(c[:k], g[:k]) for c, g in zip(ext_clips, gt)]))}
    log.event("test_extend", **extend)
    save_strips(clips[:: max(1, len(clips) // 12)][:12], [c for _, c in test][:: max(1, len(test) // 12)][:12],
                cfg.out / "samples")

    model_dir = cfg.out / "model" / cfg.name
    if model_dir.exists():
        shutil.rmtree(model_dir)
    desc = ("Sora-style spacetime-patch MMDiT trained on procedural moving-shapes clips"
            + (f", starting from the image model {image.name}." if image else " from scratch."))
    write_video_manifest(model_dir, cfg.name, tok, run.shift, defaults, desc, run.extend_frames)
    params, files = export_video(te, dit, vae, model_dir, device if device.type == "cuda" else None)
    log.event("export", **files)
    log.event("step_graphs", files=[p.name for p in write_step_graphs(model_dir)])
    log.event("decode_graphs", files=[p.name for p in write_decode_graphs(model_dir)])
    par = parity(te, dit, vae, model_dir)
    log.event("parity", **par)
    log.write_curves()
    shipped = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file())
    results = {
        "name": cfg.name, "command": retrain_command(cfg.seconds, "retrain_video.sh", changed_flags(cfg)), "seed": cfg.seed,
        "from_image": image.name if image else None, "resumed_from": cfg.resume or None,
        "wall_s": time.time() - t_start, "device": device_name(device),
        "torch": torch.__version__, "params": params, "vocab_size": len(tok.vocab), "te": te.cfg.to_json(),
        "dit": dit.cfg.to_json(), "vae": vae.cfg.to_json(), "shift": run.shift, "defaults": defaults,
        "batch_size": run.batch_size, "lr": run.lr, "t_shift": run.t_shift, "echo": run.echo,
        "conditioning": {"first_frame": run.p_first_frame, "extend": run.p_extend, "extend_frames": run.extend_frames},
        "ground_truth_val": ceiling, "guidance_sweep": sweep, "test": table, "test_counts": counts,
        "test_prompts": len(test), "test_frames": lengths, "test_aspect": aspect, "image_to_video": i2v,
        "extend": extend, "parity": par, "shipped_mb": shipped / 1e6,
    }
    write_results(cfg.out, model_dir, results)
    write_video_card(model_dir, results)
    print("\nMotionEval (held-out test prompts, text to video)\n" + format_table(table, counts), flush=True)
    pool.terminate()
    return results


def save_strips(clips: list[np.ndarray], captions: list[str], stem: Path, every: int = 3) -> None:
    """A contact sheet: one row per clip, every `every`-th frame (PNG), and the captions (TXT)."""
    from PIL import Image

    rows = [np.concatenate(list(c[::every]), axis=1) for c in clips]
    width = max(r.shape[1] for r in rows)
    sheet = np.full((sum(r.shape[0] + 2 for r in rows), width, 3), 255, np.uint8)
    y = 0
    for r in rows:
        sheet[y : y + r.shape[0], : r.shape[1]] = r
        y += r.shape[0] + 2
    Image.fromarray(sheet).save(stem.with_suffix(".png"))
    stem.with_suffix(".txt").write_text("\n".join(f"{i}: {c}" for i, c in enumerate(captions)) + "\n")


if __name__ == "__main__":
    sys.exit(main())

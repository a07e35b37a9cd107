"""One command: VAE -> text encoder + MMDiT -> guidance pick -> test eval -> ONNX export -> card.

    ditserve-train --out /tmp/run --seconds 500          (or: python3 -m ditserve_train.run ...)

Everything lands in <out>/model/<name>/ (the folder to ship) and <out>/golden/ (test vectors).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from . import scenes
from .card import write_card
from .config import RunConfig, changed_flags, parse_args
from .export import export_all, parity
from .decode_graph import write_decode_graphs
from .step_graph import write_step_graphs
from .flow import from_uint8, to_uint8
from .golden import write_golden
from .ground_truth import render_specs
from .layout_loss import GROUP_NAMES as LAYOUT_GROUPS
from .manifest import write_manifest
from .ort_pipeline import OrtPipeline
from .runs import device_name, pick_defaults, retrain_command, save_checkpoint, start, write_results
from .shared_weights import round_to_fp16
from .shapes_eval import detect_all, diagnose, evaluate, format_table, table_of
from .tokenizer import WordTokenizer
from .train_dit import train_dit, validate
from .train_vae import train_vae
from .vocab import SIZES_PX


def _vae_ceiling(vae, prompts, device, pool) -> float:
    """ShapesEval of VAE round trips of ground-truth renders: the best a perfect DiT could score."""
    imgs = render_specs([s for s, _ in prompts], 128, 128, seed=11)
    x = from_uint8(np.stack(imgs), device)
    with torch.no_grad():
        rec = vae.decode_latents(vae.encode_latents(x))
    return evaluate(prompts, list(to_uint8(rec)), pool)


def main(argv: list[str] | None = None) -> int:
    """The console entry (`ditserve-train`): the command line fills a RunConfig (config.py)."""
    train(parse_args(RunConfig, argv, __doc__))
    return 0


def train(cfg: RunConfig) -> dict:
    """The whole run; returns the results that training/results.json and the model card hold."""
    t_start = time.time()
    pool, device, log = start(cfg)

    tok = WordTokenizer()
    vae = train_vae(device, cfg.vae, cfg.seed, cfg.workers, log)
    val = scenes.eval_prompts("val", cfg.val_per_category, seed=7)
    ceiling = _vae_ceiling(vae, val, device, pool)
    log.event("vae_ceiling", **ceiling)
    ceiling = ceiling["overall"]

    dit_seconds = cfg.seconds - (time.time() - t_start) - cfg.post_training_reserve_s
    run = replace(cfg.dit, seconds=dit_seconds)
    te, dit, pipe = train_dit(vae, tok, val, device, run, cfg.seed, cfg.workers, pool, log)
    # The shipped weights are stored in fp16 (shared_weights.py): round them now, so that every
    # number below (guidance pick, test table, parity, golden images) is the shipped model's.
    round_to_fp16(te, dit, vae)
    # Train-split prompts of the eval categories (logged, steer nothing): how far validation is
    # from what the model fits on captions it was trained on, i.e. underfitting vs generalisation.
    train_fit = validate(pipe, scenes.eval_prompts("train", cfg.val_per_category, seed=7), run, pool)
    log.event("train_fit", **train_fit)

    save_checkpoint(cfg.out, te, dit, vae)

    sweep, steps, guidance = pick_defaults(
        cfg.sweep, lambda steps, g, s: validate(pipe, val, run, pool, guidance=g, steps=steps, seed0=s)["overall"], log)
    defaults = {"steps": steps, "guidance_scale": guidance, "width": 128, "height": 128, "sampler": "euler"}

    # Test prompts: scored once, with the chosen defaults.
    test = scenes.eval_prompts("test", cfg.test_per_category)
    prompts = [p for p in test for _ in range(cfg.test_seeds)]
    seeds = [1000 + i for i in range(len(prompts))]
    images = pipe([c for _, c in prompts], seeds, 128, 128, steps, guidance)
    detections = detect_all(images, pool)
    table = table_of(prompts, detections)
    diagnostics = diagnose(prompts, detections)
    log.event("test_diagnostics", **diagnostics)
    # The sample sheet: the first 8 test prompts of each category (a row each), first seed.
    rows = [i for c in scenes.CATEGORIES for i in [j for j, (s, _) in enumerate(test) if s.category == c][:8]]
    save_grid([images[i * cfg.test_seeds] for i in rows], [test[i][1] for i in rows], cfg.out / "samples")
    counts = {c: sum(1 for s, _ in prompts if s.category == c) for c in scenes.CATEGORIES}
    log.event("test", **table)
    aspect = {}
    for w, h in SIZES_PX[1:]:
        imgs = pipe([c for _, c in test], [2000 + i for i in range(len(test))], w, h, steps, guidance)
        aspect[f"{w}x{h}"] = evaluate(test, imgs, pool)
        log.event("test_aspect", size=f"{w}x{h}", **aspect[f"{w}x{h}"])

    # Ship: manifest, ONNX (fp32 + fp16), parity, golden vectors, ORT eval, card.
    model_dir = cfg.out / "model" / cfg.name
    if model_dir.exists():
        shutil.rmtree(model_dir)
    desc = "SD3-style MMDiT trained from scratch on procedural shapes scenes (ditserve's embedded default)."
    write_manifest(model_dir, cfg.name, tok, run.shift, defaults, desc)
    params, files = export_all(te, dit, vae, model_dir, device if device.type == "cuda" else None)
    log.event("export", **files)
    log.event("step_graphs", files=[p.name for p in write_step_graphs(model_dir)])
    log.event("decode_graphs", files=[p.name for p in write_decode_graphs(model_dir)])
    par = parity(te, dit, vae, model_dir)
    log.event("parity", **{k: v for k, v in par.items()})
    golden = write_golden(pipe, model_dir, cfg.out / "golden")
    log.event("golden", **golden)

    ort = OrtPipeline(model_dir)
    ids = tok.batch([c for _, c in test])
    uncond = tok.batch([""] * len(test))
    onnx_imgs: list[np.ndarray] = []
    for i in range(0, len(test), 64):
        onnx_imgs.extend(ort(ids[i : i + 64], uncond[i : i + 64], [1000 + cfg.test_seeds * j for j in range(i, min(i + 64, len(test)))],
                             128, 128, steps, guidance))
    test_onnx = evaluate(test, onnx_imgs, pool)
    test_torch_seed0 = evaluate(test, images[::cfg.test_seeds], pool)
    log.event("test_onnx", **test_onnx)

    log.write_curves()
    shipped = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file())
    results = {
        "name": cfg.name, "command": retrain_command(cfg.seconds, "retrain.sh", changed_flags(cfg)), "seed": cfg.seed,
        "wall_s": time.time() - t_start, "device": device_name(device),
        "torch": torch.__version__, "params": params, "vocab_size": len(tok.vocab), "max_length": tok.max_length,
        "te": te.cfg.to_json(), "dit": dit.cfg.to_json(), "vae": vae.cfg.to_json(), "shift": run.shift,
        "defaults": defaults, "ema_decay": run.ema_decay, "batch_size": run.batch_size,
        "lr": {"peak": run.lr, "warmup_steps": run.warmup_steps, "decay_frac": run.decay_frac}, "t_shift": run.t_shift,
        "vae_steps": _last_event(cfg.out, "vae_done")["steps"], "dit_steps": _last_event(cfg.out, "dit_done")["steps"],
        "best_step": max(log.curves["val"], key=lambda r: r["overall"])["step"], "echo": run.echo,
        "vae_psnr": _last_event(cfg.out, "vae_reconstruction")["psnr_db"], "vae_ceiling": ceiling,
        "guidance_sweep": sweep, "train_fit": train_fit,
        "layout_loss": {"weight": run.aux_weight, "tap": run.aux_tap, "groups": list(LAYOUT_GROUPS)},
        "test": table, "test_diagnostics": diagnostics, "test_counts": counts, "test_prompts": len(test),
        "test_seeds": cfg.test_seeds, "test_images": len(prompts), "test_aspect": aspect, "test_onnx": test_onnx,
        "test_torch_seed0": test_torch_seed0, "parity": par, "golden": golden, "shipped_mb": shipped / 1e6,
    }
    write_results(cfg.out, model_dir, results)
    write_card(model_dir, results)
    print("\nShapesEval (held-out test prompts)\n" + format_table(table, counts), flush=True)
    pool.terminate()
    return results


def save_grid(images: list[np.ndarray], captions: list[str], stem: Path, cols: int = 8) -> None:
    """A contact sheet of samples (PNG) and their captions (TXT), for a human look."""
    from PIL import Image

    h, w, _ = images[0].shape
    rows = (len(images) + cols - 1) // cols
    sheet = np.full((rows * (h + 2), cols * (w + 2), 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = img
    Image.fromarray(sheet).save(stem.with_suffix(".png"))
    stem.with_suffix(".txt").write_text("\n".join(f"{i}: {c}" for i, c in enumerate(captions)) + "\n")


def _last_event(out: Path, kind: str) -> dict:
    rows = [json.loads(line) for line in (out / "training" / "events.jsonl").read_text().splitlines()]
    return [r for r in rows if r["event"] == kind][-1]


if __name__ == "__main__":
    main()

"""The model card (models/<name>/README.md), written from a run's results so every figure is reproducible."""

from __future__ import annotations

from pathlib import Path

from . import vocab as V
from .shapes_eval import format_table


def _fmt_params(n: int) -> str:
    return f"{n / 1e6:.2f} M"


def _diagnostics(r: dict) -> str:
    d = r.get("test_diagnostics")
    if not d:
        return ""
    cats = [c for c in d["strict"] if c != "overall"]
    rows = [("strict (the score)", d["strict"]), ("positions not checked", d["no_positions"]),
            ("colors not checked", d["no_colors"]), ("shapes and counts only", d["shapes_only"]),
            ("right number of objects", d["object_count_right"]), ("an unknown shape", d["has_unknown_shape"])]
    body = "\n".join(f"| {name} | " + " | ".join(f"{t[c]:.2f}" for c in cats) + " |" for name, t in rows)
    return f"""
Where the failures come from (same test images; diagnostics, not scores): pass rates with some
checks relaxed, and the share of images with the right number of objects or an unknown shape.

| | {' | '.join(cats)} |
| --- |{' --- |' * len(cats)}
{body}
"""


def _lr(r: dict) -> str:
    lr = r.get("lr")
    if not lr:
        return ""
    return (f" (lr {lr['peak']:g}, {lr['warmup_steps']} warm-up steps, cosine decay to zero over the last "
            f"{lr['decay_frac']:.0%} of the time budget)")


def _tshift(r: dict) -> str:
    s = r.get("t_shift", 1.0)
    return f" shifted towards noise by {s:g} (t → {s:g}t / (1 + {s - 1:g}t))" if s != 1.0 else ""


def _layout_loss(r: dict) -> str:
    a = r.get("layout_loss")
    if not a or not a.get("weight"):
        return ""
    return (f"\n\nAn auxiliary layout loss (training only, nothing of it is exported; `layout_loss.py`): a small head "
            f"reads the image tokens after block {a['tap']} of {r['dit']['depth']} and predicts, per token, the share "
            f"of its pixels showing each {', each '.join(a['groups'])} (background as a class of each group; the "
            f"object is which one of the caption, copies of a counted object left to right), by soft "
            f"cross-entropy with weight {a['weight']:g} — REPA's idea (align early DiT tokens with good features) with "
            f"the renderer's ground truth as the features.")


def _status(r: dict) -> str:
    t = r["test"]
    met = t["overall"] >= 0.90 and t["position"] >= 0.85 and t["color_attr"] >= 0.85
    head = "meets the target" if met else "below the target (undertrained)"
    weakest = sorted((c for c in t if c != "overall"), key=t.get)[:3]
    text = (f"**Quality status: {head}.** ShapesEval overall is {t['overall']:.2f} on held-out prompts (target: 0.90, "
            f"with position and color attribution ≥ 0.85; here {t['position']:.2f} and {t['color_attr']:.2f}). "
            f"Weakest categories: {', '.join(f'{c} {t[c]:.2f}' for c in weakest)}. "
            "`training/samples.png` shows test prompts, one seed each, a row per category (captions in `training/samples.txt`).")
    best, last = r.get("best_step"), r.get("dit_steps")
    if best is not None and best == last:
        text += " Validation was still rising when the time budget ended."
    return text


def write_card(folder: Path, r: dict) -> None:
    p = r["params"]
    parity = "\n".join(
        f"| {k} | {v['max_abs_error']:.2e} | {v['max_abs_value']:.2f} |" if "max_abs_error" in v else f"| {k} | not run on CPU: {v['error']} | |"
        for k, v in r["parity"].items()
    )
    golden = "\n".join(f"| {k} | {v['max_abs_diff_255']} | {v['mean_abs_diff_255']:.4f} |" for k, v in r["golden"].items())
    aspect = "\n".join(f"| {k} | {v['overall']:.3f} |" for k, v in r["test_aspect"].items())
    sweep = ", ".join(f"{k.split('@')[0]} steps g={k.split('@')[1]}: {s:.3f}" if "@" in k else f"g={k}: {s:.3f}"
                      for k, s in r["guidance_sweep"].items())
    d = r["defaults"]
    text = f"""# {r['name']} — a small SD3-style MMDiT for the shapes domain

The embedded default model of ditserve: trained from scratch in one GPU command, shipped in the
repository, and served on CPU. It draws flat-colored geometric shapes on plain backgrounds from
English captions. It knows nothing outside the vocabulary below.

{_status(r)}

## Architecture (like Stable Diffusion 3, scaled down)
| component | what | parameters |
| --- | --- | --- |
| tokenizer | WordLevel, {r['vocab_size']} tokens, NFKC + lowercase, max {r['max_length']} tokens | – |
| text_encoder | {r['te']['num_layers']}-layer transformer, width {r['te']['hidden_size']}, {r['te']['num_heads']} heads; per-token states + pooled vector (masked mean → linear) | {_fmt_params(p['text_encoder'])} |
| transformer | MMDiT: {r['dit']['depth']} joint blocks, width {r['dit']['hidden_size']}, {r['dit']['num_heads']} heads, MLP ×{r['dit']['mlp_ratio']}, patch {r['dit']['patch_size']}; separate text/image streams with joint attention, QK RMSNorm, adaLN-Zero from timestep + pooled text, 2D sin-cos positions for any grid; the last block's text stream is pre-only (as SD3) | {_fmt_params(p['transformer'])} |
| vae_decoder | convolutional, 8× up-sampling from {r['vae']['latent_channels']} latent channels; scaling_factor {r['vae']['scaling_factor']}, shift_factor {r['vae']['shift_factor']} (measured on data) | {_fmt_params(p['vae_decoder'])} |

Files: fp32 `model.onnx` (CPU) and fp16 `model.fp16.onnx` (CUDA) per component, opset 17, dynamic
batch (and latent height/width for the transformer and decoder); {r['shipped_mb']:.1f} MB in all. Both
graphs of a component read one `weights.bin` (ONNX external data): the trained weights were rounded
to fp16 right after training (every number on this card is of the rounded weights), the fp16
graph uses them as they are, and the fp32 graph widens them with a `Cast` at load and computes in
fp32 — 2 bytes a parameter on disk instead of 6.
Defaults: {d['steps']} steps, guidance {d['guidance_scale']}, sampler `{d['sampler']}` (flow-matching Euler, shift {r['shift']}), {d['width']}×{d['height']}.
Sizes trained: {', '.join(f'{w}×{h}' for w, h in V.SIZES_PX)} (1:1, 3:2, 2:3).

## Vocabulary
- shapes: {', '.join(V.SHAPES)}
- colors: {', '.join(V.COLORS)}; backgrounds: {', '.join(V.BACKGROUNDS)} (white when unsaid)
- sizes: {', '.join(V.SIZES)}; counts: one (a/an), two, three
- positions: {', '.join(V.POSITIONS)} (e.g. "in the top left corner", "on the left", "in the center")
- relations: {', '.join(f'A {r} B' for r in V.RELATIONS)} (with paraphrases such as "to the left of", "beneath")
- scenes hold 1–3 objects; words outside the vocabulary become `[UNK]` and are ignored by the model.
- objects named without a place are drawn left to right in the order they are named ("a star and
  a cross": the star on the left), as the training scenes were laid out.

## Data
Procedural and rendered on the GPU on the fly (no files): scene specifications are sampled on CPU
workers, laid out without overlap, and rendered anti-aliased; captions come from several templates
with paraphrases. What a caption leaves open (color, size, place, background) is drawn at random.
Caption combinations are split by a hash of their canonical content into **train (80%)**,
**validation (10%)** and **test (10%)**: a held-out combination never appears in training under
any paraphrase. Validation prompts are scored during training and pick the checkpoint, the stop
and the default guidance; test prompts are scored once, below.

## Training
Rectified flow (x_t = (1−t)·x0 + t·ε, target ε − x0), logit-normal t{_tshift(r)}, 10% caption dropout,
AdamW{_lr(r)}, bf16 autocast, EMA {r['ema_decay']}; each step's forward + backward is replayed as a CUDA graph. VAE first ({r['vae_steps']} steps), then text encoder + MMDiT jointly
({r['dit_steps']} steps of batch {r['batch_size']}; best validation at step {r['best_step']}).{_layout_loss(r)}

- command (one GPU command, from the repository root): `{r['command']}`
- seed {r['seed']}; wall time {r['wall_s']:.0f} s on {r['device']} (torch {r['torch']})
- loss curves: `training/dit_curve.csv`, `training/vae_curve.csv`; validation: `training/val_curve.csv`
- VAE reconstruction PSNR {r['vae_psnr']:.1f} dB; ShapesEval of VAE reconstructions of ground-truth
  renders (validation prompts, an upper bound for the DiT): {r['vae_ceiling']:.3f}
- default steps and guidance picked on validation (mean of two seeds): {sweep}

## ShapesEval (held-out test prompts, scored once)
{r['test_images']} images ({r['test_prompts']} prompts × {r['test_seeds']} seeds), {d['width']}×{d['height']}, default steps and
guidance, the shipped weights in fp32 (PyTorch, TF32 off). The detector (color segmentation + template fit of the
renderer's own shapes) scores ≥ 0.98 on ground-truth renders and ≤ 0.20 on renders paired with
another prompt of the category (`gpu-worker/training/tests/test_detector.py`).

{format_table(r['test'])}

The shipped fp32 ONNX files through onnxruntime (CPU), one seed per test prompt: overall
{r['test_onnx']['overall']:.3f}; PyTorch with the same prompts and seeds: {r['test_torch_seed0']['overall']:.3f}.

Other aspect ratios (one seed per test prompt):

| size | overall |
| --- | --- |
{aspect}
{_diagnostics(r)}
## PyTorch vs ONNX parity
Max abs error of onnxruntime (CPU, Python) against PyTorch fp32 on random inputs of three shapes:

| component/variant | max abs error | max abs value |
| --- | --- | --- |
{parity}

Full sampling runs (`tests/fixtures/golden/`), onnxruntime CPU vs the PyTorch reference image:

| case | max abs diff (of 255) | mean abs diff |
| --- | --- | --- |
{golden}

## Known limits
- Only the closed vocabulary above; no text, textures, rotation, overlap, or more than 3 objects.
- Quality: the weakest categories are named in the status line above; dark backgrounds are weaker than white.
- Object size is in the captions but not scored by ShapesEval.
- Trained at three sizes only; other multiples of 16 px run, untested.
- single_object has few held-out prompts (the category has few combinations), so its score is coarse.
- The fp16 variant on CUDA (TypeScript sampler) against fp32 on CPU: see docs/gpu.md.
"""
    (folder / "README.md").write_text(text)

"""The video model's card (README.md of its folder), written from the run's results."""

from __future__ import annotations

from pathlib import Path

from .. import vocab as V
from . import motions as M
from .clips import CATEGORIES
from .motion_eval import SUMMARY


def _params(n: int) -> str:
    return f"{n / 1e6:.2f} M"


def _row(name: str, t: dict, extra: str = "") -> str:
    return f"| {name} | " + " | ".join(f"{t[k]:.3f}" for k in SUMMARY) + f" |{extra}"


def _start(r: dict) -> str:
    if not r.get("from_image"):
        return "from scratch"
    return (f"from ditserve's own image model `{r['from_image']}` (its text encoder, transformer blocks and VAE "
            "decoder, themselves trained from scratch by `retrain.sh`; no outside weights)")


def _commands(r: dict) -> str:
    # A resumed run (--resume) goes on from an earlier command's checkpoint: its command line is
    # the chain, and its wall time theirs together.
    return ("GPU commands chained by `--resume`, each going on from the last one's checkpoint" if r.get("resumed_from")
            else "one GPU command")


def _vae_origin(r: dict) -> str:
    if not r.get("from_image"):
        return "both trained in this run"
    return "the image model's decoder as it is, and an encoder trained for it in this run"


# What the project asks of a video model on held-out prompts (MotionEval overall, direction of
# motion, temporal consistency); the card says where this one stands.
TARGETS = {"overall": 0.90, "direction": 0.90, "consistency": 0.95}


def _status(t: dict) -> str:
    missed = [f"{k} {t[k]:.2f} (target {v:.2f})" for k, v in TARGETS.items() if t[k] < v]
    if not missed:
        return "It meets the project's MotionEval targets on held-out prompts (below)."
    return ("**A preview: it is below the project's MotionEval targets on held-out prompts**: " + ", ".join(missed)
            + " (below); gpu-worker/training/VIDEO_EXPERIMENTS.md has what the training runs so far showed.")


def _text_additions(dit: dict) -> str:
    parts = ([f"in each block its own attention to the text (width {dit['text_attention_dim']})"]
             if dit.get("text_attention_dim") else [])
    parts += ["a per-frame embedding of the pooled text and the frame's position"] if dit.get("frame_text") else []
    return "; " + " and ".join(parts) + ", zero at the start" if parts else ""


def write_video_card(folder: Path, r: dict) -> None:
    p, d, t = r["params"], r["defaults"], r["test"]
    cats = "\n".join(f"| {c} | {t[c]:.3f} | {r['test_counts'].get(c, 0)} |" for c in CATEGORIES if c in t)
    others = "\n".join([_row(f"{k} frames", v) for k, v in r["test_frames"].items()]
                       + [_row(k, v) for k, v in r["test_aspect"].items()]
                       + [_row("image-to-video (frame 0 given)", r["image_to_video"]),
                          _row(f"extension ({r['conditioning']['extend_frames']} frames given)", r["extend"])])
    parity = "\n".join(f"| {k} | {v['max_abs_error']:.2e} | {v['max_abs_value']:.2f} |" if "max_abs_error" in v
                       else f"| {k} | not run on CPU: {v['error']} | |" for k, v in r["parity"].items())
    i2v = r["image_to_video"]
    text = f"""# {r['name']} — a small Sora-style video DiT for moving shapes

ditserve's video model: trained {_start(r)} in {_commands(r)} (`{r['command']}`,
{r['wall_s'] / 60:.1f} min on {r['device']}), shipped in the repository ({r['shipped_mb']:.1f} MB of graphs, weights and configs), served on
CPU or CUDA. It animates flat-colored shapes on plain backgrounds from English captions, and knows
nothing outside the vocabulary below. {_status(r['test'])}

## Architecture
| component | what | parameters |
| --- | --- | --- |
| tokenizer | WordLevel, {r['vocab_size']} tokens (the image model's words plus the motion words) | – |
| text_encoder | {r['te']['num_layers']}-layer transformer, width {r['te']['hidden_size']} | {_params(p['text_encoder'])} |
| transformer | VideoMMDiT: {r['dit']['depth']} MMDiT joint blocks (text and video streams, joint attention), width {r['dit']['hidden_size']}, {r['dit']['num_heads']} heads; spacetime patches of {r['dit']['temporal_patch']} frames × {r['dit']['patch_size']}×{r['dit']['patch_size']} latent pixels, 2-D sin-cos positions in each frame plus a learned projection of the frame's sin-cos position, for any (frames, height, width) grid; given frames enter as extra channels (clean latent + mask){_text_additions(r['dit'])} | {_params(p['transformer'])} |
| vae_encoder / vae_decoder | the image model's per-frame VAE architecture (8× spatial, {r['vae']['latent_channels']} channels); {_vae_origin(r)} | {_params(p['vae_encoder'])} / {_params(p['vae_decoder'])} |

Why a per-frame VAE and no temporal compression: these clips are rigid shapes moving on flat
backgrounds, so the temporal redundancy is taken by the transformer's 2-frame patches (a 16-frame
128×128 clip is 512 tokens); and image-to-video needs a given frame to come back exactly, which a
per-frame latent does (frame 0 after decode: {i2v['frame0_psnr_db']:.1f} dB PSNR against the given
image; the VAE round trip alone: {i2v['vae_round_trip_psnr_db']:.1f} dB).

Defaults: {d['frames']} frames at {d['fps']} fps ({d['frames'] / d['fps']:g} s), {d['width']}×{d['height']}, {d['steps']} Euler steps
(flow matching, shift {r['shift']}), guidance {d['guidance_scale']}. Frames: any even count from
{min(M.FRAME_COUNTS)} to {max(M.FRAME_COUNTS)}. Sizes: {', '.join(f'{w}×{h}' for w, h in V.SIZES_PX)}.

## Vocabulary
- objects: 1–2 of the image model's shapes ({', '.join(V.SHAPES)}), colors ({', '.join(V.COLORS)}),
  sizes ({', '.join(V.SIZES)}); backgrounds {', '.join(V.BACKGROUNDS)} (white when unsaid).
- motions: moving {', '.join(M.DIRECTIONS)} (moving, sliding, going, drifting, traveling); paths
  "from the <place> to the <place>" between the image model's nine places; speed words
  {', '.join(w for ws in M.SPEED_WORDS.values() for w in ws)} (they set the distance travelled over the
  clip: {', '.join(f'{k} {v:.0%}' for k, v in M.SPEEDS.items())} of the frame); standing still; growing and
  shrinking; a color change ("turning blue"); two objects moving apart or towards each other.
- conditioning: image-to-video (the given image is frame 0) and extension (a clip's last
  {r['conditioning']['extend_frames']} frames become the first frames of the next).

## What it cannot do
No camera motion, rotation, occlusion, bouncing, curved paths, more than two objects, counting
words, text, or anything outside the vocabulary (unknown words are ignored). Speed is the
distance over the whole clip, not per second. Image-to-video works on images of this world (the
image model's outputs, or similar flat shapes); other pictures come back as frame 0 but do not move
sensibly.

## Data and split
Clips are rendered on the GPU on the fly from sampled clip specifications (no files), with
captions from several templates with paraphrases. Caption combinations are split by a hash of
their canonical content into train (80%), validation (10%) and test (10%); validation picks the
checkpoint and the defaults (sweep: {', '.join(f'{k}: {v:.3f}' for k, v in r['guidance_sweep'].items())}).
Training conditions {r['conditioning']['first_frame']:.0%} of clips on their first frame and
{r['conditioning']['extend']:.0%} on their first {r['conditioning']['extend_frames']} frames (the loss skips given frames).

## MotionEval (held-out test prompts, {r['test_prompts']} clips, defaults)
A deterministic tracker: the image model's ShapesEval detector on every frame, tracks linked
across frames. A clip passes when every frame shows exactly the prompt's objects, the motion is
the one asked for (direction and extent, path end points, still, radius ratio, distance change),
and the tracks are temporally consistent (nothing vanishes, flickers or jumps). Ground-truth clips
of the validation prompts score {r['ground_truth_val']['overall']:.3f}.

| category | score | clips |
| --- | --- | --- |
{cats}
| **overall** | **{t['overall']:.3f}** | |
| direction of motion | {t['direction']:.3f} | |
| temporal consistency | {t['consistency']:.3f} | |
| objects in every frame | {t['objects']:.3f} | |

Same prompts, other settings:

| setting | {' | '.join(SUMMARY)} |
| --- | {' | '.join('---' for _ in SUMMARY)} |
{others}

## ONNX parity (onnxruntime CPU against PyTorch fp32)
| graph | max abs error | max abs value |
| --- | --- | --- |
{parity}
"""
    (folder / "README.md").write_text(text)

"""The clip batches: one (frames, size) bucket per batch, token ids of the video tokenizer, and the
batched renderer agreeing with the ground truth MotionEval scores."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ditserve_train import vocab as V
from ditserve_train.video import motions as M
from ditserve_train.video.clip_data import (ARRAY_KEYS, ClipBatches, render_clip, render_clip_arrays, render_clips,
                                            unpack_clips)
from ditserve_train.video.clips import eval_prompts
from ditserve_train.video.tokenizer import video_tokenizer


def test_each_batch_is_one_bucket_of_clips():
    it = iter(ClipBatches(batch_size=6, seed=0))
    tok = video_tokenizer()
    seen = set()
    for _ in range(40):
        batch = next(it)
        arrays, ids, (w, h), frames = unpack_clips(batch, torch.device("cpu"))
        seen.add(frames)
        assert (w, h) in V.SIZES_PX and frames in M.FRAME_COUNTS
        assert ids.shape == (6, tok.max_length)
        assert dict(zip(ARRAY_KEYS, (a.shape for a in arrays))) == {
            "shape": (6, 2), "rgb": (6, frames, 2, 3), "geom": (6, frames, 2, 3), "present": (6, 2), "bg": (6, 3),
            "color": (6, frames, 2)}
        video = render_clip_arrays(arrays, w, h, frames)
        assert video.shape == (6, frames, 3, h, w) and video.min() >= -1 and video.max() <= 1
    assert M.DEFAULT_FRAMES in seen and len(seen) > 3


def test_render_clip_draws_each_frame_as_the_image_renderer():
    spec = eval_prompts("test", 3)[-1][0]  # two objects
    clip = render_clip(spec, 10, 192, 128, seed=5)
    assert clip.shape == (10, 128, 192, 3) and clip.dtype == np.uint8
    assert np.array_equal(clip, render_clips([spec], 10, 192, 128, seed=5)[0])
    assert not np.array_equal(clip[0], clip[-1])  # it moves
    bg = np.array(V.BACKGROUNDS[spec.background or V.DEFAULT_BACKGROUND])
    assert (np.abs(clip[:, 0, 0].astype(int) - bg).max()) == 0


def test_the_dataset_is_reproducible():
    a, b = next(iter(ClipBatches(4, seed=7))), next(iter(ClipBatches(4, seed=7)))
    assert a["frames"] == b["frames"] and np.array_equal(a["ids"], b["ids"])
    assert all(np.array_equal(a["arrays"][k], b["arrays"][k]) for k in ARRAY_KEYS)

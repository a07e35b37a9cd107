"""The clip world's data side that needs no PyTorch: the held-out split, the captions and their
tokenizer, and the trajectories (inside the frame, apart, linear, as the caption says)."""

import random
import re

import numpy as np

from ditserve_train import vocab as V
from ditserve_train.layout import GAP_PX, LayoutError
from ditserve_train.tokenizer import EOS, UNK, WordTokenizer
from ditserve_train.scenes import all_caption_words
from ditserve_train.video import motions as M
from ditserve_train.video.clips import (CATEGORIES, ClipObject, ClipSpec, Motion, caption, eval_prompts,
                                        sample_train, sample_train_spec, split_of)
from ditserve_train.video.tokenizer import video_tokenizer
from ditserve_train.video.trajectory import frame_times, layout_clip, to_clip_arrays


def test_held_out_clip_prompts_are_distinct_and_never_trained_on():
    rng = random.Random(0)
    train_keys = {sample_train(rng).key() for _ in range(20000)}
    for split in ("val", "test"):
        prompts = eval_prompts(split, per_category=40)
        keys = [s.key() for s, _ in prompts]
        assert len(keys) == len(set(keys)) == 40 * len(CATEGORIES)
        assert {s.category for s, _ in prompts} == set(CATEGORIES)
        assert all(split_of(s) == split for s, _ in prompts)
        assert not train_keys & set(keys)
    assert eval_prompts("test", per_category=5) == eval_prompts("test", per_category=5)  # a fixed list


def test_the_split_ignores_the_order_of_the_objects_and_is_80_10_10():
    a = ClipObject("star", "red", motion=Motion("move", direction="left"))
    b = ClipObject("ring", "blue", motion=Motion("still"))
    assert split_of(ClipSpec((a, b))) == split_of(ClipSpec((b, a)))
    rng = random.Random(1)
    splits = [split_of(sample_train_spec(rng)) for _ in range(20000)]
    assert 0.77 < splits.count("train") / len(splits) < 0.83


def test_every_caption_word_is_in_the_video_vocabulary_and_fits():
    tok = video_tokenizer()
    rng = random.Random(2)
    specs = [sample_train(rng) for _ in range(20000)] + [s for s, _ in eval_prompts("val", 40)]
    for spec in specs:
        text = caption(spec, rng)
        ids = tok.ids(text)
        assert UNK not in ids, text
        assert EOS in ids and ids.index(EOS) == len(re.findall(r"\w+|[^\w\s]+", text)) + 1, text  # not truncated
    assert set(all_caption_words()) <= set(tok.vocab)  # image captions read too (image to video)


def test_the_image_tokenizer_is_unchanged():
    assert list(WordTokenizer().vocab)[4:] == all_caption_words()


def test_captions_say_the_motion():
    rng = random.Random(3)
    move = ClipSpec((ClipObject("star", "red", motion=Motion("move", direction="left", speed="quickly")),))
    path = ClipSpec((ClipObject("ring", motion=Motion("path", start="top left", end="bottom right")),))
    turn = ClipSpec((ClipObject("circle", "red", motion=Motion("turn", color="blue")),))
    group = ClipSpec((ClipObject("star"), ClipObject("star")), group="apart", background="black")
    for _ in range(50):
        t = caption(move, rng)
        assert "red star" in t and any(p in t for p in M.DIRECTION_PHRASES["left"]) and any(w in t for w in M.SPEED_WORDS["quickly"])
        assert "from the top left to the bottom right" in caption(path, rng)
        t = caption(turn, rng)
        assert "red circle" in t and "blue" in t
        t = caption(group, rng)
        assert "two stars" in t and "black background" in t


def _tracks(spec, w, h, seed):
    return layout_clip(spec, w, h, random.Random(seed))


def test_trajectories_fit_keep_apart_and_follow_the_caption():
    rng = random.Random(4)
    t = np.linspace(0, 1, 65)
    n = 0
    for _ in range(2000):
        spec = sample_train(rng)
        w, h = rng.choice(V.SIZES_PX)
        try:
            tracks, bg = layout_clip(spec, w, h, rng)
        except LayoutError:
            continue
        n += 1
        unit = min(w, h)
        assert bg == (spec.background or V.DEFAULT_BACKGROUND) and len(tracks) == len(spec.objects)
        for i, tr in enumerate(tracks):
            x, y, r = tr.at(t)
            assert np.all((r <= x) & (x <= w - r) & (r <= y) & (y <= h - r))
            for other in tracks[i + 1:]:
                ox, oy, orr = other.at(t)
                assert np.all(np.hypot(x - ox, y - oy) >= r + orr + GAP_PX - 1e-6)
        for o, tr in zip(spec.objects, tracks):
            assert tr.shape == o.shape and (o.color is None or tr.color == o.color)
            m = o.motion
            if m is None:
                continue
            if m.kind == "move":
                dx, dy = M.DIRECTIONS[m.direction]
                extent = (tr.cx1 - tr.cx0) / w * dx + (tr.cy1 - tr.cy0) / h * dy
                assert abs(extent - M.SPEEDS[m.speed or "normal"]) < 1e-6
            if m.kind in ("still", "turn"):
                assert (tr.cx0, tr.cy0, tr.r0) == (tr.cx1, tr.cy1, tr.r1)
            if m.kind == "grow":
                assert tr.r1 == 2 * tr.r0 == 2 * V.SIZES["small"] * unit
            if m.kind == "turn":
                assert tr.end_color == m.color and M.TURN_SPAN[0] <= tr.t_switch <= M.TURN_SPAN[1]
        if spec.group:
            a, b = tracks
            d0, d1 = np.hypot(a.cx0 - b.cx0, a.cy0 - b.cy0), np.hypot(a.cx1 - b.cx1, a.cy1 - b.cy1)
            assert abs(abs(d1 - d0) - M.GROUP_EXTENT * unit) < 1e-6 and (d1 > d0) == (spec.group == "apart")
    assert n > 1900  # almost everything fits


def test_held_out_prompts_lay_out_at_every_size():
    for spec, _ in eval_prompts("test", 20):
        for w, h in V.SIZES_PX:
            layout_clip(spec, w, h, random.Random(0))


def test_clip_arrays_are_linear_in_time_and_switch_color_once():
    spec = ClipSpec((ClipObject("circle", "red", motion=Motion("turn", color="blue")),
                     ClipObject("star", motion=Motion("move", direction="down", speed="slowly"))))
    for frames in M.FRAME_COUNTS:
        a = to_clip_arrays([_tracks(spec, 128, 128, 5)], frames)
        assert a["geom"].shape == (1, frames, 2, 3) and a["shape"].shape == (1, 2)
        steps = np.diff(a["geom"][0, :, 1, 1])
        assert np.allclose(steps, steps[0], atol=1e-4) and steps[0] > 0
        assert abs(a["geom"][0, -1, 1, 1] - a["geom"][0, 0, 1, 1] - 0.2 * 128) < 1e-3  # the same extent at any length
        colors = [list(V.COLORS)[c] for c in a["color"][0, :, 0]]
        assert colors[0] == "red" and colors[-1] == "blue" and sum(x != y for x, y in zip(colors, colors[1:])) == 1
    assert frame_times(16)[[0, -1]].tolist() == [0.0, 1.0]

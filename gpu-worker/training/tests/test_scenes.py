"""The data side that needs no PyTorch: the held-out split, the layouts and the word tokenizer."""

import random

import numpy as np

from ditserve_train import layout as L
from ditserve_train import vocab as V
from ditserve_train.scenes import CATEGORIES, ObjectSpec, SceneSpec, eval_prompts, sample_train, split_of
from ditserve_train.tokenizer import BOS, EOS, MAX_LENGTH, PAD, UNK, WordTokenizer


def test_held_out_prompts_are_distinct_and_never_trained_on():
    rng = random.Random(0)
    train_keys = {sample_train(rng).key() for _ in range(5000)}
    for split in ("val", "test"):
        prompts = eval_prompts(split, per_category=5)  # single_object has few held-out combinations
        keys = [s.key() for s, _ in prompts]
        assert len(keys) == len(set(keys))
        assert {s.category for s, _ in prompts} == set(CATEGORIES)
        assert all(split_of(s) == split for s, _ in prompts)
        assert not train_keys & set(keys)
    assert eval_prompts("test", per_category=5) == eval_prompts("test", per_category=5)  # a fixed list


def test_the_split_ignores_the_order_of_unrelated_objects():
    a, b = ObjectSpec("star", "red"), ObjectSpec("ring", "blue")
    assert split_of(SceneSpec((a, b))) == split_of(SceneSpec((b, a)))


def test_layouts_fit_keep_apart_and_follow_the_caption():
    rng = random.Random(1)
    for _ in range(300):
        spec = sample_train(rng)
        w, h = rng.choice(V.SIZES_PX)
        try:
            placed, bg = L.layout(spec, w, h, rng)
        except L.LayoutError:
            continue
        assert bg == (spec.background or V.DEFAULT_BACKGROUND)
        assert len(placed) == sum(o.count for o in spec.objects)
        for i, p in enumerate(placed):
            assert p.radius <= p.cx <= w - p.radius and p.radius <= p.cy <= h - p.radius
            for q in placed[i + 1:]:
                assert np.hypot(p.cx - q.cx, p.cy - q.cy) >= p.radius + q.radius + L.GAP_PX
        if L._reading_order(spec):  # unplaced objects left to right in caption order
            assert [p.shape for p in placed] == [o.shape for o in spec.objects]
            assert all(p.cx < q.cx for p, q in zip(placed, placed[1:]))


def test_word_tokenizer_ids():
    tok = WordTokenizer()
    ids = tok.ids("A RED star, and a zebra")
    assert len(ids) == MAX_LENGTH and ids[0] == BOS
    body = ids[1: ids.index(EOS)]
    assert body == [tok.vocab[w] for w in ("a", "red", "star", ",", "and", "a")] + [UNK]
    assert set(ids[ids.index(EOS) + 1:]) == {PAD}
    long = tok.ids(" ".join(["star"] * 100))
    assert len(long) == MAX_LENGTH and long[-1] == EOS
    assert tok.batch(["a star", ""]).shape == (2, MAX_LENGTH)

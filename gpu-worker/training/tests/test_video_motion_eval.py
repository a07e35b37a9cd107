"""MotionEval must prove itself on the generator's own clips, as ShapesEval does: >= 0.98 on the
ground truth of held-out prompts (every size and length), <= 0.20 on clips paired with another
prompt of the same category, and temporal faults (reversed, shuffled, a missing frame) caught."""

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from ditserve_train import vocab as V
from ditserve_train.video.clip_data import render_clips
from ditserve_train.video.clips import CATEGORIES, eval_prompts
from ditserve_train.video.motion_eval import evaluate, format_table, score_clips, table_of

MOVING = ("move", "speed", "path")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The detector's tensors are tiny: torch's thread pool only costs time (as in detector.init_worker)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def prompts():
    return eval_prompts("test", per_category=20)


@pytest.fixture(scope="module")
def clips(prompts):
    return render_clips([s for s, _ in prompts], 16, 128, 128, seed=2)


@pytest.fixture(scope="module")
def scores(prompts, clips):
    return score_clips(prompts, clips)


def _assert_ground_truth_passes(table):
    assert table["overall"] >= 0.98, format_table(table)
    assert min(table[c] for c in CATEGORIES) >= 0.95, format_table(table)
    assert table["direction"] >= 0.98 and table["consistency"] >= 0.98, format_table(table)


def test_ground_truth_clips_score_at_least_098(prompts, scores):
    _assert_ground_truth_passes(table_of(prompts, scores))


@pytest.mark.parametrize("size,frames", [((192, 128), 8), ((128, 192), 24)])
def test_ground_truth_clips_score_at_least_098_at_every_size_and_length(prompts, size, frames):
    _assert_ground_truth_passes(evaluate(prompts, render_clips([s for s, _ in prompts], frames, *size, seed=1)))



def test_clips_paired_with_another_prompt_of_the_category_score_at_most_020(prompts, clips):
    rng = random.Random(3)
    pairs = []
    for cat in CATEGORIES:
        idx = [i for i, (s, _) in enumerate(prompts) if s.category == cat]
        for i in idx:  # each clip with a different prompt of its category
            j = rng.choice([k for k in idx if prompts[k][0].key() != prompts[i][0].key()])
            pairs.append((prompts[j], clips[i]))
    table = evaluate([p for p, _ in pairs], [c for _, c in pairs])
    assert table["overall"] <= 0.20, format_table(table)


def _subset(prompts, clips, cats, per_category=10):
    keep = [i for i, (s, _) in enumerate(prompts) if s.category in cats]
    keep = [i for i in keep if sum(prompts[j][0].category == prompts[i][0].category for j in keep if j < i) < per_category]
    return [prompts[i] for i in keep], [clips[i] for i in keep]


def test_reversed_moves_have_the_wrong_motion(prompts, clips):
    p, c = _subset(prompts, clips, MOVING)
    scores = score_clips(p, [x[::-1] for x in c])
    assert np.mean([s["motion"] for s in scores]) <= 0.05
    assert all(s["consistency"] for s in scores)  # still smooth, only backwards


def test_a_frozen_clip_does_not_move(prompts, clips):
    p, c = _subset(prompts, clips, MOVING)
    frozen = [np.repeat(x[:1], len(x), axis=0) for x in c]
    assert not any(s["motion"] for s in score_clips(p, frozen))


def test_shuffled_frames_are_inconsistent(prompts, clips):
    p, c = _subset(prompts, clips, MOVING)
    rng = np.random.default_rng(4)
    shuffled = [x[np.concatenate([[0], rng.permutation(np.arange(1, len(x) - 1)), [len(x) - 1]])] for x in c]
    scores = score_clips(p, shuffled)
    assert np.mean([s["consistency"] for s in scores]) <= 0.05
    assert not any(s["passed"] for s in scores)


def test_a_vanishing_object_is_caught(prompts, clips):
    prompts, clips = _subset(prompts, clips, CATEGORIES, per_category=5)
    gone = []
    for (spec, _), x in zip(prompts, clips):
        x = x.copy()
        x[len(x) // 2] = V.BACKGROUNDS[spec.background or V.DEFAULT_BACKGROUND]  # one empty frame
        gone.append(x)
    scores = score_clips(prompts, gone)
    assert not any(s["passed"] or s["consistency"] or s["objects"] for s in scores)


def test_a_blank_clip_passes_nothing(prompts):
    blank = [np.full((8, 128, 128, 3), 255, np.uint8)] * len(prompts)
    table = evaluate(prompts, blank)
    assert table["overall"] == table["direction"] == table["consistency"] == 0.0


def test_the_table_has_every_category_and_the_summaries(prompts, scores):
    assert all(set(s) == {"objects", "motion", "consistency", "passed"} for s in scores)
    table = table_of(prompts, scores)
    assert set(table) == {*CATEGORIES, "overall", "direction", "consistency", "objects"}
    assert "| overall |" in format_table(table)

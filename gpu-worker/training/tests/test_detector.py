"""ShapesEval's detector must prove itself on the generator's own renders (issue: model, item 6)."""

import random

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")

from ditserve_train.ground_truth import render_specs
from ditserve_train.scenes import CATEGORIES, eval_prompts
from ditserve_train.shapes_eval import evaluate


@pytest.fixture(scope="module")
def prompts():
    return eval_prompts("test", per_category=40)


@pytest.mark.parametrize("size", [(128, 128), (192, 128), (128, 192)])
def test_ground_truth_renders_score_at_least_098(prompts, size):
    images = render_specs([s for s, _ in prompts], *size, seed=1)
    table = evaluate(prompts, images)
    assert table["overall"] >= 0.98, table
    assert min(table[c] for c in CATEGORIES) >= 0.95, table


def test_renders_paired_with_another_prompt_of_the_category_score_at_most_020(prompts):
    images = render_specs([s for s, _ in prompts], 128, 128, seed=2)
    rng = random.Random(3)
    shuffled = []
    for cat in CATEGORIES:
        idx = [i for i, (s, _) in enumerate(prompts) if s.category == cat]
        for i in idx:  # pair each render with a different prompt of the same category
            j = rng.choice([k for k in idx if prompts[k][0].key() != prompts[i][0].key()])
            shuffled.append((prompts[j], images[i]))
    table = evaluate([p for p, _ in shuffled], [img for _, img in shuffled])
    assert table["overall"] <= 0.20, table


def test_a_blank_image_passes_nothing(prompts):
    blank = [np.full((128, 128, 3), 255, np.uint8)] * len(prompts)
    assert evaluate(prompts, blank)["overall"] == 0.0

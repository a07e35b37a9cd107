"""The layout loss's targets: what each token is told it shows (layout_loss.py)."""

import random

import pytest

pytest.importorskip("torch")

import torch

from ditserve_train import layout as L
from ditserve_train.data import ARRAY_KEYS
from ditserve_train.layout_loss import GROUPS, LayoutHead, token_targets
from ditserve_train.scenes import ObjectSpec, SceneSpec
from ditserve_train import vocab as V

TOKEN_PX = 16  # VAE 8x down, patch 2


def _targets(spec: SceneSpec, w: int = 128, h: int = 128, seed: int = 0):
    placed, bg = L.layout(spec, w, h, random.Random(seed))
    arrays = L.to_arrays([(placed, bg)])
    return placed, token_targets(tuple(torch.as_tensor(arrays[k]) for k in ARRAY_KEYS), w, h, TOKEN_PX)[0]


def _token_at(p: L.Placed, w: int) -> int:
    return int(p.cy // TOKEN_PX) * (w // TOKEN_PX) + int(p.cx // TOKEN_PX)


def test_each_group_is_a_distribution_per_token():
    for seed in range(5):
        _, t = _targets(SceneSpec((ObjectSpec("star", "red"), ObjectSpec("ring", "blue"))), 192, 128, seed)
        assert t.shape == (12 * 8, GROUPS[-1][1])
        for lo, hi in GROUPS:
            assert torch.allclose(t[:, lo:hi].sum(-1), torch.ones(t.shape[0]), atol=1e-5)
            assert (t[:, lo:hi] >= 0).all()


def test_the_token_under_an_object_names_its_shape_color_and_place_in_the_caption():
    spec = SceneSpec((ObjectSpec("square", "green", "large"), ObjectSpec("circle", "purple", "large")), relation="above")
    placed, t = _targets(spec)
    for slot, (p, o) in enumerate(zip(placed, spec.objects)):
        row = t[_token_at(p, 128)]
        shape, color, obj = (row[lo:hi].argmax().item() for lo, hi in GROUPS)
        assert (V.SHAPES[shape], list(V.COLORS)[color], obj) == (o.shape, o.color, slot)
    empty = t[(t[:, GROUPS[0][0]:GROUPS[0][1] - 1].sum(-1) == 0)]
    assert len(empty) > 0 and all(empty[:, hi - 1].eq(1).all() for _, hi in GROUPS)  # background


def test_counted_copies_are_numbered_left_to_right():
    for seed in range(5):
        placed, t = _targets(SceneSpec((ObjectSpec("cross", "orange", "large", count=3),)), seed=seed)
        xs = [p.cx for p in placed]
        assert xs == sorted(xs)
        lo, hi = GROUPS[2]
        assert [t[_token_at(p, 128), lo:hi].argmax().item() for p in placed] == [0, 1, 2]


def test_the_head_learns_the_targets():
    torch.manual_seed(0)
    _, t = _targets(SceneSpec((ObjectSpec("star", "yellow", "large"),)))
    tokens = torch.randn(1, t.shape[0], 32)
    head = LayoutHead(32)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    first = head.loss(tokens, t[None]).item()
    for _ in range(100):
        opt.zero_grad()
        loss = head.loss(tokens, t[None])
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first

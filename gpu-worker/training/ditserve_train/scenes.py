"""Scene specifications, their captions, and the fixed train/validation/test split.

A SceneSpec holds only what a caption says; whatever it leaves open (an object's color, size or
place, the background) is drawn at random when the scene is laid out, so the model learns the
marginals. The split is decided by a hash of the spec's canonical key, so a held-out combination
is never seen in training under any paraphrase.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import partial

from . import vocab as V

CATEGORIES = ("single_object", "two_object", "counting", "colors", "position", "color_attr")


@dataclass(frozen=True)
class ObjectSpec:
    shape: str
    color: str | None = None
    size: str | None = None
    count: int = 1
    position: str | None = None  # absolute placement, one of vocab.POSITIONS


@dataclass(frozen=True)
class SceneSpec:
    objects: tuple[ObjectSpec, ...]
    relation: str | None = None  # objects[0] <relation> objects[1]
    background: str | None = None
    category: str = field(default="train", compare=False)

    def key(self) -> str:
        """Canonical content key: equal for captions that say the same thing."""
        objs = [f"{o.count}:{o.size or '-'}:{o.color or '-'}:{o.shape}:{o.position or '-'}" for o in self.objects]
        if self.relation is None:
            objs.sort()  # "A and B" says the same as "B and A"
        return "|".join(objs) + f"|rel={self.relation or '-'}|bg={self.background or '-'}"


def split_of(spec: SceneSpec) -> str:
    """80% train, 10% validation, 10% test, by a stable hash of the canonical key."""
    h = int.from_bytes(hashlib.md5(spec.key().encode()).digest()[:4], "little") % 100
    return "train" if h < 80 else "val" if h < 90 else "test"


# ---------------------------------------------------------------------------- captions
def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _object_phrase(o: ObjectSpec, rng: random.Random) -> str:
    words = [w for w in (o.size, o.color) if w]
    if o.count == 1:
        noun = " ".join([*words, o.shape])
        phrase = f"{_article(noun)} {noun}"
    else:
        phrase = " ".join([V.COUNTS[o.count], *words, V.PLURALS[o.shape]])
    if o.position:
        phrase += " " + rng.choice(V.POSITION_PHRASES[o.position])
    return phrase


def caption(spec: SceneSpec, rng: random.Random) -> str:
    objs = [_object_phrase(o, rng) for o in spec.objects]
    if spec.relation:
        rel = rng.choice(V.RELATION_PHRASES[spec.relation])
        body = f"{objs[0]} {rng.choice(('', 'is ', 'placed '))}{rel} {objs[1]}".replace("  ", " ")
    elif len(objs) == 1:
        body = objs[0]
    else:
        # Caption order is spec order: layout.py draws unplaced objects in reading order (the
        # first named is leftmost). The draw stays so that the fixed prompt lists are unchanged.
        rng.random()
        body = ", ".join(objs[:-1]) + (" and " if rng.random() < 0.8 else " with ") + objs[-1]
    text = rng.choice(V.PREFIXES) + body
    if spec.background:
        text += " " + rng.choice(V.BACKGROUND_PHRASES).format(spec.background)
    return text


def all_caption_words() -> list[str]:
    """Every word a caption can contain, for the tokenizer's vocabulary (sorted, stable)."""
    parts: list[str] = [*V.SHAPES, *V.PLURALS.values(), *V.COLORS, *V.BACKGROUNDS, *V.SIZES,
                        *V.COUNTS.values(), "a", "an", "and", "with", "is", "placed", ","]
    for table in (V.POSITION_PHRASES, V.RELATION_PHRASES):
        for phrases in table.values():
            parts.extend(phrases)
    parts.extend(V.BACKGROUND_PHRASES)
    parts.extend(V.PREFIXES)
    words = {w for p in parts for w in p.replace("{}", " ").replace(",", " , ").split()}
    return sorted(words)


# ---------------------------------------------------------------------------- sampling
def _maybe(rng: random.Random, p: float, values) -> str | None:
    return rng.choice(list(values)) if rng.random() < p else None


def _distinct_pair(rng: random.Random, colored: bool, distinct_shapes: bool) -> tuple[ObjectSpec, ObjectSpec]:
    while True:
        a, b = rng.choice(V.SHAPES), rng.choice(V.SHAPES)
        ca = rng.choice(list(V.COLORS)) if colored else None
        cb = rng.choice(list(V.COLORS)) if colored else None
        if distinct_shapes and a == b:
            continue
        if (a, ca) != (b, cb):
            return ObjectSpec(a, ca), ObjectSpec(b, cb)


def sample_train_spec(rng: random.Random) -> SceneSpec:
    """A scene from the training distribution (all kinds of captions, optional attributes)."""
    kind = rng.choices(("single", "pair", "count", "relation", "triple"), (25, 25, 15, 25, 10))[0]
    # A named background in half the captions: at 30% (black and gray 10% each, white the rest),
    # held-out prompts on black or gray scored half as well as on white.
    bg = _maybe(rng, 0.5, V.BACKGROUNDS)
    if kind == "single":
        o = ObjectSpec(rng.choice(V.SHAPES), _maybe(rng, 0.75, V.COLORS), _maybe(rng, 0.5, V.SIZES),
                       position=_maybe(rng, 0.5, V.POSITIONS))
        return SceneSpec((o,), background=bg)
    if kind == "count":
        o = ObjectSpec(rng.choice(V.SHAPES), _maybe(rng, 0.6, V.COLORS), _maybe(rng, 0.3, V.SIZES),
                       count=rng.choice(list(V.COUNTS)))
        return SceneSpec((o,), background=bg)
    if kind == "triple":
        colored = rng.random() < 0.6
        objs = []
        while len(objs) < 3:
            o = ObjectSpec(rng.choice(V.SHAPES), rng.choice(list(V.COLORS)) if colored else None)
            if all((o.shape, o.color) != (p.shape, p.color) for p in objs):
                objs.append(o)
        return SceneSpec(tuple(objs), background=bg)
    a, b = _distinct_pair(rng, rng.random() < 0.65, distinct_shapes=False)
    a = ObjectSpec(a.shape, a.color, _maybe(rng, 0.2, V.SIZES))
    b = ObjectSpec(b.shape, b.color, _maybe(rng, 0.2, V.SIZES))
    rel = rng.choice(list(V.RELATIONS)) if kind == "relation" else None
    return SceneSpec((a, b), relation=rel, background=bg)


def sample_eval_spec(category: str, rng: random.Random) -> SceneSpec:
    """A scene of one GenEval-like category (the prompts ShapesEval scores)."""
    bg = _maybe(rng, 0.3, V.BACKGROUNDS)
    if category == "single_object":
        return SceneSpec((ObjectSpec(rng.choice(V.SHAPES), size=_maybe(rng, 0.3, V.SIZES)),), background=bg, category=category)
    if category == "colors":
        o = ObjectSpec(rng.choice(V.SHAPES), rng.choice(list(V.COLORS)), _maybe(rng, 0.3, V.SIZES))
        return SceneSpec((o,), background=bg, category=category)
    if category == "counting":
        o = ObjectSpec(rng.choice(V.SHAPES), _maybe(rng, 0.5, V.COLORS), count=rng.choice(list(V.COUNTS)))
        return SceneSpec((o,), background=bg, category=category)
    if category == "two_object":
        a, b = _distinct_pair(rng, False, True)
        a, b = (ObjectSpec(o.shape, size=_maybe(rng, 0.3, V.SIZES)) for o in (a, b))
        return SceneSpec((a, b), background=bg, category=category)
    if category == "color_attr":
        while True:
            a, b = _distinct_pair(rng, True, True)
            if a.color != b.color:
                return SceneSpec((a, b), background=bg, category=category)
    if category == "position":
        if rng.random() < 0.35:
            o = ObjectSpec(rng.choice(V.SHAPES), _maybe(rng, 0.5, V.COLORS), position=rng.choice(list(V.POSITIONS)))
            return SceneSpec((o,), background=bg, category=category)
        a, b = _distinct_pair(rng, rng.random() < 0.5, distinct_shapes=False)
        return SceneSpec((a, b), relation=rng.choice(list(V.RELATIONS)), background=bg, category=category)
    raise ValueError(f"unknown category {category!r}")


def sample_train(rng: random.Random) -> SceneSpec:
    while True:
        spec = sample_train_spec(rng)
        if split_of(spec) == "train":
            return spec


def eval_prompts(split: str, per_category: int, seed: int = 2026) -> list[tuple[SceneSpec, str]]:
    """A fixed list of distinct (spec, caption) pairs of a held-out split, per category."""
    rng = random.Random(seed)
    out: list[tuple[SceneSpec, str]] = []
    for cat in CATEGORIES:  # distinct within each category: a spec's key does not hold its category
        out += draw_distinct(partial(sample_eval_spec, cat), split_of, caption, split, per_category, rng, set())
    return out


def draw_distinct(sample, split_of, caption, split: str, n: int, rng: random.Random, seen: set[str]) -> list[tuple]:
    """Up to n (spec, caption) pairs of sample(rng) specs in `split` whose key() is not in seen
    (each one's is added): the caller's seen set says across what the pairs are distinct."""
    out: list[tuple] = []
    tries = 0
    while len(out) < n and tries < 200_000:
        tries += 1
        spec = sample(rng)
        if split_of(spec) != split or spec.key() in seen:
            continue
        seen.add(spec.key())
        out.append((spec, caption(spec, rng)))
    return out

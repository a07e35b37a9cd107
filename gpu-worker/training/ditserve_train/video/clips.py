"""Clip specifications, their captions, and the fixed train/validation/test split (as scenes.py).

A ClipSpec holds only what a caption says; whatever it leaves open (a color, a size, where an
object starts, a motion not named at all) is drawn when the clip is laid out (trajectory.py). The
split hashes the canonical key, so a held-out combination is never trained on under any paraphrase.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import partial

from .. import vocab as V
from ..scenes import all_caption_words, draw_distinct
from . import motions as M

CATEGORIES = ("move", "speed", "path", "still", "transform", "two_object")


@dataclass(frozen=True)
class Motion:
    kind: str  # one of motions.MOTION_KINDS
    direction: str | None = None  # move: motions.DIRECTIONS
    speed: str | None = None  # move: "slowly" / "quickly"; None is normal
    start: str | None = None  # path from, or where a still / turning object stays: vocab.POSITIONS
    end: str | None = None  # path to
    color: str | None = None  # turn: the color at the end

    def key(self) -> str:
        return f"{self.kind}:{self.direction or '-'}:{self.speed or '-'}:{self.start or '-'}:{self.end or '-'}:{self.color or '-'}"


@dataclass(frozen=True)
class ClipObject:
    shape: str
    color: str | None = None  # for a color change, the color at the start (required)
    size: str | None = None  # never with grow/shrink (the size changes)
    motion: Motion | None = None  # None: the caption names no motion (or the group's motion rules)

    def key(self) -> str:
        return f"{self.size or '-'}:{self.color or '-'}:{self.shape}:{self.motion.key() if self.motion else '-'}"


@dataclass(frozen=True)
class ClipSpec:
    objects: tuple[ClipObject, ...]  # one or two
    group: str | None = None  # "apart" / "together": the two objects' distance; their motions are None
    background: str | None = None
    category: str = field(default="train", compare=False)

    def key(self) -> str:
        """Canonical content key: equal for captions that say the same thing. Each object carries
        its own motion, so the order in which two are named says nothing."""
        objs = sorted(o.key() for o in self.objects)
        return "|".join(objs) + f"|group={self.group or '-'}|bg={self.background or '-'}"


def split_of(spec: ClipSpec) -> str:
    """80% train, 10% validation, 10% test, by a stable hash of the canonical key."""
    h = int.from_bytes(hashlib.md5(("clip|" + spec.key()).encode()).digest()[:4], "little") % 100
    return "train" if h < 80 else "val" if h < 90 else "test"


# ---------------------------------------------------------------------------- captions
def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _noun(o: ClipObject, rng: random.Random, static: bool = False) -> str:
    words = [w for w in (rng.choice(M.STATIC_ADJECTIVES) if static else None, o.size, o.color) if w]
    noun = " ".join([*words, o.shape])
    return f"{_article(noun)} {noun}"


def _predicate(m: Motion, rng: random.Random, third: bool) -> str:
    """What the object does, as a participle ("moving left") or in the third person ("moves left")."""
    def pick(pairs: tuple[tuple[str, str], ...]) -> str:
        return rng.choice(pairs)[1 if third else 0]

    if m.kind == "move":
        verb, where = pick(M.MOVE_VERBS), rng.choice(M.DIRECTION_PHRASES[m.direction])
        if not m.speed:
            return f"{verb} {where}"
        s = rng.choice(M.SPEED_WORDS[m.speed])
        if s.endswith("ly"):  # adverbs of manner also go before the verb; "fast" does not
            return rng.choice((f"{s} {verb} {where}", f"{verb} {s} {where}", f"{verb} {where} {s}"))
        return rng.choice((f"{verb} {s} {where}", f"{verb} {where} {s}"))
    if m.kind == "path":
        return f"{pick(M.MOVE_VERBS)} {M.PATH_PHRASE.format(m.start, m.end)}"
    if m.kind == "still":
        text = pick(M.STILL_PHRASES)
    elif m.kind == "grow":
        text = pick(M.GROW_PHRASES)
    elif m.kind == "shrink":
        text = pick(M.SHRINK_PHRASES)
    elif m.kind == "turn":
        text = pick(M.TURN_PHRASES).format(m.color)
    else:
        raise ValueError(f"unknown motion {m.kind!r}")
    if m.start:
        text += " " + rng.choice(V.POSITION_PHRASES[m.start])
    return text


# The forms of "an object doing something": "a star moving left", "a star is moving left", "a star
# moves left", "a star that moves left", and for one standing still, "a static star".
PARTICIPLE, IS_PARTICIPLE, THIRD, THAT_THIRD, STATIC = range(5)


def _object_clause(o: ClipObject, rng: random.Random, forms: tuple[int, ...]) -> str:
    if o.motion is None:
        return _noun(o, rng)
    if STATIC in forms and o.motion.kind == "still" and o.motion.start is None and rng.random() < 0.3:
        return _noun(o, rng, static=True)
    noun, form = _noun(o, rng), rng.choice([f for f in forms if f != STATIC])
    if form == PARTICIPLE:
        return f"{noun} {_predicate(o.motion, rng, third=False)}"
    if form == IS_PARTICIPLE:
        return f"{noun} is {_predicate(o.motion, rng, third=False)}"
    if form == THIRD:
        return f"{noun} {_predicate(o.motion, rng, third=True)}"
    return f"{noun} that {_predicate(o.motion, rng, third=True)}"


def caption(spec: ClipSpec, rng: random.Random) -> str:
    prefix = rng.choice(M.VIDEO_PREFIXES)
    plain = bool(prefix)  # "a video of a star moves left" would not be English
    if spec.group:
        a, b = spec.objects
        if a == b:
            words = [w for w in (a.size, a.color) if w]
            subject = " ".join(["two", *words, V.PLURALS[a.shape]])
        else:
            subject = f"{_noun(a, rng)} and {_noun(b, rng)}"
        participle, plural = rng.choice(M.GROUP_PHRASES[spec.group])
        form = 0 if plain else rng.choice((0, 1, 2))
        body = f"{subject} {(participle, 'are ' + participle, plural)[form]}"
    elif len(spec.objects) == 1:
        forms = (PARTICIPLE, STATIC) if plain else (PARTICIPLE, PARTICIPLE, IS_PARTICIPLE, THIRD, THAT_THIRD, STATIC)
        body = _object_clause(spec.objects[0], rng, forms)
    elif rng.random() < 0.7:
        a, b = (_object_clause(o, rng, (PARTICIPLE, STATIC)) for o in spec.objects)
        body = f"{a} and {b}"
    else:
        a = _object_clause(spec.objects[0], rng, (PARTICIPLE,) if plain else (THIRD,))
        body = f"{a} while {_object_clause(spec.objects[1], rng, (THIRD,))}"
    text = prefix + body
    if spec.background:
        text += " " + rng.choice(V.BACKGROUND_PHRASES).format(spec.background)
    return text


def all_clip_words() -> list[str]:
    """Every word a clip caption can contain, plus the image captions' words (sorted, stable)."""
    parts: list[str] = ["two", "and", "while", "is", "are", "that", *M.VIDEO_PREFIXES,
                        *M.STATIC_ADJECTIVES, M.PATH_PHRASE, *V.POSITIONS]
    for pairs in (M.MOVE_VERBS, M.STILL_PHRASES, M.GROW_PHRASES, M.SHRINK_PHRASES, M.TURN_PHRASES,
                  *M.GROUP_PHRASES.values()):
        parts.extend(p for pair in pairs for p in pair)
    for table in (M.DIRECTION_PHRASES, M.SPEED_WORDS):
        parts.extend(p for phrases in table.values() for p in phrases)
    words = {w for p in parts for w in p.replace("{}", " ").split()}
    return sorted(words | set(all_caption_words()))


# ---------------------------------------------------------------------------- sampling
def _maybe(rng: random.Random, p: float, values) -> str | None:
    return rng.choice(list(values)) if rng.random() < p else None


def _move(rng: random.Random, speed_p: float = 0.5) -> Motion:
    speed = rng.choice(list(M.SPEED_WORDS)) if rng.random() < speed_p else None
    return Motion("move", direction=rng.choice(list(M.DIRECTIONS)), speed=speed)


def _path(rng: random.Random) -> Motion:
    start, end = rng.sample(list(V.POSITIONS), 2)
    return Motion("path", start=start, end=end)


def _single(kind: str, rng: random.Random, color_p: float, size_p: float, place_p: float, speed_p: float = 0.5) -> ClipObject:
    shape, color = rng.choice(V.SHAPES), _maybe(rng, color_p, V.COLORS)
    size = _maybe(rng, size_p, V.SIZES)
    if kind == "move":
        return ClipObject(shape, color, size, _move(rng, speed_p))
    if kind == "speed":
        return ClipObject(shape, color, size, _move(rng, speed_p=1.0))
    if kind == "path":
        return ClipObject(shape, color, size, _path(rng))
    if kind == "still":
        return ClipObject(shape, color, size, Motion("still", start=_maybe(rng, place_p, V.POSITIONS)))
    if kind in ("grow", "shrink"):
        return ClipObject(shape, color, None, Motion(kind))
    if kind == "turn":
        a, b = rng.sample(list(V.COLORS), 2)
        return ClipObject(shape, a, size, Motion("turn", start=_maybe(rng, place_p, V.POSITIONS), color=b))
    if kind == "open":
        return ClipObject(shape, color, size, None)
    raise ValueError(f"unknown kind {kind!r}")


def _pair(rng: random.Random, color_p: float, size_p: float) -> tuple[ClipObject, ClipObject]:
    """Two objects of different shapes, each with its own move or none (standing still)."""
    a, b = rng.sample(V.SHAPES, 2)
    objs = []
    for shape in (a, b):
        motion = _move(rng, speed_p=0.3) if rng.random() < 0.75 else Motion("still")
        objs.append(ClipObject(shape, _maybe(rng, color_p, V.COLORS), _maybe(rng, size_p, V.SIZES), motion))
    return tuple(objs)


def _group(rng: random.Random, color_p: float, size_p: float) -> tuple[ClipObject, ClipObject]:
    """Two objects whose distance changes: the same object twice ("two stars") or two different."""
    a = ClipObject(rng.choice(V.SHAPES), _maybe(rng, color_p, V.COLORS), _maybe(rng, size_p, V.SIZES))
    if rng.random() < 0.5:
        return a, a
    while True:
        b = ClipObject(rng.choice(V.SHAPES), _maybe(rng, color_p, V.COLORS), _maybe(rng, size_p, V.SIZES))
        if b.shape != a.shape:
            return a, b


def sample_train_spec(rng: random.Random) -> ClipSpec:
    """A clip from the training distribution (all kinds of captions, optional attributes)."""
    kind = rng.choices(("move", "path", "still", "grow", "shrink", "turn", "pair", "group", "open"),
                       (28, 14, 12, 6, 6, 8, 12, 10, 4))[0]
    bg = _maybe(rng, 0.5, V.BACKGROUNDS)
    if kind == "pair":
        return ClipSpec(_pair(rng, 0.6, 0.2), background=bg)
    if kind == "group":
        return ClipSpec(_group(rng, 0.6, 0.2), group=rng.choice(list(M.GROUP_PHRASES)), background=bg)
    return ClipSpec((_single(kind, rng, 0.75, 0.3, 0.4),), background=bg)


def sample_eval_spec(category: str, rng: random.Random) -> ClipSpec:
    """A clip of one MotionEval category."""
    bg = _maybe(rng, 0.3, V.BACKGROUNDS)
    if category in ("move", "speed", "path", "still"):  # "move" at the normal speed, "speed" at the others
        return ClipSpec((_single(category, rng, 0.6, 0.2, 0.5, speed_p=0.0),), background=bg, category=category)
    if category == "transform":
        kind = rng.choice(("grow", "shrink", "turn"))
        return ClipSpec((_single(kind, rng, 0.6, 0.2, 0.3),), background=bg, category=category)
    if category == "two_object":
        if rng.random() < 0.5:
            return ClipSpec(_pair(rng, 0.5, 0.0), background=bg, category=category)
        return ClipSpec(_group(rng, 0.5, 0.0), group=rng.choice(list(M.GROUP_PHRASES)), background=bg,
                        category=category)
    raise ValueError(f"unknown category {category!r}")


def sample_train(rng: random.Random) -> ClipSpec:
    while True:
        spec = sample_train_spec(rng)
        if split_of(spec) == "train":
            return spec


def eval_prompts(split: str, per_category: int, seed: int = 2026) -> list[tuple[ClipSpec, str]]:
    """A fixed list of distinct (spec, caption) pairs of a split, per category."""
    rng = random.Random(seed)
    out: list[tuple[ClipSpec, str]] = []
    seen: set[str] = set()  # distinct across categories: no clip is in two categories' lists
    for cat in CATEGORIES:
        out += draw_distinct(partial(sample_eval_spec, cat), split_of, caption, split, per_category, rng, seen)
    return out

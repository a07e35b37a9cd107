"""The video model's WordLevel tokenizer: the image tokenizer's class over the clip world's words
(the image model's vocabulary, and so its ids, stay as they are)."""

from __future__ import annotations

from ..tokenizer import WordTokenizer
from .clips import all_clip_words


def video_tokenizer() -> WordTokenizer:
    return WordTokenizer(all_clip_words())

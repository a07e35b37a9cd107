"""The video model's WordLevel tokenizer: the image tokenizer's class over the clip world's words
(the image model's words and the motion words, sorted together: ids differ from the image
model's, and from_image.py moves each image word's embedding to its video id)."""

from __future__ import annotations

from ..tokenizer import WordTokenizer
from .clips import all_clip_words


def video_tokenizer() -> WordTokenizer:
    return WordTokenizer(all_clip_words())

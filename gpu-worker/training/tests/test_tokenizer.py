"""The training-time tokenizer must give the same ids as the saved tokenizer.json."""

import random

import pytest

pytest.importorskip("tokenizers")

from tokenizers import Tokenizer

from ditserve_train.scenes import caption, sample_train
from ditserve_train.tokenizer import MAX_LENGTH, PAD, WordTokenizer


def test_fast_ids_equal_hugging_face_tokenizer(tmp_path):
    tok = WordTokenizer()
    tok.save(tmp_path)
    hf = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    rng = random.Random(0)
    texts = [caption(sample_train(rng), rng) for _ in range(500)] + ["", "A RED Circle, and zebras!"]
    for text in texts:
        ids = hf.encode(text).ids
        ids = ids[: MAX_LENGTH - 1] + [ids[-1]] if len(ids) > MAX_LENGTH else ids
        assert tok.ids(text) == ids + [PAD] * (MAX_LENGTH - len(ids)), text

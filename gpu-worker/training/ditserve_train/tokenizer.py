"""The WordLevel tokenizer, saved as a Hugging Face tokenizer.json (read by the TypeScript side).

Training tokenizes millions of captions, so it uses a plain dict lookup that gives the same ids
as the saved tokenizer (tests/test_tokenizer.py checks that they agree).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .scenes import all_caption_words

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ("[PAD]", "[UNK]", "[BOS]", "[EOS]")
MAX_LENGTH = 32
_WORD = re.compile(r"\w+|[^\w\s]+")  # the Whitespace pre-tokenizer's pattern


class WordTokenizer:
    def __init__(self, words: list[str] | None = None, max_length: int = MAX_LENGTH):
        words = words if words is not None else all_caption_words()
        self.vocab = {tok: i for i, tok in enumerate([*SPECIALS, *words])}
        self.max_length = max_length

    @classmethod
    def load(cls, folder: Path) -> "WordTokenizer":
        """The tokenizer that save() wrote to folder (its vocabulary and max length)."""
        tok = cls([], json.loads((folder / "tokenizer_config.json").read_text())["model_max_length"])
        tok.vocab = json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]
        return tok

    def ids(self, text: str) -> list[int]:
        body = [self.vocab.get(w, UNK) for w in _WORD.findall(text.lower())]
        ids = [BOS, *body][: self.max_length - 1] + [EOS]
        return ids + [PAD] * (self.max_length - len(ids))

    def batch(self, texts: list[str]) -> np.ndarray:
        return np.array([self.ids(t) for t in texts], dtype=np.int64)

    def save(self, folder: Path) -> None:
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

        tok = Tokenizer(models.WordLevel(self.vocab, unk_token="[UNK]"))
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        tok.post_processor = processors.TemplateProcessing(
            single="[BOS] $A [EOS]", special_tokens=[("[BOS]", BOS), ("[EOS]", EOS)]
        )
        folder.mkdir(parents=True, exist_ok=True)
        tok.save(str(folder / "tokenizer.json"))
        config = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": self.max_length,
            "pad_token": "[PAD]", "unk_token": "[UNK]", "bos_token": "[BOS]", "eos_token": "[EOS]",
            "padding_side": "right", "truncation_side": "right",
        }
        (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")

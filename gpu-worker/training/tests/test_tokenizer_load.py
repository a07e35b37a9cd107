"""WordTokenizer.load reads back a shipped tokenizer folder (no `tokenizers` needed)."""

from pathlib import Path

from ditserve_train.tokenizer import MAX_LENGTH, WordTokenizer

SHIPPED = Path(__file__).resolve().parents[3] / "models" / "shapes-mmdit-s" / "tokenizer"


def test_the_shipped_image_tokenizer_loads_as_the_one_it_was_saved_from():
    tok = WordTokenizer.load(SHIPPED)
    assert tok.max_length == MAX_LENGTH
    assert tok.vocab == WordTokenizer().vocab
    text = "Two small red circles above a blue star, on a black background"
    assert tok.ids(text) == WordTokenizer().ids(text)

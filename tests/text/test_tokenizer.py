"""The word tokenizer: regex split, Vocab with min_freq and special tokens, batches with padding and truncation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.text import SPECIAL_TOKENS, Vocab, WordTokenizer, word_tokenize


def test_word_tokenize_lowercases_and_splits_punctuation():
    assert word_tokenize("The plot wasn't BAD, really!") == ["the", "plot", "wasn't", "bad", ",", "really", "!"]
    assert word_tokenize("Keep Case", lowercase=False) == ["Keep", "Case"]


def test_vocab_specials_first_then_by_frequency_with_min_freq():
    vocab = Vocab.build([["b", "a", "b"], ["c", "b", "a"], ["d"]], min_freq=2)
    assert vocab.itos[:5] == list(SPECIAL_TOKENS) and vocab["<pad>"] == 0
    assert vocab.itos[5:] == ["b", "a"]  # b 3×, a 2×; c and d seen once
    assert vocab["c"] == vocab["<unk>"] == 1 and "c" not in vocab
    assert len(Vocab.build([["x", "y", "z"]], max_size=2)) == 7
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)


def test_ids_do_not_depend_on_the_order_of_the_data():
    a = Vocab.build([["x", "y"], ["y", "x"], ["z"]])
    b = Vocab.build([["z"], ["x", "y"], ["y", "x"]])
    assert a.itos == b.itos


TOK = WordTokenizer.from_texts(["the plot was good", "the plot was not bad", "good but boring"])


@pytest.fixture
def tok() -> WordTokenizer:
    return TOK


def test_batch_padding_truncation_and_attention_mask(tok):
    batch = tok(["the plot was good", "boring"], padding=True)
    ids, mask = batch["input_ids"].numpy(), batch["attention_mask"].numpy()
    assert ids.shape == (2, 6) and ids.dtype == np.int64
    assert ids[0, 0] == tok.cls_token_id and ids[0, -1] == tok.sep_token_id
    assert list(ids[1]) == [tok.cls_token_id, tok.vocab["boring"], tok.sep_token_id, 0, 0, 0]
    assert mask.tolist() == [[1] * 6, [1, 1, 1, 0, 0, 0]]
    long = tok(["the plot was not bad"], padding="max_length", truncation=True, max_length=5)
    assert long["input_ids"].numpy().tolist() == [[2] + [tok.vocab[w] for w in "the plot was".split()] + [3]]
    wide = tok(["good"], padding="max_length", max_length=8)["attention_mask"].numpy()
    assert wide.tolist() == [[1, 1, 1, 0, 0, 0, 0, 0]]


def test_unknown_words_and_decode(tok):
    ids = tok.encode("the film was good")
    assert ids[2] == tok.unk_token_id
    assert tok.decode(ids) == "the <unk> was good"
    batch = tok(["the plot was good", "good"], padding=True)["input_ids"]
    assert tok.batch_decode(batch) == ["the plot was good", "good"]


def test_pairs_get_segment_ids(tok):
    batch = tok(["the plot"], text_pair=["was good"])
    assert batch["input_ids"].numpy()[0].tolist() == tok.encode("the plot") + tok.encode("was good")[1:]
    assert batch["token_type_ids"].numpy().tolist() == [[0, 0, 0, 0, 1, 1, 1]]


def test_mistakes_are_explained(tok):
    with pytest.raises(ValueError, match="padding=True"):
        tok(["good", "the plot was good"])
    with pytest.raises(ValueError, match="max_length"):
        tok(["good"], truncation=True)
    with pytest.raises(ValueError, match="padding must be"):
        tok(["good"], padding="left")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["the", "plot", "was", "good", "not", "bad", "but"]), max_size=12),
                min_size=1, max_size=6), st.integers(3, 10))  # fmt: skip
def test_truncation_and_padding_always_give_max_length(sentences, max_length):
    tok = TOK
    texts = [" ".join(s) for s in sentences]
    batch = tok(texts, padding="max_length", truncation=True, max_length=max_length)
    ids, mask = batch["input_ids"].numpy(), batch["attention_mask"].numpy()
    assert ids.shape == (len(texts), max_length)
    assert ((ids == tok.pad_token_id) == (mask == 0)).all()  # the mask marks exactly the padding
    for row, words in zip(ids, sentences):
        kept = min(len(words), max_length - 2)
        assert tok.decode(row) == " ".join(words[:kept])

"""Byte-pair encoding: merges learned from pair counts (a hand-checked example), encode/decode round-trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.text import BPETokenizer, count_pairs, merge_pair, train_bpe

CORPUS = ["low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3]


def test_pair_counts_are_weighted_by_word_frequency():
    pairs = count_pairs({("l", "o", "w</w>"): 5, ("l", "o", "w", "e", "r</w>"): 2})
    assert pairs["l", "o"] == 7 and pairs["o", "w</w>"] == 5 and pairs["o", "w"] == 2


def test_merge_pair_merges_every_occurrence_left_to_right():
    assert merge_pair(("a", "a"), ("a", "a", "a", "b")) == ("aa", "a", "b")
    assert merge_pair(("e", "s"), ("n", "e", "w", "e", "s", "t</w>")) == ("n", "e", "w", "es", "t</w>")


def test_the_first_merges_of_the_classic_example():
    merges, alphabet = train_bpe(CORPUS, num_merges=4)
    # es (newest 6 + widest 3 = 9), then est</w> (9), then lo (low 5 + lower 2 = 7), then low? no: "l o" → "lo" ...
    assert merges[:3] == [("e", "s"), ("es", "t</w>"), ("l", "o")]
    assert alphabet == sorted(set("lowernewestwidest"))


def test_seen_words_become_one_token_unseen_ones_fall_into_pieces():
    tok = BPETokenizer.train(CORPUS, vocab_size=60, min_frequency=1)
    assert tok.tokenize("newest") == ["newest</w>"]
    assert tok.tokenize("lowest") == ["low", "est</w>"]
    assert tok.unk_token_id not in tok.encode("lowest widest")


def test_training_is_deterministic():
    a = BPETokenizer.train(["the plot was good but the acting was not"] * 3, vocab_size=50)
    b = BPETokenizer.train(["the plot was good but the acting was not"] * 3, vocab_size=50)
    assert a.merges == b.merges and a.vocab.itos == b.vocab.itos


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcdelnorstw", min_size=1, max_size=9), min_size=1, max_size=8))
def test_decode_encode_round_trips(words):
    tok = BPETokenizer.train(CORPUS + ["a b c d e l n o r s t w"], vocab_size=70, min_frequency=1)
    text = " ".join(words)
    assert tok.decode(tok.encode(text)) == text
    batch = tok([text, "low"], padding=True)
    assert tok.batch_decode(batch["input_ids"])[0] == text

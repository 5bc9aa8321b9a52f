"""Byte-pair encoding (Sennrich et al., 2016), written out step by step: learn merges from pair counts, apply them.

Training starts from characters. Every word of the corpus is split into its characters, the last
one marked as ending the word with ``</w>`` (so the "low" of "low" and the "low" inside "lower"
stay different symbols), and counted. Then, ``num_merges`` times:

1. count every pair of adjacent symbols, each word weighted by how often it occurs;
2. take the most frequent pair (a, b) (ties: the alphabetically first, so training is deterministic);
3. merge it: every ``a b`` in every word becomes the one symbol ``ab``, and (a, b) joins the merge list.

    words = {"l o w</w>": 5, "l o w e r</w>": 2, "n e w e s t</w>": 6, "w i d e s t</w>": 3}
    merge 1: ("e", "s") is the most frequent pair (9)  → "n e w es t</w>", "w i d es t</w>"
    merge 2: ("es", "t</w>") (9)                       → "n e w est</w>", "w i d est</w>"  ...

Encoding a new word replays the merges in the order they were learned (the earliest-learned
pair present is merged first, until no learned pair is left), so a word seen in training
becomes one token and an unseen one falls apart into known pieces: rare words never become
``<unk>``, only characters never seen do. Decoding concatenates the pieces and turns ``</w>``
back into spaces, so ``decode(encode(text))`` gives the text's words back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .tokenizer import SPECIAL_TOKENS, Tokenizer, Vocab, word_tokenize

END = "</w>"


def count_pairs(words: dict[tuple[str, ...], int]) -> Counter:
    """Step 1: how often each pair of adjacent symbols occurs, every word counted ``freq`` times."""
    pairs: Counter = Counter()
    for symbols, freq in words.items():
        for a, b in zip(symbols, symbols[1:]):
            pairs[a, b] += freq
    return pairs


def merge_pair(pair: tuple[str, str], symbols: tuple[str, ...]) -> tuple[str, ...]:
    """Step 3 for one word: every adjacent ``a b`` becomes ``ab`` (left to right, without overlaps)."""
    a, b = pair
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            out.append(a + b)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def train_bpe(
    texts: Iterable[str], num_merges: int, lowercase: bool = True, min_frequency: int = 2
) -> tuple[list[tuple[str, str]], list[str]]:
    """Learn up to ``num_merges`` merges from ``texts``; returns (merges in order, the base characters).

    Stops early when no pair occurs ``min_frequency`` times any more.
    """
    word_counts = Counter(w for t in texts for w in word_tokenize(t, lowercase))
    words = {(*w[:-1], w[-1] + END): c for w, c in word_counts.items()}  # "low" → ("l", "o", "w</w>")
    alphabet = sorted({ch for w in word_counts for ch in w})
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pairs = count_pairs(words)  # step 1
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))  # step 2: most frequent, ties alphabetical
        if pairs[best] < min_frequency:
            break
        merges.append(best)
        words = {merge_pair(best, symbols): c for symbols, c in words.items()}  # step 3
    return merges, alphabet


class BPETokenizer(Tokenizer):
    """Subword tokens from learned merges; the vocabulary is the special tokens, the characters, the merged symbols.

    ``BPETokenizer.train(texts, vocab_size=200)`` learns ``vocab_size − (specials + characters)``
    merges (fewer if the pairs run out). Tokens that end a word carry ``</w>``:
    "lowest" → ["low", "est</w>"].
    """

    def __init__(self, merges: Sequence[tuple[str, str]], alphabet: Sequence[str], lowercase: bool = True) -> None:
        self.merges = [tuple(m) for m in merges]
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}  # earlier merges apply first
        self.lowercase = lowercase
        symbols = list(alphabet) + [ch + END for ch in alphabet]
        symbols += [a + b for a, b in self.merges]
        self.vocab = Vocab(list(dict.fromkeys(symbols)), SPECIAL_TOKENS)
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, lowercase: bool = True, min_frequency: int = 2
    ) -> BPETokenizer:
        """Learn merges until the vocabulary has ``vocab_size`` tokens (or no pair is frequent enough)."""
        texts = list(texts)
        alphabet = sorted({ch for t in texts for w in word_tokenize(t, lowercase) for ch in w})
        base = len(SPECIAL_TOKENS) + 2 * len(alphabet)  # a character, and a character ending a word
        if vocab_size < base:
            raise ValueError(f"BPETokenizer.train: vocab_size {vocab_size} is below the {base} base symbols")
        merges, alphabet = train_bpe(texts, vocab_size - base, lowercase, min_frequency)
        return cls(merges, alphabet, lowercase)

    def bpe(self, word: str) -> list[str]:
        """One word → its subword tokens: start from characters, merge the earliest-learned pair until none is left."""
        if word in self._cache:
            return self._cache[word]
        symbols = (*word[:-1], word[-1] + END) if word else ()
        while len(symbols) > 1:
            pairs = [(self.ranks.get(p, len(self.ranks)), p) for p in zip(symbols, symbols[1:])]
            rank, pair = min(pairs)
            if rank == len(self.ranks):  # no learned pair left
                break
            symbols = merge_pair(pair, symbols)
        self._cache[word] = list(symbols)
        return self._cache[word]

    def tokenize(self, text: str) -> list[str]:
        """Split into words (``word_tokenize``), then each word into subwords."""
        return [piece for w in word_tokenize(text, self.lowercase) for piece in self.bpe(w)]

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """Concatenate the pieces; each ``</w>`` ends a word."""
        return "".join(tokens).replace(END, " ").strip()

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={len(self.vocab)}, merges={len(self.merges)})"

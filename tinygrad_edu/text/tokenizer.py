"""A word tokenizer a learner can read: lower-case, split with one regex, look words up in a Vocab.

    tok = WordTokenizer.from_texts(["The plot was not bad.", "Good but boring"], min_freq=1)
    batch = tok(["the plot was good", "boring"], padding=True, truncation=True, max_length=8)
    batch["input_ids"]        # Tensor (2, 6): <cls> the plot was good <sep> / <cls> boring <sep> <pad> ...
    batch["attention_mask"]   # Tensor (2, 6): 1 for real tokens, 0 for padding

Calling a tokenizer on a batch of strings works like the Hugging Face tokenizers learners meet
next: ``padding`` is False, True / "longest" (pad to the longest text of the batch) or
"max_length" (pad to ``max_length``); ``truncation=True`` cuts every text to ``max_length``
tokens, the special ones included; the result is a dict of int64 Tensors ``input_ids``,
``token_type_ids`` (0 for the first text, 1 for the optional second one, BERT's segments) and
``attention_mask``. ``Tokenizer`` holds that shared batching; a subclass only says how one text
becomes tokens (``tokenize``) and tokens become a text again (``convert_tokens_to_string``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..tensor import Tensor

PAD, UNK, CLS, SEP, MASK = "<pad>", "<unk>", "<cls>", "<sep>", "<mask>"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)  # ids 0..4 in every vocabulary made here

WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
"""A word (letters, digits, underscores, with inner apostrophes: "don't") or one punctuation mark."""


def word_tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Lower-case ``text`` and split it into words and punctuation marks: "Not bad!" → ["not", "bad", "!"]."""
    return WORD.findall(text.lower() if lowercase else text)


class Vocab:
    """A two-way map between tokens and ids: the special tokens first (``<pad>`` = 0), then by frequency.

    ``Vocab.build(token_lists, min_freq=2)`` keeps the tokens seen at least ``min_freq`` times
    (at most ``max_size`` of them, the most frequent; ties in alphabetical order so the ids never
    depend on the order of the data). A token not in the vocabulary maps to ``<unk>``.
    """

    def __init__(self, tokens: Sequence[str], specials: Sequence[str] = SPECIAL_TOKENS) -> None:
        itos = list(specials) + [t for t in tokens if t not in specials]
        if len(set(itos)) != len(itos):
            raise ValueError("Vocab: the tokens must be distinct")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}
        self.specials = tuple(specials)

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = SPECIAL_TOKENS,
    ) -> Vocab:
        """Count the tokens of every list; keep those seen ``min_freq`` times or more (the ``max_size`` commonest)."""
        if min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be >= 1, got {min_freq}")
        counts = Counter(t for tokens in token_lists for t in tokens)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(kept[:max_size] if max_size is not None else kept, specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token``; ``<unk>``'s id for a token the vocabulary does not know."""
        return self.stoi.get(token, self.stoi[UNK])

    def lookup_token(self, index: int) -> str:
        """The token with id ``index``."""
        return self.itos[index]

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {', '.join(self.itos[:8])}{', ...' if len(self) > 8 else ''})"


class Tokenizer(ABC):
    """What every tokenizer here shares: special tokens, batching with padding and truncation, decoding.

    A subclass sets ``self.vocab`` and defines ``tokenize(text) -> list[str]`` and
    ``convert_tokens_to_string(tokens) -> str``.
    """

    vocab: Vocab

    @abstractmethod
    def tokenize(self, text: str) -> list[str]:
        """One text → its tokens (no special tokens)."""

    @abstractmethod
    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """Tokens → text, the inverse of ``tokenize`` up to lower-casing and spacing."""

    # ---- ids of the special tokens -------------------------------------------------------------
    @property
    def pad_token_id(self) -> int:
        """The id of ``<pad>`` (0)."""
        return self.vocab.stoi[PAD]

    @property
    def unk_token_id(self) -> int:
        """The id of ``<unk>``."""
        return self.vocab.stoi[UNK]

    @property
    def cls_token_id(self) -> int:
        """The id of ``<cls>``, the first token of every encoded text (the classifier reads its vector)."""
        return self.vocab.stoi[CLS]

    @property
    def sep_token_id(self) -> int:
        """The id of ``<sep>``, which ends each segment."""
        return self.vocab.stoi[SEP]

    @property
    def mask_token_id(self) -> int:
        """The id of ``<mask>``, what masked-language modelling puts in place of a hidden token."""
        return self.vocab.stoi[MASK]

    @property
    def vocab_size(self) -> int:
        """How many tokens the vocabulary has, special tokens included."""
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    # ---- one text ------------------------------------------------------------------------------
    def convert_tokens_to_ids(self, tokens: Sequence[str]) -> list[int]:
        """Tokens → ids (``<unk>`` for tokens not in the vocabulary)."""
        return [self.vocab[t] for t in tokens]

    def convert_ids_to_tokens(self, ids: Iterable[int]) -> list[str]:
        """Ids → tokens."""
        return [self.vocab.lookup_token(int(i)) for i in ids]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """One text → ids: ``[<cls>] + ids + [<sep>]`` with the special tokens."""
        ids = self.convert_tokens_to_ids(self.tokenize(text))
        return [self.cls_token_id, *ids, self.sep_token_id] if add_special_tokens else ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Ids → text; ``<pad>``, ``<cls>``, ``<sep>`` and ``<mask>`` are left out unless asked for."""
        values = ids.tolist() if isinstance(ids, Tensor | np.ndarray) else list(ids)
        skip = {self.vocab.stoi[t] for t in (PAD, CLS, SEP, MASK)} if skip_special_tokens else set()
        return self.convert_tokens_to_string(self.convert_ids_to_tokens(i for i in values if i not in skip))

    # ---- a batch -------------------------------------------------------------------------------
    def __call__(
        self,
        texts: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        add_special_tokens: bool = True,
    ) -> dict[str, Tensor]:
        """Encode a batch: ``{"input_ids", "token_type_ids", "attention_mask"}``, int64 Tensors (batch, length).

        ``padding``: False (every text must then have the same length), True or "longest" (pad to
        the batch's longest), "max_length" (pad to ``max_length``). ``truncation=True`` cuts to
        ``max_length`` tokens, special tokens included (a pair loses tokens from its longer text first).
        """
        if padding not in (False, True, "longest", "max_length", "do_not_pad"):
            raise ValueError(f"padding must be False, True, 'longest' or 'max_length', got {padding!r}")
        if (padding == "max_length" or truncation) and max_length is None:
            raise ValueError(f"padding={padding!r}, truncation={truncation!r} need max_length")
        if isinstance(texts, str):
            texts = [texts]
            text_pair = None if text_pair is None else [text_pair] if isinstance(text_pair, str) else text_pair
        pairs = [None] * len(texts) if text_pair is None else list(text_pair)
        if len(pairs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(pairs)} text_pair entries")
        rows = [self._encode_pair(a, b, truncation, max_length, add_special_tokens) for a, b in zip(texts, pairs)]
        lengths = [len(ids) for ids, _ in rows]
        if padding in (False, "do_not_pad"):
            if len(set(lengths)) > 1:
                raise ValueError(
                    f"the texts have {min(lengths)} to {max(lengths)} tokens, so they make no rectangular Tensor: "
                    "pass padding=True (and truncation=True with max_length=...)"
                )
            width = lengths[0] if lengths else 0
        else:
            width = max_length if padding == "max_length" else max(lengths, default=0)
        ids = np.full((len(rows), width), self.pad_token_id, dtype=np.int64)
        segments = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, (row, seg) in enumerate(rows):
            ids[i, : len(row)], segments[i, : len(row)], mask[i, : len(row)] = row, seg, 1
        return {"input_ids": Tensor(ids), "token_type_ids": Tensor(segments), "attention_mask": Tensor(mask)}

    def _encode_pair(
        self, a: str, b: str | None, truncation: bool, max_length: int | None, special: bool
    ) -> tuple[list[int], list[int]]:
        """(ids, segment ids) of one text or pair: <cls> a <sep> [b <sep>], truncated to max_length."""
        first = self.convert_tokens_to_ids(self.tokenize(a))
        second = None if b is None else self.convert_tokens_to_ids(self.tokenize(b))
        if truncation:
            room = max_length - (((1 if second is None else 2) + 1) if special else 0)
            if room < 0:
                raise ValueError(f"max_length {max_length} leaves no room for the special tokens")
            while len(first) + (0 if second is None else len(second)) > room:  # the longer loses a token
                if second is not None and len(second) > len(first):
                    second.pop()
                else:
                    first.pop()
        if not special:
            ids, segments = first + (second or []), [0] * len(first) + [1] * len(second or [])
            return ids, segments
        ids = [self.cls_token_id, *first, self.sep_token_id]
        segments = [0] * len(ids)
        if second is not None:
            ids += [*second, self.sep_token_id]
            segments += [1] * (len(second) + 1)
        return ids, segments

    def batch_decode(
        self, ids: Tensor | np.ndarray | Sequence[Sequence[int]], skip_special_tokens: bool = True
    ) -> list[str]:
        """Decode every row of a batch of ids."""
        rows = ids.tolist() if isinstance(ids, Tensor | np.ndarray) else ids
        return [self.decode(row, skip_special_tokens) for row in rows]


class WordTokenizer(Tokenizer):
    """Words as tokens: ``word_tokenize`` (lower-case, regex split) then a Vocab lookup.

    ``WordTokenizer.from_texts(texts, min_freq=2)`` builds the vocabulary from training texts;
    words seen fewer than ``min_freq`` times (and all unseen words) become ``<unk>``.
    """

    def __init__(self, vocab: Vocab, lowercase: bool = True) -> None:
        self.vocab, self.lowercase = vocab, lowercase

    @classmethod
    def from_texts(
        cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None, lowercase: bool = True
    ) -> WordTokenizer:
        """A tokenizer whose vocabulary holds the words of ``texts`` seen at least ``min_freq`` times."""
        vocab = Vocab.build((word_tokenize(t, lowercase) for t in texts), min_freq=min_freq, max_size=max_size)
        return cls(vocab, lowercase)

    def tokenize(self, text: str) -> list[str]:
        """Lower-case and split: "The plot wasn't bad." → ["the", "plot", "wasn't", "bad", "."]."""
        return word_tokenize(text, self.lowercase)

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """Words joined by single spaces."""
        return " ".join(tokens)

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={len(self.vocab)}, lowercase={self.lowercase})"

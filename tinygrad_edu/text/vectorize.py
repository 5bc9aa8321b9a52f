"""Bag-of-words and TF-IDF vectors: a text becomes one number per vocabulary word, its order forgotten.

    vec = CountVectorizer(max_features=1000).fit(train_texts)
    x = vec.transform(["not bad at all"])      # (1, V) float32: how often each word occurs

``CountVectorizer`` counts; ``TfidfVectorizer`` weighs each count by how rare the word is across
the training texts and scales each row to unit length, with scikit-learn's formulas (so
``sklearn.feature_extraction.text.TfidfVectorizer`` with the same tokenizer gives the same numbers):

    tf(t, d)  = count of word t in text d                  (1 + ln count with sublinear_tf=True)
    idf(t)    = ln((1 + n) / (1 + df(t))) + 1              (smooth_idf=True; ln(n / df(t)) + 1 without)
    x(t, d)   = tf(t, d) · idf(t),   then  x(d) ← x(d) / ‖x(d)‖₂      (norm="l2")

where n is the number of training texts and df(t) the number of them containing t. The
vocabulary is sorted alphabetically, as scikit-learn sorts it; ``max_features`` keeps the words
with the highest counts over the training texts. Both return dense NumPy float32 arrays (a
vocabulary of a thousand words is small); words never seen in training are dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .tokenizer import word_tokenize


class CountVectorizer:
    """Texts → word counts (N, V), the bag of words; ``binary=True`` gives 1 for present words instead."""

    def __init__(
        self,
        max_features: int | None = None,
        min_df: int = 1,
        binary: bool = False,
        tokenizer: Callable[[str], list[str]] = word_tokenize,
    ) -> None:
        self.max_features, self.min_df, self.binary, self.tokenizer = max_features, min_df, binary, tokenizer
        self.vocabulary_: dict[str, int] = {}

    def fit(self, texts: Iterable[str]) -> CountVectorizer:
        """Learn the vocabulary: words in at least ``min_df`` texts, the ``max_features`` most frequent."""
        docs = [self.tokenizer(t) for t in texts]
        total = Counter(w for d in docs for w in d)
        df = Counter(w for d in docs for w in set(d))
        words = [w for w in total if df[w] >= self.min_df]
        if self.max_features is not None:
            words = sorted(words, key=lambda w: (-total[w], w))[: self.max_features]
        self.vocabulary_ = {w: i for i, w in enumerate(sorted(words))}
        self._fitted(docs)
        return self

    def _fitted(self, docs: list[list[str]]) -> None:
        """What a subclass learns from the training texts after the vocabulary (the idf of TfidfVectorizer)."""

    def get_feature_names_out(self) -> np.ndarray:
        """The vocabulary's words, in column order."""
        return np.array(sorted(self.vocabulary_, key=self.vocabulary_.__getitem__), dtype=object)

    def _counts(self, texts: Iterable[str]) -> np.ndarray:
        if not self.vocabulary_:
            raise RuntimeError(f"{type(self).__name__}: call fit(texts) before transform")
        texts = [texts] if isinstance(texts, str) else list(texts)
        x = np.zeros((len(texts), len(self.vocabulary_)), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in self.tokenizer(text):
                j = self.vocabulary_.get(w)
                if j is not None:
                    x[i, j] += 1
        return x

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """Texts → (N, V) float32 counts (or 0/1 with ``binary=True``)."""
        x = self._counts(texts)
        return np.minimum(x, 1) if self.binary else x

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        """``fit(texts)`` then ``transform(texts)``."""
        return self.fit(texts).transform(texts)


class TfidfVectorizer(CountVectorizer):
    """Texts → TF-IDF vectors (N, V): counts weighted by ``idf_``, rows scaled to unit length (see the module)."""

    def __init__(
        self,
        max_features: int | None = None,
        min_df: int = 1,
        norm: str | None = "l2",
        smooth_idf: bool = True,
        sublinear_tf: bool = False,
        tokenizer: Callable[[str], list[str]] = word_tokenize,
    ) -> None:
        if norm not in ("l1", "l2", None):
            raise ValueError(f"TfidfVectorizer: norm must be 'l1', 'l2' or None, got {norm!r}")
        super().__init__(max_features, min_df, False, tokenizer)
        self.norm, self.smooth_idf, self.sublinear_tf = norm, smooth_idf, sublinear_tf
        self.idf_ = np.zeros(0, dtype=np.float32)

    def _fitted(self, docs: list[list[str]]) -> None:
        """idf(t) = ln((1 + n) / (1 + df(t))) + 1, or ln(n / df(t)) + 1 without smoothing."""
        n = len(docs)
        df = np.zeros(len(self.vocabulary_))
        for d in docs:
            for w in set(d):
                if w in self.vocabulary_:
                    df[self.vocabulary_[w]] += 1
        s = 1.0 if self.smooth_idf else 0.0
        self.idf_ = (np.log((n + s) / (df + s)) + 1).astype(np.float32)

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """Texts → (N, V) float32 TF-IDF rows (an empty row stays zero)."""
        tf = self._counts(texts).astype(np.float64)
        if self.sublinear_tf:
            tf[tf > 0] = 1 + np.log(tf[tf > 0])
        x = tf * self.idf_
        if self.norm is not None:
            length = np.abs(x).sum(1) if self.norm == "l1" else np.sqrt((x * x).sum(1))
            x = x / np.where(length > 0, length, 1)[:, None]
        return x.astype(np.float32)

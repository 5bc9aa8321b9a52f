"""A synthetic sentiment data set, generated from a small grammar with negation and contrast.

The sentences are made up (no real reviews are involved) and generated deterministically from a
seed, so every run and every machine sees the same data. Each sentence is one to two clauses:

    clause    = NOUN VERB [INTENSIFIER] ADJECTIVE [and ADJECTIVE]   "the plot felt really dull and flat"
              | NOUN was|is not [INTENSIFIER] ADJECTIVE       "the plot was not very good"
              | NOUN did not feel|seem [INTENSIFIER] ADJECTIVE
    sentence  = clause                                        label: the clause's polarity
              | clause and clause        (same polarity)      label: that polarity
              | clause but clause        (opposite)           label: the SECOND clause's
              | clause although clause   (opposite)           label: the FIRST clause's

A clause's polarity is its adjective's (16 positive, 16 negative; two adjectives in one clause
always agree), flipped by ``not``. So "good but boring" is negative and "boring but good"
positive; "not bad" is positive. Every clause starts with "the", so the word before a "the"
joins two clauses (an "and" before an adjective joins two adjectives).

Why a bag of words cannot reach 100 %: "the plot was good but the cast was dull" (negative)
and "the cast was dull but the plot was good" (positive) have exactly the same words, so any
model that sees only word counts must get one of them wrong; likewise "not good … bad" versus
"good … not bad" move ``not`` between the clauses without changing the bag. A model that reads
the order (a Transformer, an RNN) can get every sentence right. ``swap_clauses`` makes such
pairs; the tests assert they exist and that a bag-of-words model trained on plenty of data
stays below 100 % while the grammar itself is fully determined by the word order.

The same generator without its labels makes the unlabelled corpus a masked language model
pretrains on (``make_unlabelled``): synthetic reviews of a few sentences that keep one sentiment
and end with a verdict ("… . the acting was not good . i hated it"), so predicting a hidden
verdict or adjective requires knowing which adjectives are positive and what ``not`` and ``but``
do in the other sentences, which is what the classifier later needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import Dataset

POSITIVE = ("good", "great", "excellent", "wonderful", "brilliant", "fun", "moving", "charming", "clever",
            "beautiful", "superb", "gripping", "delightful", "fresh", "stunning", "solid")  # fmt: skip
NEGATIVE = ("bad", "awful", "boring", "dull", "terrible", "weak", "silly", "tedious", "clumsy", "bland", "poor",
            "messy", "predictable", "flat", "lifeless", "forgettable")  # fmt: skip
NOUNS = ("the movie", "the film", "the plot", "the story", "the acting", "the cast", "the script", "the music",
         "the ending", "the dialogue", "the pacing", "the direction", "the effects", "the camera work")  # fmt: skip
VERBS = ("was", "is", "felt", "seemed")
NEGATED_VERBS = ("was not", "is not", "did not feel", "did not seem")
INTENSIFIERS = ("very", "really", "quite", "truly", "so")
KINDS = ("single", "and", "but", "although")
CLASSES = ["negative", "positive"]
VERDICTS = (("hated", "disliked"), ("loved", "liked"))  # how an unlabelled review may end: "… . i loved it"


@dataclass
class TextDataset(Dataset):
    """Texts with integer labels: ``ds[i] = (text, label)``; ``classes[label]`` names the label.

    The synthetic set also fills ``negated`` (the sentence contains "not") and ``kinds``
    (single / and / but / although); loaded files leave them empty.
    """

    texts: list[str]
    labels: np.ndarray
    classes: list[str]
    negated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    kinds: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[str, int]:
        return self.texts[index], int(self.labels[index])

    def subset(self, index: np.ndarray) -> TextDataset:
        """The samples at ``index`` (an array of positions or a boolean mask), as a new TextDataset."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index, dtype=np.int64)
        negated = self.negated[index] if len(self.negated) else self.negated
        kinds = [self.kinds[i] for i in index] if self.kinds else []
        return TextDataset([self.texts[i] for i in index], self.labels[index], self.classes, negated, kinds)


def _clause(rng: np.random.Generator, polarity: int, p_not: float, p_pair: float) -> tuple[str, bool]:
    """One clause with the given polarity (+1 / −1): pick a noun, a verb, maybe "not", an adjective to match."""
    negated = bool(rng.random() < p_not)
    adjective_polarity = -polarity if negated else polarity
    adjective = rng.choice(POSITIVE if adjective_polarity > 0 else NEGATIVE)
    words = [rng.choice(NOUNS), rng.choice(NEGATED_VERBS if negated else VERBS)]
    if rng.random() < 0.25:
        words.append(rng.choice(INTENSIFIERS))
    words.append(adjective)
    if not negated and rng.random() < p_pair:  # "clever and fresh": two adjectives of one polarity
        others = [a for a in (POSITIVE if adjective_polarity > 0 else NEGATIVE) if a != adjective]
        words += ["and", rng.choice(others)]
    return " ".join(words), negated


def make_sentiment(
    n: int = 2000, seed: int = 0, p_not: float = 0.4, p_pair: float = 0.3, kinds: tuple[str, ...] = KINDS
) -> TextDataset:
    """``n`` labelled sentences (0 = negative, 1 = positive), the same for the same seed; see the module.

    ``p_not``: the chance that a clause is negated; ``p_pair``: that a clause without "not" has
    two adjectives ("clever and fresh", always of one polarity).
    """
    rng = np.random.default_rng([seed, 11])
    texts, labels, negated, chosen = [], np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), []
    for i in range(n):
        kind = kinds[int(rng.integers(len(kinds)))]
        label = int(rng.integers(2))
        polarity = 1 if label else -1
        if kind == "single":
            text, neg = _clause(rng, polarity, p_not, p_pair)
        elif kind == "and":
            (a, na), (b, nb) = _clause(rng, polarity, p_not, p_pair), _clause(rng, polarity, p_not, p_pair)
            text, neg = f"{a} and {b}", na or nb
        elif kind == "but":  # the second clause decides
            (a, na), (b, nb) = _clause(rng, -polarity, p_not, p_pair), _clause(rng, polarity, p_not, p_pair)
            text, neg = f"{a} but {b}", na or nb
        else:  # "although": the first clause decides
            (a, na), (b, nb) = _clause(rng, polarity, p_not, p_pair), _clause(rng, -polarity, p_not, p_pair)
            text, neg = f"{a} although {b}", na or nb
        texts.append(text)
        labels[i], negated[i] = label, neg
        chosen.append(kind)
    return TextDataset(texts, labels, list(CLASSES), negated, chosen)


def make_unlabelled(
    n: int = 10000,
    seed: int = 1,
    p_verdict: float = 1.0,
    p_pair: float = 0.6,
    parts: int = 2,
    kinds: tuple[str, ...] = KINDS,
) -> list[str]:
    """``n`` synthetic reviews from the same grammar without their labels: a corpus for masked-language pretraining.

    Each review is ``parts`` sentences that share one sentiment, like a real review whose writer
    keeps one opinion throughout, then (with probability ``p_verdict``) the writer's verdict:

        "the plot was not bad but the music felt dull . the acting was not good . i hated it"

    The first sentence is any sentence of ``make_sentiment`` (negation, "but", "although"), the
    later ones single clauses. Nobody labelled them; but to fill in a hidden adjective of one
    sentence ("the acting was not <mask>") or the verdict ("i <mask> it"), a masked language model
    has to work out the polarity of the OTHER sentences, negation and contrast included, and which
    of the 32 adjectives share a polarity. That is how sentiment gets into a model pretrained on
    unlabelled text, and what the classifier later reads out. Tokenize with a ``max_length`` the
    whole review fits in: a truncated review loses its verdict.

    Measured with lesson 23's recipe (24 000 reviews of ``parts=3``, ``p_pair=1.0``, tokenized to
    48 tokens; d_model 64, 2 layers; 3000 steps of BERT's 15 % masking): the verdict probe ("i
    <mask> it") stays near chance within that budget, yet the pretrained encoder, fine-tuned on
    300 labelled sentences, beats the same network trained from scratch on them by 8 to 26 points
    on the negated sentences (three pretraining seeds, each the mean of five labelled sets): what
    transfers is an encoder that already reads the grammar.

    ``p_pair``: the chance of two adjectives in one clause ("clever and fresh", always of one
    polarity); ``parts``: sentences per review; ``kinds``: the kinds of the first sentence, as in
    ``make_sentiment``.
    """
    first = make_sentiment(n, seed=seed + 1000, p_pair=p_pair, kinds=kinds)
    rng = np.random.default_rng([seed, 12])
    texts = []
    for text, label in zip(first.texts, first.labels):
        polarity = 1 if label else -1
        sentences = [text] + [_clause(rng, polarity, 0.4, p_pair)[0] for _ in range(parts - 1)]
        if rng.random() < p_verdict:
            sentences.append("i " + rng.choice(VERDICTS[int(label)]) + " it")
        texts.append(" . ".join(sentences))
    return texts


def swap_clauses(text: str) -> str:
    """Swap the two clauses, "A but B" → "B but A" (also for "although", "and"): the same bag of words.

    For "but" and "although" the swapped sentence has the opposite label, so a bag-of-words
    model must get one of the two wrong; a one-clause sentence is returned unchanged.
    """
    words = text.split()
    for i in range(1, len(words) - 1):
        if words[i + 1] == "the":  # the joiner of two clauses
            return " ".join(words[i + 1 :] + [words[i]] + words[:i])
    return text

"""The synthetic sentiment set: deterministic, labels follow the grammar, and a bag of words cannot reach 100 %."""

from __future__ import annotations

import tinygrad_edu as tge
from tinygrad_edu.text import BagOfWordsMLP, CountVectorizer, make_sentiment, make_unlabelled, swap_clauses
from tinygrad_edu.text.sentiment import NEGATIVE, POSITIVE
from tinygrad_edu.text.training import accuracy, train_classifier


def rule(text: str) -> int:
    """The label by reading the words in order: what an order-aware model can learn exactly."""

    def clause(words: list[str]) -> int:
        polarity = 1 if words[-1] in POSITIVE else -1
        assert words[-1] in POSITIVE + NEGATIVE
        if words[-2] == "and":  # two adjectives: they agree
            assert (words[-3] in POSITIVE) == (polarity > 0)
        return -polarity if "not" in words else polarity

    words = text.split()
    joiners = [i for i in range(1, len(words) - 1) if words[i + 1] == "the"]
    if joiners:
        i = joiners[0]
        decides = 1 if words[i] == "but" else 0
        assert words[i] in ("but", "although", "and")
        return int(clause([words[:i], words[i + 1 :]][decides]) > 0)
    return int(clause(words) > 0)


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = make_sentiment(200, seed=3), make_sentiment(200, seed=3), make_sentiment(200, seed=4)
    assert a.texts == b.texts and (a.labels == b.labels).all()
    assert a.texts != c.texts
    assert make_unlabelled(50) == make_unlabelled(50) and len(make_unlabelled(50)) == 50


def test_labels_follow_the_grammar_and_classes_are_balanced():
    ds = make_sentiment(1000, seed=0)
    assert [rule(t) for t in ds.texts] == ds.labels.tolist()
    assert 0.4 < ds.labels.mean() < 0.6 and ds.classes == ["negative", "positive"]
    assert set(ds.kinds) == {"single", "and", "but", "although"}
    assert ds.negated.tolist() == [" not " in t for t in ds.texts]
    neg = ds.subset(ds.negated)
    assert len(neg) == ds.negated.sum() and neg.negated.all() and len(neg.kinds) == len(neg)
    assert ds[0] == (ds.texts[0], int(ds.labels[0]))


def test_the_same_bag_of_words_occurs_with_both_labels():
    ds = make_sentiment(500, seed=0)
    contrasts = [t for t, k in zip(ds.texts, ds.kinds) if k in ("but", "although")]
    assert len(contrasts) > 150
    for text in contrasts:
        swapped = swap_clauses(text)
        assert sorted(swapped.split()) == sorted(text.split()) and rule(swapped) != rule(text)
    for text in [t for t, k in zip(ds.texts, ds.kinds) if k in ("single", "and")]:
        assert rule(swap_clauses(text)) == rule(text)


def test_a_bag_of_words_mlp_stays_below_100_percent_even_on_its_training_data():
    ds = make_sentiment(3000, seed=0)
    vec = CountVectorizer().fit(ds.texts)
    x = vec.transform(ds.texts)
    tge.manual_seed(0)
    model = BagOfWordsMLP(x.shape[1], 64, 2)
    train_classifier(model, x, ds.labels, epochs=15, batch_size=64, pad_id=None)
    ceiling = accuracy(model, x, ds.labels)
    assert 0.75 < ceiling < 0.97  # learns a lot, not everything
    # while the word order decides every label: an order-aware reading (the rule) gets 100 %
    assert [rule(t) for t in ds.texts] == ds.labels.tolist()


def test_logistic_regression_on_counts_also_stays_below_100_percent():
    ds = make_sentiment(3000, seed=0)
    x = CountVectorizer().fit_transform(ds.texts)
    tge.manual_seed(0)
    model = tge.nn.Linear(x.shape[1], 2)
    train_classifier(model, x, ds.labels, epochs=20, batch_size=64, lr=0.01, pad_id=None)
    assert accuracy(model, x, ds.labels) < 0.9


def test_unlabelled_reviews_keep_one_sentiment_across_their_sentences():
    reviews = make_unlabelled(300, seed=2, parts=3)
    assert len(reviews) == 300 and make_unlabelled(300, seed=2, parts=3) == reviews
    for review in reviews:
        *sentences, verdict = review.split(" . ")
        assert len(sentences) == 3 and verdict in ("i loved it", "i liked it", "i hated it", "i disliked it")
        polarity = int(verdict in ("i loved it", "i liked it"))
        assert [rule(s) for s in sentences] == [polarity] * 3  # every sentence agrees with the verdict
    assert not any(" . i " in r for r in make_unlabelled(50, p_verdict=0.0))

"""Bag-of-words and TF-IDF against scikit-learn's CountVectorizer / TfidfVectorizer with matching settings."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu.text import CountVectorizer, TfidfVectorizer, make_sentiment, word_tokenize

TEXTS = make_sentiment(300, seed=4).texts + ["Not bad, not bad at all!", "the plot"]
NEW = ["the plot was good", "unseen words only", "not not not bad"]


def sk():
    return pytest.importorskip("sklearn.feature_extraction.text")


def test_counts_by_hand():
    vec = CountVectorizer().fit(["b a b", "c"])
    assert list(vec.get_feature_names_out()) == ["a", "b", "c"]
    assert vec.transform(["b b b d", "a"]).tolist() == [[0, 3, 0], [1, 0, 0]]
    assert CountVectorizer(binary=True).fit(["b a b"]).transform(["b b"]).tolist() == [[0, 1]]


def test_counts_match_sklearn():
    ref = sk().CountVectorizer(tokenizer=word_tokenize, token_pattern=None, lowercase=False)
    want = ref.fit_transform(TEXTS).toarray()
    ours = CountVectorizer()
    np.testing.assert_array_equal(ours.fit_transform(TEXTS), want)
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    np.testing.assert_array_equal(ours.transform(NEW), ref.transform(NEW).toarray())


@pytest.mark.parametrize("smooth_idf", [True, False])
@pytest.mark.parametrize("sublinear_tf", [True, False])
@pytest.mark.parametrize("norm", ["l2", "l1", None])
def test_tfidf_matches_sklearn(smooth_idf, sublinear_tf, norm):
    options = {"smooth_idf": smooth_idf, "sublinear_tf": sublinear_tf, "norm": norm}
    ref = sk().TfidfVectorizer(tokenizer=word_tokenize, token_pattern=None, lowercase=False, **options)
    want = ref.fit_transform(TEXTS).toarray()
    ours = TfidfVectorizer(**options)
    np.testing.assert_allclose(ours.fit_transform(TEXTS), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.idf_, ref.idf_, rtol=1e-6)
    np.testing.assert_allclose(ours.transform(NEW), ref.transform(NEW).toarray(), rtol=1e-5, atol=1e-6)


def test_max_features_and_min_df_match_sklearn():
    for options in ({"max_features": 20}, {"min_df": 3}):
        ref = sk().CountVectorizer(tokenizer=word_tokenize, token_pattern=None, lowercase=False, **options)
        want = ref.fit_transform(TEXTS).toarray()
        ours = CountVectorizer(**options)
        np.testing.assert_array_equal(ours.fit_transform(TEXTS), want)


def test_transform_before_fit_is_explained():
    with pytest.raises(RuntimeError, match="fit"):
        TfidfVectorizer().transform(["a"])
    with pytest.raises(ValueError, match="norm"):
        TfidfVectorizer(norm="max")

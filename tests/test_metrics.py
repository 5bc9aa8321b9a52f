"""Metrics against scikit-learn on drawn labels, plus known values and input kinds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

import tinygrad_edu as tge
from tinygrad_edu import metrics

labels = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n), st.lists(st.integers(0, 5), min_size=n, max_size=n)
    )
)

SCORES = {
    "precision": (metrics.precision, skm.precision_score),
    "recall": (metrics.recall, skm.recall_score),
    "f1": (metrics.f1_score, skm.f1_score),
}


def _sklearn(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about single labels; the values are what we compare
        return fn(*args, **kwargs)


@given(labels)
def test_accuracy_and_confusion_matrix_equal_sklearn(pair):
    y_true, y_pred = pair
    assert metrics.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred), _sklearn(skm.confusion_matrix, y_true, y_pred)
    )
    full = metrics.confusion_matrix(y_true, y_pred, num_classes=6)
    np.testing.assert_array_equal(full, skm.confusion_matrix(y_true, y_pred, labels=range(6)))
    assert full.dtype == np.int64 and full.sum() == len(y_true)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
@given(pair=labels, zero_division=st.sampled_from([0.0, 1.0]))
def test_scores_equal_sklearn(name, average, pair, zero_division):
    ours_fn, sk_fn = SCORES[name]
    y_true, y_pred = pair
    ours = ours_fn(y_true, y_pred, average=average, zero_division=zero_division)
    theirs = _sklearn(sk_fn, y_true, y_pred, average=average, zero_division=zero_division)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_binary_average_equals_sklearn(name):
    ours_fn, sk_fn = SCORES[name]
    rng = np.random.default_rng(0)
    for _ in range(20):
        y_true, y_pred = rng.integers(0, 2, 15), rng.integers(0, 2, 15)
        for pos_label in (0, 1):
            theirs = _sklearn(sk_fn, y_true, y_pred, average="binary", pos_label=pos_label, zero_division=0)
            assert ours_fn(y_true, y_pred, average="binary", pos_label=pos_label) == pytest.approx(theirs)
    with pytest.raises(ValueError, match="needs 2 classes"):
        ours_fn([0, 1, 2], [0, 1, 2], average="binary")


def test_known_values_and_zero_division():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]  # class 2 is never predicted: its precision is 0/0
    np.testing.assert_allclose(metrics.precision(y_true, y_pred, average=None), [0.5, 2 / 3, 0.0])
    np.testing.assert_allclose(metrics.precision(y_true, y_pred, average=None, zero_division=1.0), [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(metrics.recall(y_true, y_pred, average=None), [0.5, 1.0, 0.0])
    np.testing.assert_allclose(metrics.f1_score(y_true, y_pred, average=None), [0.5, 0.8, 0.0])
    assert metrics.f1_score(y_true, y_pred) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert metrics.precision(y_true, y_pred, average="micro") == metrics.accuracy(y_true, y_pred) == 0.6
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred), [[1, 1, 0], [0, 2, 0], [1, 0, 0]])


def test_nan_zero_division_is_left_out_of_averages_like_sklearn():
    y_true, y_pred = [0, 0, 1, 1, 2], [0, 1, 1, 1, 0]
    for average in ("macro", "weighted"):
        theirs = skm.precision_score(y_true, y_pred, average=average, zero_division=np.nan)
        assert metrics.precision(y_true, y_pred, average=average, zero_division=np.nan) == pytest.approx(theirs)


def test_accepts_tensors_and_logits():
    y_true = tge.tensor([0, 2, 1, 2])
    logits = tge.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 2.0, 0.0], [5.0, 0.0, 1.0]])
    assert metrics.accuracy(y_true, logits) == 0.75  # argmax of the scores
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, logits.argmax(dim=1)), [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    )
    assert metrics.accuracy(np.array([1, 2]), [1, 3]) == 0.5


def test_binary_columns_and_single_scores():
    y = tge.tensor([[1.0], [0.0], [1.0], [1.0]])  # (N, 1) targets, as BCE wants them
    probs = tge.tensor([[0.9], [0.2], [0.4], [0.7]])
    assert metrics.accuracy(y, probs > 0.5) == 0.75
    assert metrics.f1_score(y, probs > 0.5, average="binary") == pytest.approx(skm.f1_score([1, 0, 1, 1], [1, 0, 0, 1]))
    with pytest.raises(ValueError, match=r"threshold it into labels first"):
        metrics.accuracy([1, 0, 1, 1], probs)


def test_errors():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        metrics.accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"labels \[5\] lie outside 0..2"):
        metrics.confusion_matrix([0, 1, 5], [0, 1, 2], num_classes=3)
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.precision([0, 1], [0, 1], average="samples")

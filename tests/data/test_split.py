"""random_split and train_test_split: sizes, disjointness, reproducibility, stratified proportions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu.data import TensorDataset, random_split, train_test_split


def _ds(n: int) -> TensorDataset:
    return TensorDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))


def _ids(subset) -> list[int]:
    return [int(subset[i][1]) for i in range(len(subset))]


# ---- random_split ---------------------------------------------------------------------------------


def test_random_split_counts_partition_the_dataset():
    parts = random_split(_ds(10), [6, 3, 1], seed=0)
    assert [len(p) for p in parts] == [6, 3, 1]
    ids = sum((_ids(p) for p in parts), [])
    assert sorted(ids) == list(range(10))


@given(n=st.integers(1, 50), a=st.floats(0.05, 0.9))
def test_random_split_fractions_like_pytorch(n, a):
    parts = random_split(_ds(n), [a, 1 - a], seed=1)
    lengths = [len(p) for p in parts]
    assert sum(lengths) == n
    floors = [int(np.floor(n * a)), int(np.floor(n * (1 - a)))]
    remainder = n - sum(floors)
    assert lengths == [floors[0] + (remainder > 0), floors[1] + (remainder > 1)]  # remainder handed out in order


def test_random_split_fraction_rounding_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import random_split as torch_random_split

    for n, fractions in ((10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (101, [0.8, 0.1, 0.1])):
        ours = [len(p) for p in random_split(_ds(n), fractions, seed=0)]
        theirs = [len(p) for p in torch_random_split(range(n), fractions, generator=torch.Generator().manual_seed(0))]
        assert ours == theirs


def test_random_split_reproducible_with_seed_and_manual_seed():
    assert [_ids(p) for p in random_split(_ds(20), [10, 10], seed=3)] == [
        _ids(p) for p in random_split(_ds(20), [10, 10], seed=3)
    ]
    assert _ids(random_split(_ds(20), [10, 10], seed=3)[0]) != _ids(random_split(_ds(20), [10, 10], seed=4)[0])
    tge.manual_seed(7)
    a = _ids(random_split(_ds(20), [10, 10])[0])
    tge.manual_seed(7)
    assert a == _ids(random_split(_ds(20), [10, 10])[0])


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="sum to the dataset size 10"):
        random_split(_ds(10), [5, 4])
    with pytest.raises(ValueError, match="fractions summing to 1"):
        random_split(_ds(10), [0.5, 0.2])


# ---- train_test_split -----------------------------------------------------------------------------


def test_train_test_split_order_sizes_and_pairing():
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (15, 2) and X_test.shape == (5, 2) and y_train.shape == (15,) and y_test.shape == (5,)
    np.testing.assert_array_equal(X_train, X[y_train])  # rows stay with their labels
    np.testing.assert_array_equal(X_test, X[y_test])
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    assert X_train.dtype == np.float32


def test_train_test_split_sizes_like_sklearn():
    for n, test_size in ((10, 0.25), (7, 0.2), (100, 0.33), (10, 3)):
        _, X_test = train_test_split(np.zeros(n), test_size=test_size)
        expected = int(np.ceil(test_size * n)) if isinstance(test_size, float) else test_size
        assert len(X_test) == expected


def test_train_test_split_reproducible():
    X = np.arange(50)
    assert np.array_equal(train_test_split(X, seed=1)[1], train_test_split(X, seed=1)[1])
    assert not np.array_equal(train_test_split(X, seed=1)[1], train_test_split(X, seed=2)[1])


def test_train_test_split_keeps_tensors():
    X = tge.arange(10).float()
    X_train, X_test = train_test_split(X, test_size=0.3)
    assert isinstance(X_train, tge.Tensor) and X_test.shape == (3,)


@given(
    counts=st.lists(st.integers(2, 60), min_size=2, max_size=5),
    test_size=st.floats(0.1, 0.5),
    seed=st.integers(0, 100),
)
def test_stratify_keeps_class_proportions(counts, test_size, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    n_test = int(np.ceil(test_size * n))
    if n_test < len(counts) or n - n_test < len(counts):
        return  # too few samples to stratify; covered by the error test
    X = np.arange(n)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed, stratify=y)
    assert len(y_test) == n_test and len(y_train) == n - n_test
    np.testing.assert_array_equal(y[X_test], y_test)
    for c, n_c in enumerate(counts):
        share = n_test * n_c / n
        assert abs(np.sum(y_test == c) - share) < 1  # each class's test count is its exact share, rounded
        assert np.sum(y_train == c) + np.sum(y_test == c) == n_c


def test_stratify_matches_sklearn_counts():
    from sklearn.model_selection import train_test_split as sk_split

    y = np.repeat([0, 1, 2], [50, 30, 20])
    ours = train_test_split(y, test_size=0.2, stratify=y, seed=0)[1]
    theirs = sk_split(y, test_size=0.2, stratify=y, random_state=0)[1]
    assert np.bincount(ours).tolist() == np.bincount(theirs).tolist() == [10, 6, 4]


def test_stratify_reproducible_and_mixed():
    y = np.repeat([0, 1], [30, 30])
    a = train_test_split(np.arange(60), y, stratify=y, seed=4)
    b = train_test_split(np.arange(60), y, stratify=y, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert len(set(a[3][:6].tolist())) == 2  # the test part is shuffled, not grouped by class


def test_split_errors_teach():
    with pytest.raises(ValueError, match="same first dim"):
        train_test_split(np.zeros(10), np.zeros(9))
    with pytest.raises(ValueError, match="only 1 sample"):
        y = np.array([0, 0, 0, 1])
        train_test_split(np.zeros(4), test_size=0.5, stratify=y)
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        train_test_split(np.zeros(10), test_size=1.5)
    with pytest.raises(ValueError, match="both parts"):
        train_test_split(np.zeros(3), test_size=3)

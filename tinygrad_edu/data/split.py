"""Splitting data: ``random_split`` for datasets (PyTorch), ``train_test_split`` for arrays (scikit-learn).

    train_ds, val_ds = random_split(ds, [0.8, 0.2], seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y)

Stratifying keeps each class's share the same in both parts: with 30% of the samples in class 2,
about 30% of the test set is class 2 too. Fit anything learned from data (a Standardize, a model)
on the training part only, so the test score measures generalisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dtypes import as_array
from ..random import generator
from ..tensor import Tensor
from .dataset import Subset


def _rng(seed: int | None) -> np.random.Generator:
    """A generator seeded with ``seed``, or the library generator (``tge.manual_seed``) for None."""
    return generator() if seed is None else np.random.default_rng(seed)


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Counts from counts (summing to n) or fractions (summing to 1), as torch.utils.data.random_split."""
    if all(isinstance(x, int | np.integer) for x in lengths):
        counts = [int(x) for x in lengths]
    elif math.isclose(sum(lengths), 1.0) and all(0 <= x <= 1 for x in lengths):
        counts = [math.floor(n * x) for x in lengths]
        for i in range(n - sum(counts)):  # hand the rounding remainder out one by one
            counts[i % len(counts)] += 1
    else:
        raise ValueError(
            f"random_split: lengths must be counts summing to {n} or fractions summing to 1, got {lengths}"
        )
    if sum(counts) != n or min(counts) < 0:
        raise ValueError(f"random_split: the lengths {counts} must be non-negative and sum to the dataset size {n}")
    return counts


def random_split(
    dataset: Any, lengths: Sequence[float], generator: Any = None, seed: int | None = None
) -> list[Subset]:
    """Split a dataset into non-overlapping random Subsets of the given lengths (counts or fractions).

    ``generator`` (a ``tge.Generator``, PyTorch's argument) or ``seed`` makes the split repeatable;
    without either the library's default generator draws it.
    """
    from ..random import Generator
    from ..random import generator as _generator

    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split: generator must be a tge.Generator, got {type(generator).__name__}")
    counts = _split_lengths(len(dataset), lengths)
    rng = _generator(generator) if generator is not None else _rng(seed)
    order = rng.permutation(len(dataset))
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - count : end]) for count, end in zip(counts, ends)]


def _as_indexable(a: Any) -> Any:
    return a if isinstance(a, np.ndarray | Tensor) else as_array(a)


def _take(a: Any, idx: np.ndarray) -> Any:
    return Tensor(a.array[idx]) if isinstance(a, Tensor) else a[idx]


def _stratified_test_indices(y: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Pick n_test indices so each class c gets its share n_test · n_c / n (rounded to whole samples)."""
    classes, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"train_test_split: cannot stratify, class {classes[counts.argmin()]!r} has only {counts.min()} sample; "
            "each class needs at least 2 (one for each part)"
        )
    if n_test < len(classes) or len(y) - n_test < len(classes):
        raise ValueError(
            f"train_test_split: with {len(classes)} classes, both parts need at least {len(classes)} samples to "
            f"stratify; the split gives {len(y) - n_test} train and {n_test} test"
        )
    share = n_test * counts / len(y)  # each class's exact share of the test set
    n_test_c = np.floor(share).astype(np.int64)
    leftover = n_test - n_test_c.sum()
    n_test_c[np.argsort(-(share - n_test_c), kind="stable")[:leftover]] += 1  # largest remainders first
    picks = [rng.permutation(np.flatnonzero(y_idx == c))[:k] for c, k in enumerate(n_test_c)]
    return np.concatenate(picks)


def train_test_split(*arrays: Any, test_size: float = 0.2, seed: int | None = 0, stratify: Any = None) -> list[Any]:
    """Split arrays (same first dim) into random train and test parts, in scikit-learn's order.

    ``X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0, stratify=y)``.
    ``test_size`` is a fraction (the test part has ceil(test_size · n) samples) or a count.
    ``stratify`` (class labels, usually y) keeps each class's proportion in both parts.
    NumPy arrays stay arrays, Tensors stay Tensors; ``seed=None`` draws from the library generator.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array, e.g. train_test_split(X, y)")
    arrays = tuple(_as_indexable(a) for a in arrays)
    n = arrays[0].shape[0]
    for k, a in enumerate(arrays):
        if a.shape[0] != n:
            shapes = ", ".join(str(tuple(b.shape)) for b in arrays)
            raise ValueError(
                f"train_test_split: all arrays need the same first dim, got shapes {shapes} (argument {k})"
            )
    if isinstance(test_size, float):
        if not 0 < test_size < 1:
            raise ValueError(f"train_test_split: a fractional test_size must lie in (0, 1), got {test_size}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size} leaves {n_test} of {n} samples for testing; "
            "both parts need at least one"
        )
    rng = _rng(seed)
    if stratify is None:
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        y = np.asarray(stratify.numpy() if isinstance(stratify, Tensor) else stratify)
        if y.shape[0] != n:
            raise ValueError(f"train_test_split: stratify has {y.shape[0]} labels for {n} samples")
        test_idx = _stratified_test_indices(y, n_test, rng)
        in_test = np.zeros(n, dtype=bool)
        in_test[test_idx] = True
        train_idx = rng.permutation(np.flatnonzero(~in_test))
        test_idx = rng.permutation(test_idx)  # mix the classes
    out = []
    for a in arrays:
        out += [_take(a, train_idx), _take(a, test_idx)]
    return out

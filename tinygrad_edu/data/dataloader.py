"""DataLoader: walk a dataset in (shuffled) mini-batches of Tensors.

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for epoch in range(10):
        for x, y in loader:          # x: Tensor (32, 64), y: Tensor (32,)
            ...

One epoch is one pass over a permutation of the sample indices, cut into slices of
``batch_size``. With ``seed`` the permutation of epoch e comes from ``default_rng([seed, e])``,
so the run is the same every time (and each epoch still sees a new order); without a seed it
comes from the library generator, which ``tge.manual_seed`` controls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..random import generator
from ..tensor import Tensor, as_array
from .dataset import Subset, TensorDataset


def _rows_of(dataset: Any) -> tuple[tuple[Any, ...], np.ndarray | None] | None:
    """The arrays behind a TensorDataset (or a Subset of one) and the index map, or None.

    This is the fast path: a batch is then ``a[idx]`` for each array, one NumPy fancy index,
    instead of a Python call per sample.
    """
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset.arrays, None
    if isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        inner = _rows_of(dataset.dataset)
        if inner is not None:
            arrays, index_map = inner
            indices = dataset.indices if index_map is None else index_map[dataset.indices]
            return arrays, indices
    return None


def collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch: tuples field by field, dicts key by key.

    Numbers follow the Tensor rules (Python floats → float32, ints → int64); arrays keep their dtype.
    """
    first = samples[0]
    if isinstance(first, tuple | list):
        return tuple(collate([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s.numpy() for s in samples]))
    if isinstance(first, np.ndarray | np.generic):
        return Tensor._wrap(np.stack(samples))
    return Tensor._wrap(as_array(samples))  # Python numbers or nested lists


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples, yielding Tensors.

    Each step yields what the samples hold, stacked: a tuple ``(x, y)`` of batch Tensors for a
    dataset of ``(x, y)`` pairs. ``shuffle`` draws a new order every epoch (reproducible with
    ``seed``); ``drop_last`` skips the final, smaller batch. ``transform`` (optional) is applied
    to the first item of each sample (the input x, a NumPy array) before batching, e.g. a random
    crop for data augmentation. ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.transform = transform
        self.epoch = 0  # how many epochs have started; seeds the order of the next one

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)  # -(-n // b) is ceil(n / b)

    def _order(self) -> np.ndarray:
        """The sample indices of this epoch, in the order they will be visited."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = generator() if self.seed is None else np.random.default_rng([self.seed, self.epoch])
        return rng.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        self.epoch += 1
        rows = _rows_of(self.dataset)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if rows is None:
                samples = [self.dataset[int(i)] for i in idx]
                yield collate([self._transformed(s) for s in samples])
                continue
            arrays, index_map = rows
            if index_map is not None:
                idx = index_map[idx]
            batch = [a[idx] for a in arrays]  # the fast path: one fancy index per array
            if self.transform is not None:
                batch[0] = np.stack([self.transform(x) for x in batch[0]])
            yield tuple(Tensor._wrap(a) for a in batch)

    def _transformed(self, sample: Any) -> Any:
        if self.transform is None:
            return sample
        if isinstance(sample, tuple | list):
            return (self.transform(sample[0]), *sample[1:])
        return self.transform(sample)

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed}) → {len(self)} batches"
        )

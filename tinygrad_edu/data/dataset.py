"""Datasets: anything with ``len(ds)`` and ``ds[i]`` → one sample.

A sample is what one example looks like before batching: usually a pair ``(x, y)`` of a NumPy
array and a label. Datasets hand out NumPy values; the DataLoader stacks them into batch Tensors.

    ds = TensorDataset(X, y)      # X: (N, 64) floats, y: (N,) ints
    x, y = ds[0]                  # x: (64,) array, y: a NumPy int
    train = Subset(ds, [0, 5, 7]) # a view on three of its samples
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dtypes import as_array
from ..tensor import Tensor


class Dataset:
    """The base class: subclass it and define ``__getitem__(i)`` and ``__len__()``, as in PyTorch.

    ``__getitem__`` returns one sample, e.g. a tuple ``(x, y)``; ``__len__`` the number of samples.
    """

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} must define __getitem__(self, index) returning one sample")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} must define __len__(self) returning the number of samples")


class IterableDataset(Dataset):
    """A stream of samples: subclass it and define ``__iter__`` (no indexing), as in PyTorch.

    The DataLoader batches consecutive items. With worker processes every worker iterates its own
    copy, so split the stream by ``get_worker_info()`` inside ``__iter__`` or each item comes k times.
    """

    def __iter__(self) -> Any:
        raise TypeError(f"{type(self).__name__} must define __iter__(self), yielding samples")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it, it cannot be indexed")


class ConcatDataset(Dataset):
    """The samples of several datasets one after another: len = Σ lens, sample i found by bisection."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = 0 if k == 0 else self.cumulative_sizes[k - 1]
        return self.datasets[k][index - start]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]


class TensorDataset(Dataset):
    """Samples are rows of arrays that share their first dim: ``ds[i] = (a[i], b[i], ...)``.

    ``TensorDataset(X, y)`` takes Tensors, NumPy arrays or lists (lists follow the Tensor rules:
    floats become float32, ints int64; arrays and Tensors keep their dtype, as in PyTorch).
    The rows are NumPy arrays (or CuPy arrays, for tensors on "cuda"); ``.tensors`` gives them
    back as Tensors. The DataLoader batches a TensorDataset with one fancy index per array.
    """

    def __init__(self, *tensors: Any):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array, e.g. TensorDataset(X, y)")
        self.arrays: tuple[Any, ...] = tuple(as_array(t) for t in tensors)
        for k, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {k} is a single number; each argument needs one row per sample"
                )
        sizes = [a.shape[0] for a in self.arrays]
        if len(set(sizes)) > 1:
            shapes = ", ".join(f"argument {k}: {a.shape}" for k, a in enumerate(self.arrays))
            raise ValueError(
                f"TensorDataset: every argument needs the same first dim (one row per sample), got {shapes}"
            )

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors (sharing memory), as ``TensorDataset.tensors`` in PyTorch."""
        return tuple(Tensor._wrap(a) for a in self.arrays)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(a.shape)) for a in self.arrays)
        return f"{type(self).__name__}({len(self)} samples: {shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``Subset(ds, idx)[j] = ds[idx[j]]``."""

    def __init__(self, dataset: Any, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} samples")

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {len(self.dataset)} samples)"

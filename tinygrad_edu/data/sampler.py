"""Samplers: which sample indices a DataLoader visits, and in which order (``torch.utils.data``'s names).

A sampler is an iterable of indices; a batch sampler an iterable of lists of indices. The DataLoader
asks its sampler for one epoch's indices, cuts them into batches with a BatchSampler (or takes whole
batches from ``batch_sampler=``), then fetches and stacks the samples:

    SequentialSampler(ds)              0, 1, 2, …, n − 1
    RandomSampler(ds)                  a fresh permutation each epoch (or n draws with replacement)
    SubsetRandomSampler(indices)       a permutation of the given indices only
    WeightedRandomSampler(w, k)        k indices drawn with P(i) ∝ wᵢ (oversample a rare class)
    BatchSampler(sampler, b, drop)     [first b], [next b], … (the last one shorter unless dropped)

Random samplers draw from ``generator`` (a ``tge.Generator``) or, without one, from the library's default
generator, so ``tge.manual_seed(s)`` makes the order repeatable (PyTorch's own numbers differ: the bit
generators differ; DistributedSampler reproduces PyTorch's order exactly, see distributed_sampler.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from ..random import Generator
from ..random import generator as _rng


class Sampler:
    """The base class: subclass it and define ``__iter__`` (indices) and, usually, ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(f"{type(self).__name__} must define __iter__, yielding sample indices")


class SequentialSampler(Sampler):
    """0, 1, …, len(data_source) − 1, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random order each epoch: a permutation of all indices, or ``num_samples`` draws with replacement.

    ``num_samples`` (default: the data set's size) may exceed the size without replacement: then it
    concatenates permutations, as PyTorch.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        """How many indices one epoch yields."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, rng = len(self.data_source), _rng(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, size=self.num_samples).tolist())
        whole, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
        return iter(np.concatenate(parts).tolist())

    def __len__(self) -> int:
        return self.num_samples


class EpochSeededSampler(Sampler):
    """The order of epoch e is ``default_rng([seed, e]).permutation(n)``: repeatable, and new every epoch.

    What ``DataLoader(shuffle=True, seed=s)`` uses (call ``set_epoch`` before each epoch; the loader does).
    """

    def __init__(self, data_source: Sized, seed: int) -> None:
        self.data_source, self.seed, self.epoch = data_source, seed, 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of epoch ``epoch``."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        return iter(np.random.default_rng([self.seed, self.epoch]).permutation(len(self.data_source)).tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order each epoch (e.g. a validation part of one data set)."""

    def __init__(self, indices: Iterable[int], generator: Generator | None = None) -> None:
        self.indices, self.generator = list(indices), generator

    def __iter__(self) -> Iterator[int]:
        order = _rng(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with P(i) = wᵢ / Σ w (with replacement by default).

    The weights need not sum to 1. Giving each sample the weight 1/(size of its class) makes every
    class equally frequent in the batches: the usual fix for an imbalanced data set.
    """

    def __init__(
        self, weights: Any, num_samples: int, replacement: bool = True, generator: Generator | None = None
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(getattr(weights, "array", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > int((w > 0).sum()):
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement from "
                f"{int((w > 0).sum())} non-zero weights"
            )
        self.weights, self.num_samples, self.replacement, self.generator = w, num_samples, replacement, generator

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        draws = _rng(self.generator).choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last shorter, unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

"""DataLoader: walk a dataset in (shuffled) mini-batches of Tensors, PyTorch's signature.

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
    for epoch in range(10):
        for x, y in loader:          # x: Tensor (32, 64), y: Tensor (32,)
            ...

One epoch: the sampler (sampler.py) gives the epoch's indices, a BatchSampler cuts them into lists
of ``batch_size``, and each list is fetched (``dataset[i]``) and stacked by ``collate_fn``. With
``shuffle=True`` the order is new every epoch: with ``seed`` the order of epoch e comes from
``default_rng([seed, e])`` (the same every run); otherwise from ``generator`` or the library's default
generator, which ``tge.manual_seed`` controls. ``num_workers > 0`` fetches in worker processes
(worker.py) and gives the same batches. ``pin_memory`` is accepted and does nothing (there is no
page-locked host memory to ask for here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..dtypes import as_array
from ..random import Generator
from ..random import generator as _rng
from ..tensor import Tensor
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, EpochSeededSampler, RandomSampler, Sampler, SequentialSampler
from .worker import WorkerPool, ordered_results


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
            indices = np.asarray(dataset.indices) if index_map is None else index_map[dataset.indices]
            return arrays, indices
    return None


def collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch: tuples field by field, dicts key by key (``default_collate``).

    Numbers follow the Tensor rules (Python floats → float32, ints → int64); arrays keep their dtype;
    strings stay a list of strings.
    """
    first = samples[0]
    if isinstance(first, str | bytes):
        return list(samples)
    if isinstance(first, tuple | list):
        return tuple(collate([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s.numpy() for s in samples]))
    if isinstance(first, np.ndarray | np.generic):
        return Tensor._wrap(np.stack(samples))
    return Tensor._wrap(as_array(samples))  # Python numbers or nested lists


default_collate = collate


def default_convert(sample: Any) -> Any:
    """One sample's arrays as Tensors, unstacked (what ``batch_size=None`` yields)."""
    if isinstance(sample, tuple | list):
        return tuple(default_convert(s) for s in sample)
    if isinstance(sample, dict):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, np.ndarray):
        return Tensor._wrap(sample)
    return sample


class _MapFetcher:
    """Fetch and stack one batch of a map-style dataset (in the main process or in a worker)."""

    def __init__(self, dataset: Any, collate_fn: Callable | None, batched: bool, transform: Callable | None) -> None:
        self.dataset, self.collate_fn, self.batched, self.transform = dataset, collate_fn, batched, transform
        self.rows = _rows_of(dataset) if collate_fn is None and batched else None

    def fetch(self, indices: Any) -> Any:
        if not self.batched:  # batch_size=None: one sample at a time
            sample = self._transformed(self.dataset[indices])
            return default_convert(sample) if self.collate_fn is None else self.collate_fn(sample)
        if self.rows is not None:  # the fast path: one fancy index per array
            arrays, index_map = self.rows
            idx = np.asarray(indices, dtype=np.int64)
            if index_map is not None:
                idx = index_map[idx]
            batch = [a[idx] for a in arrays]
            if self.transform is not None:
                batch[0] = np.stack([self.transform(x) for x in batch[0]])
            return tuple(Tensor._wrap(a) for a in batch)
        samples = [self._transformed(self.dataset[int(i)]) for i in indices]
        return (self.collate_fn or collate)(samples)

    def _transformed(self, sample: Any) -> Any:
        if self.transform is None:
            return sample
        if isinstance(sample, tuple | list):
            return (self.transform(sample[0]), *sample[1:])
        return self.transform(sample)


class _IterableFetcher(_MapFetcher):
    """The next batch of an iterable-style dataset: ``batch_size`` consecutive items (StopIteration at the end)."""

    def __init__(self, dataset: Any, collate_fn: Callable | None, batch_size: int | None, drop_last: bool,
                 transform: Callable | None) -> None:  # fmt: skip
        super().__init__(dataset, collate_fn, batch_size is not None, transform)
        self.batch_size, self.drop_last, self.it = batch_size, drop_last, None

    def fetch(self, indices: Any = None) -> Any:
        if self.it is None:
            self.it = iter(self.dataset)
        if self.batch_size is None:
            sample = self._transformed(next(self.it))
            return default_convert(sample) if self.collate_fn is None else self.collate_fn(sample)
        samples = []
        for item in self.it:
            samples.append(self._transformed(item))
            if len(samples) == self.batch_size:
                break
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            raise StopIteration
        return (self.collate_fn or collate)(samples)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples, yielding Tensors (PyTorch's arguments).

    ``shuffle`` draws a new order every epoch (repeatable with ``seed``, or ``generator=``); ``sampler``
    or ``batch_sampler`` choose the indices instead; ``drop_last`` skips the final, smaller batch;
    ``collate_fn`` stacks a list of samples (default: Tensors, field by field); ``transform`` (ours, optional)
    is applied to the first item of each sample before batching. ``num_workers`` > 0 fetches in that many
    worker processes (``worker_init_fn(id)`` runs in each; ``prefetch_factor`` batches in flight per worker;
    ``persistent_workers`` keeps them between epochs; ``timeout`` > 0 bounds the wait for a batch).
    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        if batch_size is not None and (not isinstance(batch_size, int | np.integer) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size!r}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError(
                f"DataLoader with IterableDataset: expected unspecified shuffle, sampler and batch_sampler "
                f"options, got shuffle={shuffle}, sampler={sampler}, batch_sampler={batch_sampler}"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        self.dataset, self.num_workers, self.pin_memory, self.timeout = dataset, num_workers, pin_memory, timeout
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last, self.collate_fn, self.worker_init_fn = drop_last, collate_fn, worker_init_fn
        self.multiprocessing_context, self.generator, self.seed, self.transform = (
            multiprocessing_context, generator, seed, transform,
        )  # fmt: skip
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers, self.pin_memory_device, self.in_order = persistent_workers, pin_memory_device, in_order
        self.shuffle = bool(shuffle)
        if self.iterable:
            self.sampler = None
        elif sampler is not None:
            self.sampler = sampler
        elif self.shuffle:
            self.sampler = (
                EpochSeededSampler(dataset, seed) if seed is not None else RandomSampler(dataset, generator=generator)
            )
        else:
            self.sampler = SequentialSampler(dataset)
        if batch_sampler is None and self.batch_size is not None and not self.iterable:
            batch_sampler = BatchSampler(self.sampler, self.batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.epoch = 0  # how many epochs have started; seeds the order of the next one when seed is given
        self._pool: WorkerPool | None = None

    def __len__(self) -> int:
        if self.iterable:
            n = len(self.dataset)  # only when the dataset defines __len__, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def _fetcher(self) -> _MapFetcher:
        if self.iterable:
            return _IterableFetcher(self.dataset, self.collate_fn, self.batch_size, self.drop_last, self.transform)
        return _MapFetcher(self.dataset, self.collate_fn, self.batch_sampler is not None, self.transform)

    def _tasks(self) -> Iterator[Any]:
        """The epoch's index lists (or single indices without batching; None for an iterable dataset)."""
        if self.iterable:
            while True:
                yield None
        yield from self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.sampler, EpochSeededSampler):
            self.sampler.set_epoch(self.epoch)
        self.epoch += 1
        # the workers' base seed, drawn in the main process, fresh per epoch (as PyTorch); also drawn without
        # workers when the order comes from the same generator, so that 0 and k workers see the same orders
        draws_order = isinstance(self.sampler, RandomSampler) and self.sampler.generator is self.generator
        base_seed = int(_rng(self.generator).integers(0, 2**62)) if self.num_workers or draws_order else 0
        if self.num_workers == 0:
            return self._single_process()
        keep = self.persistent_workers and not self.iterable
        if self._pool is None or not keep or not self._pool.alive:
            if self._pool is not None:
                self._pool.shutdown()
            fetcher = self._fetcher()
            self._pool = WorkerPool(lambda j: fetcher, self.num_workers, base_seed, self.worker_init_fn,
                                    self.multiprocessing_context)  # fmt: skip
        return self._multi_process(self._pool, keep)

    def _multi_process(self, pool: WorkerPool, keep: bool) -> Iterator[Any]:
        """The workers' batches in order (a generator method, so the loader lives as long as its iteration)."""
        prefetch = self.prefetch_factor * self.num_workers
        yield from ordered_results(pool, self._tasks(), prefetch, self.timeout, keep, self.iterable)

    def _single_process(self) -> Iterator[Any]:
        fetcher = self._fetcher()
        for indices in self._tasks():
            try:
                batch = fetcher.fetch(indices)
            except StopIteration:
                return
            yield batch

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown()

    def __repr__(self) -> str:
        n = len(self.dataset) if hasattr(self.dataset, "__len__") else "?"
        return (
            f"DataLoader({n} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, seed={self.seed}, num_workers={self.num_workers})"
            + (f" → {len(self)} batches" if hasattr(self.dataset, "__len__") else "")
        )

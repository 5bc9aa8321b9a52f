"""DistributedSampler: each of p processes walks its own 1/p of every epoch (``torch.utils.data.DistributedSampler``).

With data parallelism every rank trains on a different part of each batch. The sampler makes one order of the
whole data set per epoch — the *same* order on every rank, because every rank seeds it with ``seed + epoch`` —
and deals it out like cards: rank r takes positions r, r + p, r + 2p, …

    order  = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5]     (n = 10, p = 3: padded to 12 by repeating the start: 7, 2)
    rank 0 = [7, 0, 8, 5]   rank 1 = [2, 4, 3, 7]   rank 2 = [9, 1, 6, 2]

So the ranks together see every sample once per epoch (a few twice, when n is not a multiple of p, unless
``drop_last`` cuts the tail instead), and after k batches of size b the ranks have consumed exactly the first
k·b·p positions of the order. Call ``set_epoch(e)`` at the start of every epoch, or every epoch repeats the order.

The index assignment equals PyTorch's, down to the shuffled order: ``torch.randperm`` with a generator seeded s
is a Fisher–Yates shuffle driven by the 32-bit outputs of the Mersenne Twister seeded s, which NumPy's MT19937
reproduces (``torch_randperm`` below).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """The permutation ``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` gives, for n < 2³²/20.

    for i in 0 … n−2:  z = u_i mod (n − i);  swap(r[i], r[i + z])     (u_i: the i-th 32-bit MT19937 output)
    """
    if n >= 2**32 // 20:
        raise ValueError(f"torch_randperm: n = {n} is past the range where PyTorch draws 32-bit numbers")
    twister = np.random.MT19937(0)
    twister._legacy_seeding(seed & 0xFFFFFFFF)  # PyTorch seeds its twister with the low 32 bits, the classic way
    draws = twister.random_raw(max(n - 1, 0)).astype(np.int64)
    r = np.arange(n, dtype=np.int64)
    for i, u in enumerate(draws.tolist()):
        z = i + u % (n - i)
        r[i], r[z] = r[z], r[i]
    return r


class DistributedSampler:
    """Indices of this rank's share of ``dataset`` for the current epoch (PyTorch's semantics and defaults).

    ``num_replicas`` and ``rank`` default to the process group's world size and rank. ``shuffle`` draws a new
    order per epoch from ``seed + epoch``; ``drop_last`` drops the tail that does not divide evenly instead
    of padding with repeats. ``len(sampler)`` is the number of indices per rank per epoch.
    """

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed

            if not distributed.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "tinygrad_edu.distributed.init_process_group() first"
                )
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas should be a positive integer, got {num_replicas!r}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the order of epoch ``epoch`` (call it before iterating, every epoch)."""
        self.epoch = epoch

    def global_order(self) -> np.ndarray:
        """The epoch's order of the whole data set, padded or cut to ``total_size``, before it is dealt out."""
        n = len(self.dataset)
        order = torch_randperm(n, self.seed + self.epoch) if self.shuffle else np.arange(n, dtype=np.int64)
        if self.drop_last:
            return order[: self.total_size]
        padding = self.total_size - n
        return np.concatenate([order, np.resize(order, padding)]) if padding > 0 else order

    def __iter__(self) -> Iterator[int]:
        return iter(self.global_order()[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

"""Timing that holds up on a shared, noisy machine.

The first call of each line is timed alone (Numba compiles then: the "first" column). After that
every repeat takes one sample of every line in turn, so a noisy neighbour slows all lines alike;
a sample runs enough calls to last ``min_sample_s`` (tiny matmuls would drown in the clock's
resolution otherwise). We quote the median of the samples and show the best next to it.
GPU work is queued, not done, when a call returns: GPU lines synchronise before the clock is read.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import kernels


@dataclass
class Timing:
    """Seconds per call of one line: its first call (compilation included) and one sample per repeat."""

    first: float
    samples: list[float] = field(default_factory=list)
    calls_per_sample: int = 1

    @property
    def median(self) -> float:
        """The figure we quote: the odd slow sample (a neighbour's burst) does not move it."""
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        """The fastest sample: what the code does when nothing else runs."""
        return min(self.samples)


def time_interleaved(
    fns: dict[str, Callable[[], Any]], repeat: int, min_sample_s: float, clock: Callable[[], float] = time.perf_counter
) -> dict[str, Timing]:
    """Time every function: its first call alone, then ``repeat`` rounds of one sample of each, in turn.

    A second call decides how many calls make a sample of at least ``min_sample_s``. Each round
    starts with a different line, so no line always runs right after the same neighbour.
    """
    if repeat < 1:
        raise ValueError(f"time_interleaved: repeat must be at least 1, got {repeat}")
    timings, names = {}, list(fns)
    for name, fn in fns.items():
        t0 = clock()
        fn()
        first = clock() - t0
        t0 = clock()
        fn()
        once = clock() - t0
        timings[name] = Timing(first, calls_per_sample=max(1, math.ceil(min_sample_s / max(once, 1e-9))))
    for r in range(repeat):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            number = timings[name].calls_per_sample
            t0 = clock()
            for _ in range(number):
                fns[name]()
            timings[name].samples.append((clock() - t0) / number)
    return timings


def device_of_line(line: str) -> str:
    """Where a line computes: our backends by the kernel registry, "torch-cuda" and "cupy.matmul" on the GPU."""
    if line in kernels.NAMES:
        return kernels.DEVICE[line]
    return "cuda" if line in ("torch-cuda", "cupy.matmul") else "cpu"


def synchronizer(line: str) -> Callable[[], None] | None:
    """What waits until a GPU line's queued work is done (None for CPU lines)."""
    if device_of_line(line) == "cpu":
        return None
    if line == "torch-cuda":
        import torch

        return torch.cuda.synchronize
    backend_sync = getattr(kernels.get(line), "synchronize", None) if line in kernels.NAMES else None
    if backend_sync is not None:
        return backend_sync
    import cupy

    return lambda: cupy.cuda.get_current_stream().synchronize()


def line_fn(line: str, work: Callable[[], Any]) -> Callable[[], None]:
    """``work`` run with our kernel backend selected (for our lines) and synchronised after (on a GPU)."""
    sync = synchronizer(line)

    def call() -> None:
        if line in kernels.NAMES:
            with kernels.use(line):
                work()
        else:
            work()
        if sync is not None:
            sync()

    return call

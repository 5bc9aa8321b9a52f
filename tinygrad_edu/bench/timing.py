"""Timing that holds up on a shared, noisy machine.

The first call of each line is timed alone (Numba compiles then: the "first" column). After that
every repeat takes one sample of every line in turn, so a noisy neighbour slows all lines alike;
a sample runs enough back-to-back calls to last ``min_sample_s`` (one tiny matmul would drown in
the clock's resolution and in thread wake-ups). We quote the median of the samples and show the
best next to it.
GPU work is queued, not done, when a call returns: GPU lines synchronise before the clock is read.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
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


def calls_per_sample(fn: Callable[[], Any], min_sample_s: float, clock: Callable[[], float] = time.perf_counter) -> int:
    """How many back-to-back calls of fn last at least ``min_sample_s``, judged by the fastest of three calls.

    Three calls, not one: a single slow call (a thread pool waking up, a cache refilling) must not
    decide the count. They also serve as the warm-up.
    """
    fastest = math.inf
    for _ in range(3):
        t0 = clock()
        fn()
        fastest = min(fastest, clock() - t0)
    return max(1, math.ceil(min_sample_s / max(fastest, 1e-9)))


SETTLE_S = 0.15  # how long a line's library keeps its threads spinning after a call (OpenBLAS: ~2²⁸ cycles)


def time_interleaved(
    fns: dict[str, Callable[[], Any]],
    repeat: int,
    min_sample_s: float,
    clock: Callable[[], float] = time.perf_counter,
    settle_s: float = SETTLE_S,
) -> dict[str, Timing]:
    """Time every function: its first call alone, then ``repeat`` rounds of one sample of each, in turn.

    Before each sample, ``settle_s`` of sleep: OpenBLAS's and OpenMP's worker threads keep spinning for a while
    after a call returns, and on a 2-core machine they would take the core the next line's threads need
    (measured: Numba's 2-thread matmul at 1024 ran at 186 GFLOP/s right after a torch matmul, 327 alone).

    Between the first call and the rounds, ``calls_per_sample`` warms each function up (three
    calls) and decides how many calls make its sample. Each sample starts with as many untimed
    calls as it times (one at least), so that it measures calls that follow each other as in a
    training loop, not the machine waking up after the settle: measured here, after 0.15 s of
    sleep a 2-thread Numba conv ran at 1-thread speed for its first ~50 ms (an idle core of this
    virtual machine comes back slowly), so with one untimed call its 50 ms samples read 2.0 ms
    against 1.2 ms in a loop. Each round starts with a different line.
    """
    if repeat < 1:
        raise ValueError(f"time_interleaved: repeat must be at least 1, got {repeat}")
    timings, names = {}, list(fns)
    for name, fn in fns.items():
        t0 = clock()
        fn()
        first = clock() - t0
        timings[name] = Timing(first, calls_per_sample=calls_per_sample(fn, min_sample_s, clock))
    for r in range(repeat):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if settle_s > 0 and len(names) > 1:
                time.sleep(settle_s)  # the previous line's spinning threads go to sleep
            number = timings[name].calls_per_sample
            for _ in range(number):
                fns[name]()  # untimed: the threads and cores are up and running, as in a training loop
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


def numpy_blas(threadpools: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """NumPy's BLAS among the loaded thread pools (threadpoolctl): the one in NumPy's folder, else the first."""
    blas = [p for p in threadpools if p.get("user_api") == "blas"]
    return next((p for p in blas if "numpy" in p["filepath"]), blas[0] if blas else None)


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses now (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    blas = numpy_blas(threadpool_info())
    return int(blas["num_threads"]) if blas else os.cpu_count() or 1


@contextmanager
def thread_counts(threads: int | None, torch: Any | None = None) -> Iterator[int]:
    """Every library on the same number of threads for the block, and the old counts back after.

    ``threads`` (``--threads``), or as many as NumPy's BLAS uses (all cores by default): NumPy's
    BLAS through threadpoolctl, Numba with ``numba.set_num_threads``, PyTorch with
    ``torch.set_num_threads``. Yields the count.
    """
    from threadpoolctl import threadpool_limits

    n = threads or blas_threads()
    with ExitStack() as stack:
        stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        try:
            import numba
        except ImportError:
            numba = None
        if numba is not None:
            stack.callback(numba.set_num_threads, numba.get_num_threads())
            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        if torch is not None:
            stack.callback(torch.set_num_threads, torch.get_num_threads())
            torch.set_num_threads(n)
        yield n

"""The thread pool every Numba kernel shares: ``run_shared``, ``claim``, ``run_tasks``, ``private_rows``.

A kernel's work is a range of items (the images of a batch, the planes of a pooling), cut in a few
chunks per thread. ``run_shared(kernel, args, count)`` calls the kernel once on each of
``numba.get_num_threads()`` threads (the caller and helper threads); inside, every thread takes the
next chunk as soon as it is free (``claim``), with one atomic instruction
(``lock xadd``): a thread slowed down by another program simply takes fewer chunks. The kernels are
compiled with ``nogil=True``, so the threads run truly in parallel while they compute, and each
thread needs Python's GIL only twice per call, to enter and to leave. (Handing out the chunks from
Python instead, one call per chunk, cost a GIL hand-over between the threads per chunk: 8 chunks
of 14 µs took 103 µs on 2 threads against 110 µs on 1.) ``run_tasks(kernel, tasks)`` is the
simpler form for kernels cut in one task per thread (the matmul).

Why the threads poll before they sleep. A training step calls a kernel every few hundred µs, and
each call is short (a LeNet layer's convolution is 0.3–0.5 ms). A thread that sleeps between calls
(on a lock, a condition) has to be woken for the next one, and on this machine (a virtual machine)
a core that went to sleep wakes up slowly: 20–40 µs, and more after a longer pause. So after a
call a helper keeps polling for the next one for a while (``SPIN_POLLS`` polls, about 0.1 ms
here), and the caller polls the same way while it waits for a helper's last chunk, with the
CPU's ``pause`` instruction between polls (it tells the core that this is a wait loop); only
then do they sleep. The polling runs in compiled code without Python's GIL
(``_wait_for_change``), so it never slows the thread that is working. Measured interleaved in
one process on the quiet machine (medians, ms, no polling / 0.1 ms / 0.5 ms): LeNet step
4.11 / 4.01 / 3.84, MLP step 1.81 / 1.69 / 1.69, LeNet's second conv 1.18 / 1.15 / 1.10. But
with one core kept busy by another program (the bench's load section), 0.5 ms of polling made
a 2-thread LeNet step 1.79× and the conv 1.52× slower than on 1 thread, against 1.09–1.15×
and 1.13–1.16× with 0.1 ms: hence 0.1 ms. After those polls comes a second phase: ``YIELD_POLLS``
polls with ``sched_yield()`` between them (about 0.9 ms). The core stays awake for the next call,
but a thread that wants it (the caller, or the other program) gets it at once. Measured
interleaved in one process (medians, ms, no yield phase / 2000 yields): LeNet step 4.51 / 4.34,
MLP step 2.01 / 1.83, LeNet's second conv 1.08 / 1.06. Under load (the bench's load section, two
runs each, 2-thread ÷ 1-thread time): LeNet step 1.19×, 1.24× without it and 1.05×, 1.14× with it.
OpenMP runtimes do the same ("OMP_WAIT_POLICY"), but they spin for up to hundreds of ms, which
starves the caller when another program holds the other core; this spin is short, and the
caller never waits for a helper that has not started a task (see run_tasks).

Handing the GIL over. A helper sees a new call in compiled code, but it needs Python's GIL to
start its task, and the caller holds the GIL until its own task starts; a thread that sleeps on
the GIL takes 20–30 µs here to wake up when it is released. So the caller publishes a call from
compiled code, without the GIL (``_publish``), and when a helper is polling (``polling``) it holds
back until the helper has claimed a chunk, at most HANDOFF_POLLS polls (about 20 µs): the helper
takes the free GIL at once. Measured here (run_shared of 64 items, 0.14 ms of work on one thread,
2 threads, medians): 0.12 ms before, 0.08–0.105 ms after, the helper's share of the items up from
41 % to 50 %; LeNet's second conv, forward and backward, paired A/B in one process: 0.06 ms less; the matmul's
tasks mark their start too (the seed MLP step, paired: 0.06 ms less).
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

SPIN_POLLS = 4000  # polls of a flag before a thread sleeps (about 0.1 ms on this machine)
YIELD_POLLS = 2000  # then polls with sched_yield() between them (about 0.9 ms here) before it sleeps
HANDOFF_POLLS = 800  # how long a caller holds back for a polling helper to start (about 20 µs here)
STREAM_SERIAL_BELOW = 1 << 22  # one pass over fewer numbers than this (16 MiB of float32): one thread
CHUNKS_PER_THREAD = 8  # measured here against 16: LeNet step 0.1–0.3 ms, its second conv 0.04–0.1 ms faster
SHARED_BYTES = 128  # two cache lines: cores fetch lines in pairs (the adjacent-line prefetcher)


# ---------------------------------------------------------------------------------------------
# Waiting without the GIL: an atomic read of a flag, and the CPU's spin-wait hint
# ---------------------------------------------------------------------------------------------


@intrinsic
def _load_acquire(typingctx, a):
    """a[0], read as an atomic load with acquire ordering: LLVM must read memory every time (no hoisting)."""

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        return builder.load_atomic(data, "acquire", a.dtype.bitwidth // 8)

    return a.dtype(a), codegen


@intrinsic
def _pause(typingctx):
    """The x86 ``pause`` instruction (a spin-wait hint that saves power); nothing on other CPUs."""

    def codegen(context, builder, signature, args):
        if platform.machine().lower() in ("x86_64", "amd64", "i686", "x86"):
            signature_ = ir.FunctionType(ir.VoidType(), [])
            pause = cgutils.get_or_insert_function(builder.module, signature_, "llvm.x86.sse2.pause")
            builder.call(pause, [])
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def _yield_cpu(typingctx):
    """sched_yield() (POSIX, in the C library): let another thread that wants this core run now."""

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def _fetch_add(typingctx, a):
    """a[0] += 1 as one atomic instruction (``lock xadd``); returns the value before: a ticket no other thread gets."""

    def codegen(context, builder, signature, args):
        data = make_array(signature.args[0])(context, builder, args[0]).data
        return builder.atomic_rmw("add", data, ir.Constant(data.type.pointee, 1), "monotonic")

    return a.dtype(a), codegen


@njit(cache=True, nogil=True)
def _publish(flag, started, polls):
    """flag[0] += 1 (a new batch for the helpers), then poll until started[0] ≠ 0 (a helper is in), at most ``polls``.

    Called without the GIL, so a polling helper that sees the new flag takes the free GIL at once
    instead of going to sleep on it (on this virtual machine a thread asleep on the GIL takes
    20–30 µs to wake up).
    """
    _fetch_add(flag)
    for _ in range(polls):
        if _load_acquire(started) != 0:
            return
        _pause()


@njit(cache=True, nogil=True)
def mark_started(started):
    """started[0] += 1 at the start of a run_tasks task: what the caller of ``run_tasks(…, started=…)`` waits for."""
    _fetch_add(started)


@njit(cache=True)
def claim(chunks, counter, mine):
    """The next item for this thread, or −1 when every chunk has been taken.

    ``chunks`` are the boundaries (0, …, count) of the chunks; ``counter`` (one int64, 0 at the
    start of the call) is shared by the threads of the call, and every claim of a chunk takes the
    next chunk number from it, atomically; ``mine`` = [next item, end] of this thread's chunk
    (start it at [0, 0]). A kernel's loop over its items:

        mine = np.zeros(2, np.int64)
        n = claim(chunks, counter, mine)
        while n >= 0:
            ...                                  # item n
            n = claim(chunks, counter, mine)
    """
    while mine[0] == mine[1]:
        t = _fetch_add(counter)
        if t >= chunks.size - 1:
            return -1
        mine[0], mine[1] = chunks[t], chunks[t + 1]
    mine[0] += 1
    return mine[0] - 1


@njit(cache=True, nogil=True)
def _wait_for_change(flag, seen, polls, yields):
    """Poll flag[0] until it differs from ``seen``: ``polls`` times with a pause between, then ``yields``
    times with a yield between; return its last value.
    """
    for _ in range(polls):
        value = _load_acquire(flag)
        if value != seen:
            return value
        _pause()
    for _ in range(yields):
        value = _load_acquire(flag)
        if value != seen:
            return value
        _yield_cpu()
    return _load_acquire(flag)


@njit(cache=True, nogil=True)
def _poll_for_batch(flag, seen, polls, yields, polling):
    """A helper's wait for the next batch (_wait_for_change), with polling[0] = 1 while it polls.

    The caller reads ``polling`` to know whether a helper will take the GIL at once (see _publish).
    """
    polling[0] = 1
    value = _wait_for_change(flag, seen, polls, yields)
    polling[0] = 0
    return value


# ---------------------------------------------------------------------------------------------
# One call's tasks, and the pool
# ---------------------------------------------------------------------------------------------


class _Batch:
    """The tasks of one run_tasks call, handed out one at a time, and the count of those still running."""

    def __init__(self, kernel: Callable[..., Any], tasks: Sequence[tuple], seats: int) -> None:
        self.kernel, self.queue = kernel, iter(tasks)
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)  # notified whenever a task ends
        self.running = 0  # tasks started and not yet ended
        self.ended = np.zeros(1, dtype=np.int64)  # tasks ended so far: the caller polls it while it waits
        self.seats = seats  # helpers that may still join (numba.get_num_threads() − 1 of the caller)
        self.errors: list[BaseException] = []

    def join(self) -> bool:
        """A helper takes a seat; False when the call already has all the threads it asked for."""
        with self.lock:
            if self.seats == 0:
                return False
            self.seats -= 1
            return True

    def work(self) -> None:
        """Run tasks until none is left (or one has failed)."""
        while True:
            with self.lock:
                args = None if self.errors else next(self.queue, None)
                if args is None:
                    return
                self.running += 1
            try:
                self.kernel(*args)
            except BaseException as e:  # handed to the caller
                with self.lock:
                    self.errors.append(e)
            finally:
                with self.lock:
                    self.running -= 1
                    self.ended[0] += 1
                    self.idle.notify_all()

    def wait(self) -> None:
        """Return when every started task has ended; raise the first task's error.

        Like the helpers, the caller polls before it sleeps (see the module docstring).
        """
        while True:
            with self.lock:
                if not self.running:
                    break
                seen = int(self.ended[0])
            if (
                _wait_for_change(self.ended, seen, SPIN_POLLS, YIELD_POLLS) == seen
            ):  # nothing ended while polling: sleep
                with self.lock:
                    while self.running and int(self.ended[0]) == seen:
                        self.idle.wait()
        if self.errors:
            raise self.errors[0]


class _Pool:
    """Helper threads that pick up each new batch: they poll a generation counter, then sleep on a condition."""

    def __init__(self) -> None:
        self.flag = np.zeros(1, dtype=np.int64)  # the generation: +1 for every published batch
        self.polling = np.zeros(1, dtype=np.int64)  # 1 while a helper polls for the next batch (without the GIL)
        self.batch: _Batch | None = None
        self.wake = threading.Condition()  # guards batch (and flag, but for _publish); sleeping helpers wait here
        self.helpers: list[threading.Thread] = []

    def run(
        self, kernel: Callable[..., Any], tasks: Sequence[tuple], threads: int, started: np.ndarray | None = None
    ) -> None:
        """Publish the batch, let the helpers in (see run_tasks), work on it too and wait for its end."""
        batch = _Batch(kernel, tasks, threads - 1)
        with self.wake:
            while len(self.helpers) < threads - 1:
                helper = threading.Thread(target=self._helper, name="tinygrad_edu-numba", daemon=True)
                helper.start()
                self.helpers.append(helper)
            self.batch = batch
            hold_back = started is not None and self.polling[0] == 1  # a polling helper will take the GIL at once
            if not hold_back:
                self.flag[0] += 1
                self.wake.notify_all()
        if hold_back:
            _publish(self.flag, started, HANDOFF_POLLS)
            with self.wake:
                self.wake.notify_all()  # the helpers asleep on the condition (after the flag: no wake-up is lost)
        batch.work()
        batch.wait()

    def _helper(self) -> None:
        seen = 0
        while True:
            generation = int(_poll_for_batch(self.flag, seen, SPIN_POLLS, YIELD_POLLS, self.polling))
            if generation == seen:  # nothing new while spinning: sleep until the next batch
                with self.wake:
                    while int(self.flag[0]) == seen:
                        self.wake.wait()
                    generation = int(self.flag[0])
            seen = generation
            batch = self.batch
            if batch is not None and batch.join():
                batch.work()


_pool = _Pool()


def run_tasks(kernel: Callable[..., Any], tasks: Sequence[tuple], started: np.ndarray | None = None) -> None:
    """kernel(*args) for every args in ``tasks``, on numba.get_num_threads() threads; returns when all are done.

    The calling thread and the helpers take the tasks in order, each the next one as soon as it
    is free, so a thread slowed down by another job simply does fewer. The call returns as soon
    as every task is done: it waits for the tasks a helper has started, never for a helper to
    wake up. On a machine where another program keeps a core busy, a helper may run only
    milliseconds later; it then finds no task left. (Waiting for every helper to finish made a
    2-thread conv under load 2× slower than on 1 thread.) An exception in a task is raised here,
    after the tasks already running are done; no task starts after it. Calls from several Python
    threads at once are safe: the helpers serve the latest call, the others run on their caller.

    ``started``: a one-number array (0) that every task increments as it begins (run_shared's
    chunk counter, or ``mark_started`` as a task's first line). With it, the caller holds back for a
    polling helper before it starts its own task (the GIL hand-over, see the module docstring).
    """
    threads = min(numba.get_num_threads(), len(tasks))
    if threads <= 1:
        for args in tasks:
            kernel(*args)
        return
    _pool.run(kernel, tasks, threads, started)


def run_shared(kernel: Callable[..., Any], args: tuple, count: int, threads: int | None = None) -> None:
    """kernel(*args, chunks, counter, slot) once on each of ``threads`` threads (default: threads_for(count)).

    0..count is cut in CHUNKS_PER_THREAD chunks per thread (split), which the kernel's threads
    claim one by one (``claim``). ``slot`` (0, 1, …, threads − 1; which thread gets which does
    not matter) picks the thread's own row of scratch space (``private_rows(threads, …)``) or of
    partial sums.
    """
    threads = threads_for(count) if threads is None else threads
    bounds = split(count, CHUNKS_PER_THREAD * threads)
    chunks = np.array([start for start, _ in bounds] + [count], dtype=np.int64)
    counter = np.zeros(1, dtype=np.int64)  # chunks claimed so far
    run_tasks(kernel, [(*args, chunks, counter, slot) for slot in range(threads)], started=counter)


def threads_for(count: int) -> int:
    """The number of slots run_shared will use for ``count`` items: size the per-thread scratch with it."""
    return max(1, min(numba.get_num_threads(), count))


def private_rows(rows: int, length: int, dtype: np.dtype | type) -> np.ndarray:
    """A C-contiguous (rows, ≥ length) scratch array, one row per thread, rows SHARED_BYTES apart or more.

    Two threads that write numbers in the same cache line take the line from each other on every
    write, although they never touch the same number ("false sharing"): the max pool's per-thread
    rows of winners, 128 bytes each in one array, made its 2-thread calls 1.4× slower than 1
    thread. Here every row starts on a fresh 128-byte boundary and ends with at least 128 bytes
    nobody uses (so a row is longer than ``length``; the kernels use the first ``length``).
    """
    itemsize = np.dtype(dtype).itemsize
    gap = SHARED_BYTES // itemsize
    stride = -(-length // gap) * gap + gap
    buffer = np.empty(rows * stride + gap, dtype=dtype)
    start = (-buffer.ctypes.data % SHARED_BYTES) // itemsize
    return buffer[start : start + rows * stride].reshape(rows, stride)


def split(count: int, parts: int) -> list[tuple[int, int]]:
    """[(start, end), ...]: 0..count cut in at most ``parts`` ranges of nearly equal length."""
    parts = max(1, min(parts, count))
    return [(count * p // parts, count * (p + 1) // parts) for p in range(parts)]

"""DataLoader worker processes: other processes fetch and stack the batches while the main one trains.

With ``num_workers = k`` the loader starts k processes. The main process still decides *what* each
batch holds (its sampler makes the epoch's index lists), so the batches are the same as with
``num_workers=0``; the workers only do the fetching (``dataset[i]``, transforms, collate), which is
where the time goes when samples are decoded or augmented one by one in Python.

    main:     batch t's indices ─► index queue of worker t mod k           (up to prefetch_factor · k in flight)
    worker j: indices ─► [dataset[i] for i in indices] ─► collate ─► result queue
    main:     results come back in any order; they are handed out in order t = 0, 1, 2, …

Each worker seeds the library's default generator (and Python's ``random``) with base_seed + j, where
base_seed is drawn fresh per epoch from the loader's ``generator`` (as PyTorch), then calls
``worker_init_fn(j)``; ``get_worker_info()`` tells code running inside a worker which one it is.
An exception inside a worker is raised in the main process (same type, with the worker's message and
traceback text); a worker that dies is reported, and ``timeout`` bounds the wait for any one batch.
The workers exit at the end of the epoch (or when the iteration is abandoned), or stay for the next
epoch with ``persistent_workers=True``.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_POLL_S = 0.1  # how often the main process checks that its workers are alive while it waits


@dataclass(frozen=True)
class WorkerInfo:
    """Which worker this is: ``id`` in 0 … ``num_workers`` − 1, its ``seed`` and its copy of the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The WorkerInfo of the current DataLoader worker process, or None in the main process."""
    return _worker_info


class _Failure:
    """An exception raised inside a worker, carried back as text (tracebacks do not pickle)."""

    def __init__(self, worker_id: int, exc: BaseException) -> None:
        self.worker_id, self.exc_type = worker_id, type(exc)
        self.text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self) -> None:
        message = f"Caught {self.exc_type.__name__} in DataLoader worker process {self.worker_id}.\n{self.text}"
        try:
            error = self.exc_type(message)
        except Exception:  # an exception class that does not take one message
            error = RuntimeError(message)
        raise error


class _Exhausted:
    """An iterable-style dataset's worker has no more batches."""


def _worker_loop(
    fetcher: Any, index_queue: Any, result_queue: Any, worker_id: int, num_workers: int, seed: int, init_fn: Any
) -> None:
    """A worker: fetch the batch for each (task, indices) received, until the None that says stop."""
    global _worker_info
    from ..random import manual_seed

    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetcher.dataset)
    manual_seed(seed)
    random.seed(seed)
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except BaseException as exc:  # reported to the main process, which raises it
        result_queue.put((None, _Failure(worker_id, exc)))
        return
    while True:
        task = index_queue.get()
        if task is None:
            break
        task_id, indices = task
        try:
            data: Any = fetcher.fetch(indices)
        except StopIteration:
            data = _Exhausted()
        except BaseException as exc:
            data = _Failure(worker_id, exc)
        result_queue.put((task_id, data))
    result_queue.cancel_join_thread()


class WorkerPool:
    """k worker processes with an index queue each and one shared result queue."""

    def __init__(
        self,
        fetcher_for: Callable[[int], Any],
        num_workers: int,
        base_seed: int,
        init_fn: Any,
        context: Any,
    ) -> None:
        ctx = mp.get_context(context) if isinstance(context, str) or context is None else context
        self.result_queue = ctx.Queue()
        self.index_queues, self.processes = [], []
        for j in range(num_workers):
            index_queue = ctx.Queue()
            proc = ctx.Process(
                target=_worker_loop,
                args=(fetcher_for(j), index_queue, self.result_queue, j, num_workers, base_seed + j, init_fn),
                daemon=True,
            )
            proc.start()
            self.index_queues.append(index_queue)
            self.processes.append(proc)

    def get(self, timeout: float) -> tuple[Any, Any]:
        """The next (task id, result) from any worker; raise if a worker died or ``timeout`` (> 0) passed."""
        waited = 0.0
        while True:
            try:
                return self.result_queue.get(timeout=_POLL_S)
            except queue.Empty:
                waited += _POLL_S
            dead = [p for p in self.processes if not p.is_alive()]
            if dead:
                p = dead[0]
                self.shutdown(force=True)
                raise RuntimeError(f"DataLoader worker (pid {p.pid}) exited unexpectedly with exit code {p.exitcode}")
            if 0 < timeout <= waited:
                self.shutdown(force=True)
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def shutdown(self, force: bool = False) -> None:
        """Tell every worker to stop, wait for them (briefly), and end any that do not (at once if ``force``)."""
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for p in self.processes:
            p.join(timeout=0 if force else 5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        for q in [*self.index_queues, self.result_queue]:
            q.cancel_join_thread()
            q.close()
        self.processes, self.index_queues = [], []

    @property
    def alive(self) -> bool:
        """Whether the workers are running."""
        return bool(self.processes) and all(p.is_alive() for p in self.processes)


def ordered_results(
    pool: WorkerPool, tasks: Iterator[Any], prefetch: int, timeout: float, keep_alive: bool, iterable: bool
) -> Iterator[Any]:
    """Send ``tasks`` to the workers round-robin (at most ``prefetch`` in flight), yield the results in order.

    For an iterable-style dataset each worker makes its own batches; a worker that reports
    _Exhausted gets no more requests, and the epoch ends when all have.
    """
    k = len(pool.index_queues)
    live = list(range(k))
    sent = received = 0
    pending: dict[int, Any] = {}
    owner: dict[int, int] = {}
    tasks = iter(tasks)
    finished = False
    try:
        while True:
            while not finished and live and sent - received < prefetch:
                try:
                    indices = next(tasks)
                except StopIteration:
                    finished = True
                    break
                j = live[sent % len(live)]
                pool.index_queues[j].put((sent, indices))
                owner[sent] = j
                sent += 1
            if received == sent:
                return
            while received not in pending:
                task_id, data = pool.get(timeout)
                if isinstance(data, _Failure):
                    pool.shutdown(force=True)
                    data.reraise()
                pending[task_id] = data
            data = pending.pop(received)
            j = owner.pop(received)
            received += 1
            if isinstance(data, _Exhausted):
                if j in live:
                    live.remove(j)
                continue
            yield data
    finally:
        if not keep_alive or sent != received:
            pool.shutdown()

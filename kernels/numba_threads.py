"""The thread pool every Numba kernel shares: ``run_tasks(kernel, tasks)`` and ``split(count, parts)``.

A kernel cuts its work into tasks (row ranges of C, planes of an image batch, slices of a weight), and
``run_tasks`` runs them on ``numba.get_num_threads()`` threads: the caller and a pool of helper threads, each
taking the next task as soon as it is free. The kernels are compiled with ``nogil=True``, so the threads run
truly in parallel while they compute.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba

_executor: ThreadPoolExecutor | None = None  # the helper threads, made on first use
_executor_workers = 0
_executor_lock = threading.Lock()


def run_tasks(kernel: Callable[..., Any], tasks: Sequence[tuple]) -> None:
    """kernel(*args) for every args in ``tasks``, on numba.get_num_threads() threads; returns when all are done.

    The calling thread and a pool of helper threads take the tasks in order, each the next one
    as soon as it is free, so a thread slowed down by another job simply does fewer. The kernels
    are compiled with nogil=True: while they run, the threads do not hold Python's GIL. The call
    returns as soon as every task is done: it waits for the tasks a helper has started, never for
    a helper to wake up. On a machine where another program keeps a core busy, a helper may wake
    only milliseconds later; it then finds no task left. (Waiting for every helper to finish made
    a 2-thread conv under load 2× slower than on 1 thread.) An exception in a task is raised here,
    after the tasks already running are done; no task starts after it.
    """
    global _executor, _executor_workers
    threads = min(numba.get_num_threads(), len(tasks))
    if threads <= 1:
        for args in tasks:
            kernel(*args)
        return
    with _executor_lock:
        if _executor is None or _executor_workers < threads - 1:
            _executor = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="tinygrad_edu-numba")
            _executor_workers = threads - 1
        executor = _executor
    queue, lock = iter(tasks), threading.Lock()
    idle = threading.Condition(lock)  # notified whenever a task ends
    running: list[int] = [0]  # tasks started and not yet ended
    errors: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                args = None if errors else next(queue, None)
                if args is None:
                    return
                running[0] += 1
            try:
                kernel(*args)
            except BaseException as e:  # handed to the caller
                with lock:
                    errors.append(e)
            finally:
                with lock:
                    running[0] -= 1
                    idle.notify_all()

    for _ in range(threads - 1):
        executor.submit(work)
    work()
    with lock:
        while running[0]:
            idle.wait()
    if errors:
        raise errors[0]


def split(count: int, parts: int) -> list[tuple[int, int]]:
    """[(start, end), ...]: 0..count cut in at most ``parts`` ranges of nearly equal length."""
    parts = max(1, min(parts, count))
    return [(count * p // parts, count * (p + 1) // parts) for p in range(parts)]

"""Threads under load: is a many-thread kernel call still worth it when another program keeps a core busy?

Learners run other programs next to their training. The section starts its own busy process
(``busy_core``: one Python process spinning, one core's worth of work), then times each kernel
call of ``LOAD_CASES`` on n threads and on 1 thread, interleaved (timing.py), and stops the busy
process again, always: on success, on an error, on Ctrl-C, and (it watches its parent) even when
the benchmark itself is killed. The figure is time on n threads ÷ time on 1 thread, with the
busy process running; the issue's bound is ``LOAD_BOUND`` (1.25×): a thread pool that waits for
a descheduled thread loses that, a pool whose other threads take over its work does not.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import kernels
from .timing import Timing, line_fn, time_interleaved
from .work import LENET_CONVS, TrainCase, conv_work, matmul_work, train_work

LOAD_BOUND = 1.25  # n-thread time ÷ 1-thread time under load, at most
LOAD_CASES: tuple[tuple[str, Callable[[str], Callable[[], Any]]], ...] = (
    ("matmul 1024", lambda line: matmul_work(line, 1024)),
    (f"conv {LENET_CONVS[1]} fwd+bwd", lambda line: conv_work(line, LENET_CONVS[1])),
    ("lenet b100 step", lambda line: train_work(line, TrainCase("lenet", 100))),
)

# The busy process: spins, and looks up every ~20 ms whether its parent is still there.
_SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    for _ in range(200_000):\n        pass\n"


@contextmanager
def busy_core() -> Iterator[subprocess.Popen]:
    """A process that keeps one core busy for the block; stopped on the way out, however the block ends.

    SIGTERM to the benchmark is turned into SystemExit for the block (so this cleanup runs), and
    the busy process exits by itself when its parent dies (kill -9 included).
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _SPIN], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_threads(fn: Callable[[], None], n: int) -> Callable[[], None]:
    """fn with Numba's thread count set to n for the call (numba.set_num_threads is per calling thread)."""
    import numba

    def call() -> None:
        before = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            fn()
        finally:
            numba.set_num_threads(before)

    return call


def measure_load(
    threads: int, repeat: int, min_sample_s: float, line: str = "numba", cases: Any = LOAD_CASES
) -> list[dict[str, Any]]:
    """Each case's call on ``threads`` and on 1 thread, interleaved, while ``busy_core`` runs; the ratios."""
    rows = []
    with busy_core():
        for name, work in cases:
            fn = line_fn(line, work(line))
            fns = {f"{threads} threads": _on_threads(fn, threads), "1 thread": _on_threads(fn, 1)}
            timing: dict[str, Timing] = time_interleaved(fns, repeat, min_sample_s)
            many, one = timing[f"{threads} threads"], timing["1 thread"]
            ratio = many.median / one.median
            rows.append(dict(case=name, line=line, threads=threads, many_s=many.median, one_s=one.median,
                             many_samples_s=many.samples, one_samples_s=one.samples, ratio=ratio,
                             bound=LOAD_BOUND, met=ratio <= LOAD_BOUND))  # fmt: skip
            print(f"  measured load {name} ({line}, {threads} vs 1 thread)", file=sys.stderr, flush=True)
    return rows


def load_line(threads: int) -> str | None:
    """The backend the load section measures: numba (our thread pool), when it runs here and threads > 1."""
    if threads < 2 or "numba" not in kernels.available():
        return None
    return "numba"


def load_table(rows: list[dict[str, Any]], repeat: int) -> str:
    """The printed section: both times, the ratio, the bound and the verdict for each case."""
    from .report import format_table

    n = rows[0]["threads"]
    table = [
        [r["case"], r["line"], f"{r['many_s'] * 1e3:.2f}", f"{r['one_s'] * 1e3:.2f}", f"{r['ratio']:.2f}×",
         f"≤ {r['bound']}", "met" if r["met"] else "NOT met"]
        for r in rows
    ]  # fmt: skip
    title = (
        f"== threads under load: one core kept busy by another process; ms, median of {repeat}; "
        f"{n}-thread time ÷ 1-thread time"
    )
    headers = ["case", "line", f"{n} thr ms", "1 thr ms", "ratio", "target", "verdict"]
    return title + "\n" + format_table(headers, table)

"""Ctrl-C that stops training at a safe point, so the checkpoint it writes resumes exactly.

Python turns SIGINT into a ``KeyboardInterrupt`` raised wherever the program happens to be:
between a weight update and the optimizer's moment update, say. A checkpoint written from there
would hold a state that no uninterrupted run ever passes through. So while training runs,

    with DeferredInterrupt() as interrupt:
        run.stop = interrupt.requested      # polled after every optimizer step
        ...                                 # raises KeyboardInterrupt at the next safe point
        with interrupt.shielded():          # while the checkpoint is written
            run.save(path)

a SIGINT only *records* the request; the training loop polls ``requested()`` after each batch
(and between evaluation batches) and raises ``KeyboardInterrupt`` itself, where the run's state
is consistent. Further signals (two Ctrl-C within a few ms) are recorded too, and while the
checkpoint is being written SIGINT is ignored altogether, so nothing stops the save. Handlers
can only be installed in the main thread; elsewhere the context does nothing (and SIGINT never
reaches other threads anyway).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any


class DeferredInterrupt:
    """Record SIGINT instead of raising; see the module docstring."""

    def __init__(self) -> None:
        self.count = 0  # SIGINTs received while active
        self._previous: Any = None
        self._active = False

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1  # nothing else: printing here could re-enter a stream the main code is writing

    def requested(self) -> bool:
        """True once a SIGINT arrived (the loop then stops at its next safe point)."""
        return self.count > 0

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._record)
            self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._previous)
            self._active = False

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """Ignore SIGINT entirely inside the block (writing the checkpoint must not be cut short)."""
        if not self._active:
            yield
            return
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, self._record)

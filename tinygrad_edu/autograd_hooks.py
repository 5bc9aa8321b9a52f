"""Code that runs at a given moment of the backward walk: queued callbacks, and the handles hooks return.

``queue_callback(fn)`` runs ``fn`` once when the backward walk now under way has finished (PyTorch's engine has
the same); ``RemovableHandle`` is what every ``register_*_hook`` returns.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable

_callbacks = threading.local()


def queue_callback(fn: Callable[[], None]) -> None:
    """Run ``fn()`` once, when the backward walk now under way (in this thread) has finished.

    PyTorch's engine has the same (``Variable._execution_engine.queue_callback``); DistributedDataParallel uses
    it to wait for its gradient all-reduces after the last gradient has arrived.
    """
    if not hasattr(_callbacks, "queue"):
        _callbacks.queue = []
    _callbacks.queue.append(fn)


def _run_queued_callbacks() -> None:
    queue = getattr(_callbacks, "queue", None)
    while queue:
        queue.pop(0)()


_handle_ids = itertools.count()


class RemovableHandle:
    """What every ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook (also a context manager).

    It holds the hooks' dict weakly, so a handle kept by the user does not keep a dead module or tensor alive.
    """

    def __init__(self, hooks: dict) -> None:
        self.id = next(_handle_ids)
        self._hooks = weakref.ref(hooks)

    def remove(self) -> None:
        """Unregister the hook (doing it twice is harmless)."""
        hooks = self._hooks()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

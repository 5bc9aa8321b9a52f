"""NumPy's keyword spellings that PyTorch also accepts: ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``.

``x.sum(axis=1, keepdims=True)`` is ``x.sum(dim=1, keepdim=True)``; the reductions and the
other methods that take ``dim`` are wrapped with ``numpy_keywords`` so both spellings work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_ALIASES = {"axis": "dim", "keepdims": "keepdim"}


def numpy_keywords(fn: Callable) -> Callable:
    """Let ``fn`` take ``axis=`` / ``keepdims=`` as aliases of its ``dim=`` / ``keepdim=``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for alias, name in _ALIASES.items():
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {name}= and its alias {alias}=")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return wrapper

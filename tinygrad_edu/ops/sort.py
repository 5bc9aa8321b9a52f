"""Sorting: the order of the elements along one axis (sort, argsort, topk).

Sorting only moves numbers, so its backward is the gather's: ``values = gather(x, axis, order)``,
and each dx[order[i]] receives dy[i] (see movement.Gather). What is left to write is the order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..device import xp_of


def _descending_key(x: Any) -> Any:
    """An array whose ascending order is x's descending order, without overflow.

    −x for floats (NaN stays last); ~x = −x − 1 for signed ints (no overflow at the minimum);
    ~x = max − x for unsigned ints, not x for bools: each reverses the order.
    """
    return -x if x.dtype.kind == "f" else ~x


def sort_order(x: Any, axis: int, descending: bool = False, stable: bool = False) -> Any:
    """The int64 indices that sort x along ``axis`` (ties keep their order: the sort is always stable)."""
    xp = xp_of(x)
    key = _descending_key(x) if descending else x
    kind = "stable" if xp is np else None
    order = xp.argsort(key, axis=axis, kind=kind) if kind else xp.argsort(key, axis=axis)
    return order.astype(np.int64, copy=False)

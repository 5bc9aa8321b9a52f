"""How data becomes arrays: PyTorch's dtype rules, written once.

Python floats (and lists of them) become float32, Python ints int64, bools bool; NumPy and CuPy
arrays keep their dtype, as with ``torch.tensor``. Every place that turns user data into an array
(tensors, optimizer state, data sets, masks) goes through ``as_array``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import to_device

DEFAULT_FLOAT = np.dtype(np.float32)


def as_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from ``tge.float32``, ``np.float64``, ``"int64"``..."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{dtype!r} is not a dtype: use tge.float32, tge.float64, tge.int64 or tge.bool") from None


def as_array(data: Any, dtype: Any = None, device: str | None = None) -> Any:
    """An array from ``data`` with PyTorch's dtype rules.

    Python floats (and lists of them) become float32, Python ints int64, bools bool; NumPy and
    CuPy arrays keep their dtype (a float64 array stays float64, as with torch.tensor).
    """
    data = getattr(data, "array", data)  # a Tensor: its array
    if hasattr(data, "__cuda_array_interface__") or isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, np.generic):  # a NumPy scalar (np.float64(1.5)) keeps its dtype, as a 0-d array
        array = np.asarray(data)
    else:
        array = _from_nested(data)
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(DEFAULT_FLOAT)
        elif array.dtype.kind in "iu" and dtype is None:
            array = array.astype(np.int64, copy=False)
        elif array.dtype.kind not in "biufc":
            raise TypeError(f"cannot make a tensor from {type(data).__name__} data of dtype {array.dtype}")
    if dtype is not None:
        array = array.astype(as_dtype(dtype), copy=False)
    if device is not None:
        array = to_device(array, device)
    return array


def _from_nested(data: Any) -> np.ndarray:
    """np.asarray(data), but a ragged nested list is named: which row, which length, at which dim."""
    try:
        return np.asarray(data)
    except ValueError:
        problem = ragged_row(data)
        if problem is None:
            raise
        raise ValueError(problem) from None


def ragged_row(data: Any) -> str | None:
    """Why nested lists ``data`` are not a rectangular array, in PyTorch's words plus the row's index.

    A tensor is a box: at each depth every row has the same length. ``[[1, 2], [3]]`` is not one,
    because row [1] has 1 element where row [0] has 2. Returns None when the lists are rectangular.
    """

    def is_row(v: Any) -> bool:
        return isinstance(v, list | tuple)

    level: list[tuple[tuple[int, ...], Any]] = [((), data)]  # (index, value) of every row at one depth
    dim = 0
    while level:
        rows = [(i, v) for i, v in level if is_row(v)]
        if rows and len(rows) != len(level):  # some entries are rows, some are numbers
            (num_i, _), (row_i, _) = next((i, v) for i, v in level if not is_row(v)), rows[0]
            return (
                f"tensor: ragged nested list: {_where(row_i)} is a sequence but {_where(num_i)} is a number, "
                f"along dim {dim - 1}; every entry at one depth must be a number, or each a sequence of one length"
            )
        if not rows:
            return None
        first_i, expected = rows[0][0], len(rows[0][1])
        for i, v in rows:
            if len(v) != expected:
                return (
                    f"tensor: expected sequence of length {expected} at dim {dim} (got {len(v)}): "
                    f"{_where(i)} has {len(v)} entries but {_where(first_i)} has {expected}; "
                    "nested lists must be rectangular (pad the short rows, or keep them as separate tensors)"
                )
        level = [((*i, j), w) for i, v in rows for j, w in enumerate(v)]
        dim += 1
    return None


def _where(index: tuple[int, ...]) -> str:
    return "the top-level list" if not index else "row " + "".join(f"[{j}]" for j in index)

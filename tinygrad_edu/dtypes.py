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
        array = np.asarray(data)
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

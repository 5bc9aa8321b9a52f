"""Making tensors: tensor, zeros, ones, full, empty, arange, linspace, logspace, eye, meshgrid and the *_like forms.

Every factory takes ``dtype`` (the default float dtype, float32, unless the data says otherwise;
see ``tge.set_default_dtype``), ``device`` ("cpu", "cuda" or a ``tge.device``) and ``requires_grad``.
The random factories (rand, randn, normal, multinomial...) are in sampling.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .device import array_module, check_device, to_device
from .dtypes import as_dtype
from .tensor import Tensor
from .tensor_shape import shape_args


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: str | None = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor).

    Python floats become float32, ints int64; arrays keep their dtype, as with torch.tensor.
    ``device`` defaults to where the data already is ("cpu" for lists and NumPy arrays).
    """
    if isinstance(data, Tensor):
        data = data.array
    copied = data.copy() if hasattr(data, "copy") and not isinstance(data, list) else data
    return Tensor(copied, dtype=dtype, requires_grad=requires_grad, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with a NumPy array (no copy, dtype kept), as ``torch.from_numpy``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}; use tge.tensor(data)")
    return Tensor(array)


def _make(array: np.ndarray, dtype: Any, device: str, requires_grad: bool) -> Tensor:
    array = array.astype(dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype), copy=False)
    return Tensor(to_device(array, check_device(device)), requires_grad=requires_grad)


def _filled(shape: tuple[int, ...], value: Any, dtype: Any, device: str, requires_grad: bool) -> Tensor:
    """A constant tensor made directly on its device (no host copy)."""
    xp = array_module(check_device(device))
    array = xp.full(shape, value, dtype=dtypes.DEFAULT_FLOAT if dtype is None else as_dtype(dtype))
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(shape_args(shape), 0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _filled(shape_args(shape), 1, dtype, device, requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of one repeated value (bool for a bool value, int64 for an int, else the default float dtype)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None and isinstance(fill_value, bool | int) and not isinstance(fill_value, float):
        dtype = bool if isinstance(fill_value, bool) else np.int64
    return _filled(shape, fill_value, dtype, device, requires_grad)


def empty(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor whose values are not set (PyTorch leaves memory as it was; here it holds zeros)."""
    return _filled(shape_args(shape), 0, dtype, device, requires_grad)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple[Any, Any]:
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with t's shape, dtype and device."""
    dtype, device = _like(t, dtype, device)
    return zeros(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with t's shape, dtype and device."""
    dtype, device = _like(t, dtype, device)
    return ones(*t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An unset tensor with t's shape, dtype and device (zeros here)."""
    return zeros_like(t, dtype, device, requires_grad)


def full_like(
    t: Tensor, fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A repeated value with t's shape, dtype and device."""
    dtype, device = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: str = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... below end (int64 when all three are ints, else the default float dtype)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    integral = all(isinstance(v, int) for v in (start, end, step))
    if dtype is None:
        dtype = np.int64 if integral else dtypes.DEFAULT_FLOAT
    return _make(np.arange(start, end, step), dtype, device, requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, device: str = "cpu", requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"linspace: number of steps must be a non-negative int, got {steps!r}")
    return _make(np.linspace(start, end, steps), dtype, device, requires_grad)


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    dtype: Any = None,
    device: str = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """base ** linspace(start, end, steps): ``steps`` values evenly spaced on a log scale."""
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"logspace: number of steps must be a non-negative int, got {steps!r}")
    return _make(np.float64(base) ** np.linspace(start, end, steps), dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """The identity matrix (n × m)."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _make(np.eye(n, m), dtype, device, requires_grad)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Grids from 1-D tensors: output k varies along dim k (``indexing="ij"``, the default) and is
    constant along the others; ``indexing="xy"`` swaps the first two dims (NumPy's / MATLAB's order).

    Each grid is its 1-D input reshaped and expanded (a view), so gradients flow back summed.
    """
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing must be "ij" or "xy", got {indexing!r}')
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty list of tensors")
    for t in tensors:
        if not isinstance(t, Tensor) or t.ndim > 1:
            raise RuntimeError("meshgrid: expects 0-D or 1-D tensors")
    vectors = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(vectors) >= 2
    if swap:
        vectors[0], vectors[1] = vectors[1], vectors[0]
    shape = tuple(v.shape[0] for v in vectors)
    grids = []
    for k, v in enumerate(vectors):
        along = [1] * len(vectors)
        along[k] = -1
        grids.append(v.reshape(*along).expand(*shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)

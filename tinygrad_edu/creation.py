"""Making tensors: tensor, zeros, ones, full, arange, linspace, eye, randn, rand, randint and the *_like forms.

Every factory takes ``dtype`` (float32 unless the data says otherwise), ``device`` ("cpu" or
"cuda") and ``requires_grad``. Random draws come from the library's seeded generator
(``tge.manual_seed``) on the host, so a seed gives the same numbers on every device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import array_module, check_device, to_device
from .random import generator
from .tensor import DEFAULT_FLOAT, Tensor, as_dtype
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
    array = array.astype(DEFAULT_FLOAT if dtype is None else as_dtype(dtype), copy=False)
    return Tensor(to_device(array, check_device(device)), requires_grad=requires_grad)


def _filled(shape: tuple[int, ...], value: Any, dtype: Any, device: str, requires_grad: bool) -> Tensor:
    """A constant tensor made directly on its device (no host copy)."""
    xp = array_module(check_device(device))
    array = xp.full(shape, value, dtype=DEFAULT_FLOAT if dtype is None else as_dtype(dtype))
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(shape_args(shape), 0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _filled(shape_args(shape), 1, dtype, device, requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of one repeated value."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None and isinstance(fill_value, bool | int) and not isinstance(fill_value, float):
        dtype = bool if isinstance(fill_value, bool) else np.int64
    return _filled(shape, fill_value, dtype, device, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Zeros with t's shape, dtype and device."""
    return zeros(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Ones with t's shape, dtype and device."""
    return ones(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, device: str | None = None) -> Tensor:
    """A repeated value with t's shape, dtype and device."""
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None, device: str = "cpu") -> Tensor:
    """start, start + step, ... below end (int64 when all three are ints, else float32)."""
    if end is None:
        start, end = 0, start
    integral = all(isinstance(v, int) for v in (start, end, step))
    if dtype is None:
        dtype = np.int64 if integral else DEFAULT_FLOAT
    return _make(np.arange(start, end, step), dtype, device, False)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: str = "cpu") -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    return _make(np.linspace(start, end, steps), dtype, device, False)


def eye(n: int, m: int | None = None, dtype: Any = None, device: str = "cpu") -> Tensor:
    """The identity matrix (n × m)."""
    return _make(np.eye(n, m), dtype, device, False)


def randn(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Draws from the standard normal N(0, 1)."""
    return _make(generator().standard_normal(shape_args(shape)), dtype, device, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Draws from the uniform U[0, 1)."""
    return _make(generator().random(shape_args(shape)), dtype, device, requires_grad)


def randint(low: int, high: Any = None, size: Any = None, dtype: Any = None, device: str = "cpu") -> Tensor:
    """Integers drawn uniformly from [low, high), int64: ``randint(0, 10, (3,))`` or ``randint(10, (3,))``."""
    if size is None:
        if high is None:
            raise TypeError("randint: give a size, e.g. tge.randint(0, 10, (3,)) or tge.randint(10, (3,))")
        low, high, size = 0, low, high  # PyTorch's randint(high, size)
    size = (size,) if isinstance(size, int) else tuple(size)
    return _make(generator().integers(low, high, size), dtype or np.int64, device, False)


def randn_like(t: Tensor, dtype: Any = None, device: str | None = None) -> Tensor:
    """Standard normal draws with t's shape, dtype and device."""
    return randn(*t.shape, dtype=dtype or t.dtype, device=device or t.device)


def rand_like(t: Tensor, dtype: Any = None, device: str | None = None) -> Tensor:
    """Uniform draws with t's shape, dtype and device."""
    return rand(*t.shape, dtype=dtype or t.dtype, device=device or t.device)

"""PyTorch's small top-level habits: the default dtype, ``inference_mode``, ``FloatTensor``/``LongTensor``,
``as_tensor``, ``equal``/``allclose`` as functions, ``histogram`` and ``set_printoptions``.

    tge.set_default_dtype(tge.float64)      # Python floats and new float tensors become float64
    with tge.inference_mode():              # like no_grad: evaluation without a graph
        y = model(x)
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from . import dtypes
from .dtypes import as_dtype
from .tensor import Tensor

# ---- the default floating dtype ------------------------------------------------------------------


def set_default_dtype(dtype: Any) -> None:
    """The dtype of Python floats and of new float tensors (float32 unless changed): float16, float32 or float64."""
    d = as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got {d}")
    dtypes.DEFAULT_FLOAT = d


def get_default_dtype() -> np.dtype:
    """The current default floating dtype (float32 unless ``set_default_dtype`` changed it)."""
    return dtypes.DEFAULT_FLOAT


# ---- legacy tensor types -------------------------------------------------------------------------


class _TensorType(type):
    """``isinstance(x, tge.FloatTensor)`` is True for a float32 Tensor, as in PyTorch."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


def _legacy(name: str, dtype: Any) -> type:
    def new(cls: type, *args: Any, device: Any = None) -> Tensor:
        """``FloatTensor([1, 2])`` holds the data; ``FloatTensor(2, 3)`` is an (unset, here zero) 2×3 tensor."""
        if len(args) == 1 and not isinstance(args[0], int):
            return Tensor(args[0], dtype=cls.dtype, device=device)
        shape = tuple(int(n) for n in args)
        return Tensor(np.zeros(shape, dtype=cls.dtype), device=device)

    doc = f"A {np.dtype(dtype)} tensor (PyTorch's legacy constructor): data, or sizes. ``x.type(tge.{name})`` casts."
    return _TensorType(name, (), {"__new__": new, "__doc__": doc, "dtype": np.dtype(dtype)})


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
BoolTensor = _legacy("BoolTensor", np.bool_)
ByteTensor = _legacy("ByteTensor", np.uint8)


# ---- small functions -----------------------------------------------------------------------------


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor of ``data``, sharing memory when it already is an array or a tensor of that dtype and device."""
    if isinstance(data, Tensor):
        return (
            data
            if (dtype is None or data.dtype == as_dtype(dtype)) and device is None
            else data.to(dtype=dtype, device=device)
        )
    return Tensor(data, dtype=dtype, device=device)


def equal(x: Tensor, y: Tensor) -> bool:
    """True if both have the same shape and elements."""
    return x.equal(y)


def allclose(x: Tensor, y: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if |x − y| ≤ atol + rtol · |y| everywhere."""
    return x.allclose(y, rtol, atol, equal_nan)


def is_floating_point(x: Tensor) -> bool:
    """True for a floating-point tensor."""
    return x.dtype.kind == "f"


Histogram = namedtuple("Histogram", ["hist", "bin_edges"])


def histogram(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    bins: Any = 100,
    *,
    range: tuple[float, float] | None = None,  # noqa: A002
    weight: Tensor | None = None,
    density: bool = False,
) -> Any:
    """Counts of ``input`` in ``bins`` (a number of equal bins, or a 1-D tensor of edges): ``(hist, bin_edges)``,
    both float tensors like input. ``weight`` weighs each element; ``density`` normalises to unit area.
    """
    if input.dtype.kind != "f":
        raise RuntimeError(f"histogram: input must be a floating-point tensor, got {input.dtype}")
    edges = bins.numpy() if isinstance(bins, Tensor) else bins
    w = None if weight is None else weight.numpy()
    hist, bin_edges = np.histogram(input.numpy(), bins=edges, range=range, weights=w, density=density)
    return Histogram(Tensor(hist.astype(input.dtype)), Tensor(bin_edges.astype(input.dtype)))


def set_printoptions(precision: int | None = None, threshold: int | None = None, **_: Any) -> None:
    """Accepted for PyTorch code; tensors here print with 4 decimals (NumPy's threshold is set if given)."""
    if threshold is not None:
        np.set_printoptions(threshold=threshold)

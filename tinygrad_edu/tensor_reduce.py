"""The Tensor's products, running ops, sorting and statistics: prod, cumsum, cumprod, cummax, cummin,
logcumsumexp, sort, argsort, topk, std_mean, var_mean, count_nonzero, histc; argmax/argmin, any/all.

Differentiable ones call ops/scan.py; sort and topk are an order (ops/sort.py) followed by a gather,
so their gradient goes back to the elements that were picked.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .device import array_module
from .keywords import numpy_keywords
from .ops import scan as S
from .ops.movement import Gather
from .ops.reduce import normalize_dims
from .ops.sort import sort_order

# What these return, like torch.return_types: named pairs of Tensors.
Cummax = namedtuple("Cummax", ["values", "indices"])
Cummin = namedtuple("Cummin", ["values", "indices"])
Sort = namedtuple("Sort", ["values", "indices"])
Topk = namedtuple("Topk", ["values", "indices"])


def _axis(dim: Any, ndim: int, op: str) -> int:
    if isinstance(dim, tuple | list):
        raise TypeError(f"{op}: dim must be a single int, got {dim!r}")
    axes = normalize_dims(dim, max(ndim, 1), op)
    return axes[0]


class TensorReduce:
    """Products, running ops, sorting and statistics (mixed into Tensor)."""

    def _counting(self, dtype: Any) -> Any:
        """Self cast to ``dtype``, or to int64 for integer and bool tensors (PyTorch's sum/prod/cumsum rule)."""
        if dtype is not None:
            return self.to(dtype)
        return self if self.dtype.kind in "fc" else self._wrap(self.array.astype(np.int64))

    @numpy_keywords
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
        """Π over ``dim`` (every element when None); the gradient is the product of the others (ops.scan.Prod)."""
        x = self._counting(dtype)
        axes = normalize_dims(None if dim is None else _axis(dim, self.ndim, "prod"), self.ndim, "prod")
        return S.Prod.apply(x, axes, keepdim)

    # ---- running ops along one dim ----------------------------------------------------------

    def _running(self, dim: Any, op: str) -> tuple[Any, int]:
        if self.ndim == 0:
            return self.reshape(1), 0
        return self, _axis(dim, self.ndim, op)

    def _unrun(self, y: Any) -> Any:
        return y.reshape(()) if self.ndim == 0 else y

    @numpy_keywords
    def cumsum(self, dim: int, *, dtype: Any = None) -> Any:
        """yᵢ = Σ_{j≤i} xⱼ along ``dim`` (ops.scan.Cumsum)."""
        x, axis = self._counting(dtype)._running(dim, "cumsum")
        return self._unrun(S.Cumsum.apply(x, axis))

    @numpy_keywords
    def cumprod(self, dim: int, *, dtype: Any = None) -> Any:
        """yᵢ = Π_{j≤i} xⱼ along ``dim`` (ops.scan.Cumprod)."""
        x, axis = self._counting(dtype)._running(dim, "cumprod")
        return self._unrun(S.Cumprod.apply(x, axis))

    def _cum_extreme(self, dim: Any, largest: bool, op: str) -> tuple[Any, Any]:
        x, axis = self._running(dim, op)
        indices = S.running_extreme_indices(x.array, axis, largest)
        values = Gather.apply(x, axis, indices)
        return self._unrun(values), self._unrun(self._wrap(indices))

    @numpy_keywords
    def cummax(self, dim: int) -> Any:
        """The running maximum along ``dim`` and where it was reached: ``(values, indices)``."""
        return Cummax(*self._cum_extreme(dim, True, "cummax"))

    @numpy_keywords
    def cummin(self, dim: int) -> Any:
        """The running minimum along ``dim`` and where it was reached: ``(values, indices)``."""
        return Cummin(*self._cum_extreme(dim, False, "cummin"))

    @numpy_keywords
    def logcumsumexp(self, dim: int) -> Any:
        """yᵢ = log Σ_{j≤i} e^xⱼ along ``dim``, without overflow (ops.scan.LogCumSumExp)."""
        x, axis = self._floating()._running(dim, "logcumsumexp")
        return self._unrun(S.LogCumSumExp.apply(x, axis))

    # ---- sorting ----------------------------------------------------------------------------

    @numpy_keywords
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """The indices that sort x along ``dim`` (int64; ties keep their order)."""
        if self.ndim == 0:
            return self._wrap(array_module(self.device).zeros((), dtype=np.int64))
        return self._wrap(sort_order(self.array, _axis(dim, self.ndim, "argsort"), descending))

    @numpy_keywords
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """``(values, indices)`` sorted along ``dim``; values = gather(x, dim, indices), so dx follows the indices."""
        if self.ndim == 0:
            return Sort(self.clone(), self.argsort())
        axis = _axis(dim, self.ndim, "sort")
        order = sort_order(self.array, axis, descending)
        return Sort(Gather.apply(self, axis, order), self._wrap(order))

    def msort(self) -> Any:
        """The values sorted along dim 0."""
        return self.sort(0).values

    @numpy_keywords
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        """The k largest (or smallest) entries along ``dim`` and their indices: ``(values, indices)``."""
        x = self.reshape(1) if self.ndim == 0 else self
        axis = _axis(dim, x.ndim, "topk")
        if not 0 <= k <= x.shape[axis]:
            raise RuntimeError(f"topk: k ({k}) is out of range for dimension {axis} of size {x.shape[axis]}")
        order = sort_order(x.array, axis, descending=largest)
        order = order[(slice(None),) * axis + (slice(0, k),)]
        values = Gather.apply(x, axis, order)
        if self.ndim == 0:
            return Topk(values.reshape(()), self._wrap(order.reshape(())))
        return Topk(values, self._wrap(order))

    # ---- statistics -------------------------------------------------------------------------

    @numpy_keywords
    def std_mean(
        self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *, correction: Any = None
    ) -> tuple[Any, Any]:
        """``(std, mean)`` over ``dim`` in one call."""
        return self.std(dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim)

    @numpy_keywords
    def var_mean(
        self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *, correction: Any = None
    ) -> tuple[Any, Any]:
        """``(var, mean)`` over ``dim`` in one call."""
        return self.var(dim, unbiased, keepdim, correction=correction), self.mean(dim, keepdim)

    @numpy_keywords
    def count_nonzero(self, dim: Any = None) -> Any:
        """How many elements are nonzero over ``dim`` (int64)."""
        axes = normalize_dims(dim, self.ndim, "count_nonzero")
        return self._wrap((self.array != 0).sum(axis=axes).astype(np.int64))

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Any:  # noqa: A002
        """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0); elements outside
        are ignored. A float tensor like x, no gradient.
        """
        if self.dtype.kind != "f":
            raise RuntimeError(f"histc: expects a floating-point tensor, got {self.dtype}")
        a = self.numpy()
        lo, hi = float(min), float(max)
        if lo == hi:
            lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if lo > hi:
            raise RuntimeError(f"histc: max must be larger than min, got min={min}, max={max}")
        counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
        return self._wrap(counts.astype(self.dtype)).to(self.device)

    # ---- arg-extremes and logical reductions (no gradient) -------------------------------------

    @numpy_keywords
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Index of the largest element (flattened when dim is None), an int64 tensor."""
        return self._arg_extreme(dim, keepdim, "argmax")

    def _arg_extreme(self, dim: Any, keepdim: bool, op: str) -> Any:
        """argmax / argmin, each computed directly (no negation, so no overflow at an integer's minimum)."""
        xp = array_module(self.device)
        if self.numel() == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        if dim is None:
            i = xp.asarray(getattr(self.array, op)(), dtype=np.int64)
            return self._wrap(i.reshape((1,) * self.ndim) if keepdim else i)
        axis = _axis(dim, self.ndim, op)
        if self.ndim == 0:
            return self._wrap(xp.zeros((), dtype=np.int64))
        i = getattr(self.array, op)(axis=axis).astype(np.int64, copy=False)
        return self._wrap(xp.expand_dims(i, axis) if keepdim else i)

    @numpy_keywords
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Index of the smallest element."""
        return self._arg_extreme(dim, keepdim, "argmin")

    @numpy_keywords
    def any(self, dim: Any = None, keepdim: bool = False) -> Any:
        """True where any element over ``dim`` is nonzero (every element when None): a bool tensor."""
        return self._wrap(self.array.any(axis=normalize_dims(dim, self.ndim, "any"), keepdims=keepdim))

    @numpy_keywords
    def all(self, dim: Any = None, keepdim: bool = False) -> Any:
        """True where every element over ``dim`` is nonzero: a bool tensor."""
        return self._wrap(self.array.all(axis=normalize_dims(dim, self.ndim, "all"), keepdims=keepdim))

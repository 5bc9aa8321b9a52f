"""The Tensor's indexed reads and writes: scatter, scatter_add, scatter_reduce (ops/index.py), and
index_select, masked_select, take, take_along_dim (indexings), nonzero and argwhere (no gradient).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import array_module, to_device
from .ops import index as I
from .ops.reduce import normalize_dims


def _axis(dim: Any, ndim: int, op: str) -> int:
    (axis,) = normalize_dims(dim, max(ndim, 1), op)
    return axis


def _index_array(index: Any, device: Any, op: str) -> Any:
    a = index.array if hasattr(index, "array") else np.asarray(index)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {a.dtype}")
    return to_device(a, device)


class TensorIndex:
    """Scatter and the selecting reads (mixed into Tensor)."""

    def _scatter_args(self, dim: int, index: Any, src: Any, op: str) -> tuple[int, Any, Any]:
        """Check dim, index and src as PyTorch does; return the axis, the index array and src (a Tensor or a number)."""
        axis = _axis(dim, self.ndim, op)
        idx = _index_array(index, self.device, op)
        if idx.ndim != max(self.ndim, 1) and not (self.ndim == 0 and idx.ndim == 0):
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as self tensor")
        if hasattr(src, "array"):
            if src.dtype != self.dtype:
                raise RuntimeError(
                    f"{op}(): Expected self.dtype to be equal to src.dtype ({self.dtype} and {src.dtype})"
                )
            if src.ndim != idx.ndim or any(k > n for k, n in zip(idx.shape, src.shape)):
                raise RuntimeError(
                    f"{op}(): Expected index {tuple(idx.shape)} to be smaller than src {src.shape} in every dimension"
                )
        if any(k > n for a, (k, n) in enumerate(zip(idx.shape, self.shape)) if a != axis):
            raise RuntimeError(
                f"{op}(): Expected index {tuple(idx.shape)} to be smaller than self {self.shape} "
                f"apart from dimension {axis}"
            )
        n = self.shape[axis] if self.ndim else 1
        if idx.size and (bool((idx < -n).any()) or bool((idx >= n).any())):
            raise RuntimeError(f"{op}(): index out of bounds for dimension {axis} with size {n}")
        return axis, idx % n if idx.size else idx, src

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None) -> Any:
        """A copy of x with y[..., index[i][j], ...] = src[i][j] along ``dim`` (src a tensor or a number).

        ``reduce="add"`` / ``"multiply"`` (PyTorch's older form) combine instead of overwriting.
        """
        src = value if src is None else src
        if src is None:
            raise TypeError("scatter(): give src (a tensor) or value (a number)")
        if reduce is not None:
            how = {"add": "sum", "multiply": "prod"}.get(reduce)
            if how is None:
                raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
            if not hasattr(src, "array"):
                src = self._wrap(
                    array_module(self.device).full(
                        np.shape(_index_array(index, "cpu", "scatter")), src, dtype=self.dtype
                    )
                )
            return self.scatter_reduce(dim, index, src, how)
        axis, idx, src = self._scatter_args(dim, index, src, "scatter")
        if not hasattr(src, "array"):
            src = array_module(self.device).asarray(src, dtype=self.dtype)
        return I.Scatter.apply(self, axis, idx, src)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        """A copy of x with y[..., index[i][j], ...] += src[i][j] along ``dim`` (ops.index.ScatterAdd)."""
        axis, idx, src = self._scatter_args(dim, index, src, "scatter_add")
        return I.ScatterAdd.apply(self, axis, idx, src)

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True) -> Any:
        """Combine src into the places index names along ``dim`` by ``reduce``: "sum", "prod", "mean", "amax"
        or "amin"; with ``include_self=False`` x's own value there is left out (ops.index.ScatterReduce).
        """
        if reduce not in I.REDUCTIONS:
            raise RuntimeError(f"scatter_reduce(): reduce argument must be one of {I.REDUCTIONS}, got {reduce!r}")
        axis, idx, src = self._scatter_args(dim, index, src, "scatter_reduce")
        return I.ScatterReduce.apply(self, axis, idx, src, reduce, include_self)

    def index_select(self, dim: int, index: Any) -> Any:
        """The slices at ``index`` (a 1-D integer tensor) along ``dim``: x[:, index] for dim = 1."""
        axis = _axis(dim, self.ndim, "index_select")
        idx = _index_array(index, self.device, "index_select")
        if idx.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        if self.ndim == 0:
            return self.reshape(1)[idx.reshape(-1)].reshape(idx.shape)
        return self[(slice(None),) * axis + (idx.reshape(-1),)]

    def masked_select(self, mask: Any) -> Any:
        """The elements where ``mask`` (a bool tensor, broadcast with x) is True, as a 1-D tensor."""
        m = mask.array if hasattr(mask, "array") else np.asarray(mask)
        if m.dtype != bool:
            raise RuntimeError(f"masked_select: expected a bool mask, got {m.dtype}")
        shape = np.broadcast_shapes(self.shape, m.shape)
        xp = array_module(self.device)
        x = self.expand(*shape) if tuple(shape) != self.shape else self
        return x[xp.broadcast_to(to_device(m, self.device), shape)]

    def take(self, index: Any) -> Any:
        """The elements at ``index`` of the flattened tensor, shaped like index."""
        return self.flatten()[_index_array(index, self.device, "take")]

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Any:
        """gather with broadcasting; without dim, on the flattened tensor."""
        if dim is None:
            return self.flatten().gather(0, indices.flatten())
        return self.gather(dim, indices)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
        xp = array_module(self.device)
        if self.ndim == 0:
            found = int(bool(self.array != 0))
            return tuple() if as_tuple else self._wrap(xp.zeros((found, 0), dtype=np.int64))
        where = xp.nonzero(self.array)
        if as_tuple:
            return tuple(self._wrap(w.astype(np.int64)) for w in where)
        return self._wrap(xp.stack(where, axis=1).astype(np.int64).reshape(-1, self.ndim))

    def argwhere(self) -> Any:
        """Same as nonzero()."""
        return self.nonzero()

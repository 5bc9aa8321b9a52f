"""The Tensor's further shape methods: flip, roll, repeat, repeat_interleave, tril, triu, diag, diagonal,
narrow, unflatten, unfold, view_as, t, the new_* factories, nelement and ``format(x, ".2f")``.

None needs an op of its own: each is an indexing, a reshape/expand or a where, whose backward
already routes the gradient (a picked element gets dy; a repeated one gets the sum of its copies).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import array_module, to_device
from .ops.reduce import normalize_dims
from .tensor_shape import shape_args


def _axis(dim: Any, ndim: int, op: str) -> int:
    (axis,) = normalize_dims(dim, ndim, op)
    return axis


def _along(axis: int, index: Any) -> tuple[Any, ...]:
    """The index tuple that applies ``index`` along ``axis`` and keeps every other dim whole."""
    return (slice(None),) * axis + (index,)


class TensorLayout:
    """Reordering, repeating, triangles and diagonals, windows; small conveniences (mixed into Tensor)."""

    # ---- reordering -------------------------------------------------------------------------

    def flip(self, *dims: Any) -> Any:
        """Reverse the order along ``dims`` (a view: x[..., ::-1])."""
        axes = normalize_dims(shape_args(dims), self.ndim, "flip")
        return self[tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(self.ndim))]

    def fliplr(self) -> Any:
        """Reverse the columns (dim 1)."""
        return self.flip(1)

    def flipud(self) -> Any:
        """Reverse the rows (dim 0)."""
        return self.flip(0)

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        """Shift the elements ``shifts`` places along ``dims``, wrapping around (y[i + s] = x[i]).

        Without dims the tensor is flattened, rolled and reshaped back.
        """
        if dims is None:
            if not isinstance(shifts, int):
                (shifts,) = shifts
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts ({len(shifts)}) and dims ({len(dims)}) must have the same length")
        out = self
        xp = array_module(self.device)
        for s, d in zip(shifts, dims):
            axis = _axis(d, self.ndim, "roll")
            n = self.shape[axis]
            if n and s % n:
                out = out[_along(axis, (xp.arange(n) - s) % n)]
        return out

    # ---- repeating --------------------------------------------------------------------------

    def repeat(self, *sizes: Any) -> Any:
        """Tile the tensor: ``x.repeat(2, 3)`` stacks 2 copies along dim 0 and 3 along dim 1 (like np.tile).

        Each dim of size n becomes (1, n), is expanded to (r, n) and merged to r·n, so dx sums the copies.
        """
        sizes = shape_args(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(
                f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number of dims "
                f"of the tensor ({self.ndim})"
            )
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        x = self.reshape(*[m for n in shape for m in (1, n)])
        x = x.expand(*[m for r, n in zip(sizes, shape) for m in (r, n)])
        return x.reshape(*[r * n for r, n in zip(sizes, shape)])

    def tile(self, *dims: Any) -> Any:
        """Like repeat, but fewer sizes than dims are padded with 1s in front (torch.tile)."""
        dims = shape_args(dims)
        return self.repeat(*((1,) * (self.ndim - len(dims)) + dims))

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *, output_size: int | None = None) -> Any:
        """Repeat each element ``repeats`` times in place: [1, 2].repeat_interleave(2) = [1, 1, 2, 2].

        ``repeats`` is a number, or a tensor/list with one count per element along ``dim``.
        Without ``dim`` the tensor is flattened first.
        """
        x = self.flatten() if dim is None else self
        axis = 0 if dim is None else _axis(dim, x.ndim, "repeat_interleave")
        if x.ndim == 0:
            x = x.reshape(1)
        n = x.shape[axis]
        counts = np.asarray(repeats.numpy() if hasattr(repeats, "numpy") else repeats)
        if counts.ndim == 0 or counts.size == 1 and n != 1:
            r = int(counts.reshape(()))
            if r < 0:
                raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {r}")
            y = x.unsqueeze(axis + 1)
            y = y.expand(*x.shape[: axis + 1], r, *x.shape[axis + 1 :])
            return y.reshape(*x.shape[:axis], n * r, *x.shape[axis + 1 :])
        if counts.shape != (n,):
            raise RuntimeError(
                f"repeat_interleave: repeats must have the same size as input along dim, got {counts.shape} and {n}"
            )
        if np.any(counts < 0):
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        index = to_device(np.repeat(np.arange(n), counts), self.device)
        return x[_along(axis, index)]

    # ---- triangles and diagonals ------------------------------------------------------------

    def _triangle(self, diagonal: int, lower: bool, op: str) -> Any:
        from .tensor_shape import where

        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
        xp = array_module(self.device)
        rows, cols = self.shape[-2:]
        offset = xp.arange(cols)[None, :] - xp.arange(rows)[:, None]  # j − i
        keep = offset <= diagonal if lower else offset >= diagonal
        return where(self._wrap(keep), self, 0)

    def tril(self, diagonal: int = 0) -> Any:
        """The lower triangle: x[i, j] where j − i ≤ diagonal, else 0 (on the last two dims)."""
        return self._triangle(diagonal, True, "tril")

    def triu(self, diagonal: int = 0) -> Any:
        """The upper triangle: x[i, j] where j − i ≥ diagonal, else 0."""
        return self._triangle(diagonal, False, "triu")

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        """The entries x[i, i + offset] of dims dim1 and dim2, as a new last dim."""
        if self.ndim < 2:
            raise RuntimeError(f"diagonal: expects a tensor with at least 2 dims, got shape {self.shape}")
        a, b = _axis(dim1, self.ndim, "diagonal"), _axis(dim2, self.ndim, "diagonal")
        if a == b:
            raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dim ({dim1})")
        rest = [d for d in range(self.ndim) if d not in (a, b)]
        x = self.permute(*rest, a, b)
        rows, cols = x.shape[-2:]
        length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
        xp = array_module(self.device)
        i = xp.arange(length) + max(-offset, 0)
        return x[(Ellipsis, i, i + offset)]

    def diag(self, diagonal: int = 0) -> Any:
        """1-D: the square matrix with x on its ``diagonal``-th diagonal. 2-D: that diagonal, as a 1-D tensor."""
        from .tensor_shape import where

        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {self.shape}")
        n = self.shape[0] + abs(diagonal)
        xp = array_module(self.device)
        r, c = xp.arange(n)[:, None], xp.arange(n)[None, :]
        on = (c - r) == diagonal
        index = xp.clip(xp.minimum(r, c) + xp.zeros((n, n), dtype=np.int64), 0, max(self.shape[0] - 1, 0))
        if self.shape[0] == 0:
            return self._wrap(xp.zeros((n, n), dtype=self.dtype))
        return where(self._wrap(on), self[index], 0)

    def diag_embed(self, offset: int = 0) -> Any:
        """A batch of matrices with the last dim of x on their diagonal."""
        if self.ndim == 1:
            return self.diag(offset)
        from .tensor_shape import stack

        return stack([row.diag_embed(offset) for row in self], 0)

    # ---- windows, narrowing and reshaping ---------------------------------------------------

    def narrow(self, dim: int, start: int, length: int) -> Any:
        """x[start : start + length] along ``dim`` (a view); a negative start counts from the end."""
        axis = _axis(dim, self.ndim, "narrow")
        n = self.shape[axis]
        start = int(start)
        if start < 0:
            start += n
        if not (0 <= start <= n and 0 <= length and start + length <= n):
            raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}).")
        return self[_along(axis, slice(start, start + length))]

    def unflatten(self, dim: int, sizes: Any) -> Any:
        """Split one dim into several: (N, 12).unflatten(1, (3, 4)) is (N, 3, 4); one size may be −1."""
        axis = _axis(dim, self.ndim, "unflatten")
        sizes = tuple(int(s) for s in sizes)
        return self.reshape(*self.shape[:axis], *sizes, *self.shape[axis + 1 :])

    def unfold(self, dimension: int, size: int, step: int) -> Any:
        """All windows of ``size`` along ``dimension``, ``step`` apart; the window becomes a new last dim.

        (N, L).unfold(1, k, s) is (N, ⌊(L − k)/s⌋ + 1, k), window w being x[:, w·s : w·s + k].
        """
        x = self.reshape(1) if self.ndim == 0 else self
        axis = _axis(dimension, x.ndim, "unfold")
        n = x.shape[axis]
        if size > n:
            raise RuntimeError(f"unfold: maximum size for tensor at dimension {axis} is {n} but size is {size}")
        if step <= 0:
            raise RuntimeError(f"unfold: step is {step} but must be > 0")
        xp = array_module(self.device)
        windows = xp.arange(0, n - size + 1, step)[:, None] + xp.arange(size)[None, :]
        return x[_along(axis, windows)].movedim(axis + 1, -1)

    def view_as(self, other: Any) -> Any:
        """Reshape to ``other``'s shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def t(self) -> Any:
        """The transpose of a matrix (a 0-D or 1-D tensor is returned as it is)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else self.transpose(0, 1)

    # ---- new tensors like this one ----------------------------------------------------------

    def _new(self, size: tuple[Any, ...], value: Any, dtype: Any, device: Any, requires_grad: bool) -> Any:
        from .creation import full

        dtype = self.dtype if dtype is None else dtype
        return full(
            shape_args(size),
            value,
            dtype=dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """Zeros of ``size`` with this tensor's dtype and device (unless given)."""
        return self._new(size, 0, dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """Ones of ``size`` with this tensor's dtype and device."""
        return self._new(size, 1, dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """An unset tensor of ``size`` (zeros here) with this tensor's dtype and device."""
        return self._new(size, 0, dtype, device, requires_grad)

    def new_full(
        self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Any:
        """``fill_value`` everywhere, with this tensor's dtype and device."""
        return self._new((size,), fill_value, dtype, device, requires_grad)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Any:
        """A tensor of ``data`` with this tensor's dtype and device (unless given)."""
        from .creation import tensor

        return tensor(
            data,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def type_as(self, other: Any) -> Any:
        """Cast to ``other``'s dtype."""
        return self.to(other.dtype)

    # ---- small conveniences -----------------------------------------------------------------

    def nelement(self) -> int:
        """The number of elements (same as numel)."""
        return self.numel()

    def element_size(self) -> int:
        """Bytes per element."""
        return int(self.dtype.itemsize)

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors."""
        return self.dtype.kind == "f"

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a 0-d tensor's number; other tensors accept only an empty spec, as in PyTorch."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

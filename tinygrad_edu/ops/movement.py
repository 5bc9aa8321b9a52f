"""Movement: operations that move numbers around without changing them.

Their backward moves the gradient back the same way: a reshape is undone by the inverse reshape,
a permutation by the inverse permutation, an indexing by scattering dy into a zero array.
``flatten``, ``squeeze``, ``unsqueeze`` and ``view`` are reshapes; ``transpose`` is a permutation;
``stack`` is unsqueeze + cat; ``masked_fill`` is a where.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..device import device_of, to_device, xp_of
from ..errors import ShapeError
from .elementwise import broadcast_shape, unbroadcast


class Reshape(Function):
    """y = x laid out in a new shape (same elements, same order)        dx = dy reshaped back to x's shape"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot view a tensor of shape {tuple(x.shape)} ({x.size} elements) as {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, dy):
        return dy.reshape(ctx.shape), None


class Permute(Function):
    """y = x with its axes reordered: y.shape[i] = x.shape[dims[i]]      dx = dy with the inverse order"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, dy):
        return dy.transpose(np.argsort(ctx.dims)), None


class Expand(Function):
    """y = x broadcast to a bigger shape (a view: no copy)        dx = unbroadcast(dy, x.shape)"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return xp_of(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, dy):
        return unbroadcast(dy, ctx.shape), None


def _has_integer_array(index: Any) -> bool:
    """Does the index pick elements by integer arrays (which may pick one element twice)?"""
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "dtype") and p.dtype.kind in "iu" for p in parts)


def _scatter_add(dx: Any, index: Any, dy: Any) -> None:
    """dx[index] += dy, adding every time an element is picked (np.add.at / cupyx.scatter_add)."""
    if isinstance(dx, np.ndarray):
        np.add.at(dx, index, dy)
    else:
        import cupyx

        cupyx.scatter_add(dx, index, dy)


class GetItem(Function):
    """y = x[index]          dx = zeros like x, then dx[index] += dy

    With integer-array indices one element of x can be picked several times (x[[0, 0, 1]]);
    each pick sends its gradient back, so backward *adds* into dx (scatter-add), never overwrites.
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, dy):
        dx = xp_of(dy).zeros(ctx.shape, dtype=dy.dtype)
        if _has_integer_array(ctx.index):
            _scatter_add(dx, ctx.index, dy)
        else:  # slices, ints and boolean masks pick each element at most once
            dx[ctx.index] = dy
        return dx, None


def _along_axis_index(index: Any, axis: int) -> tuple[Any, ...]:
    """The full index tuple meaning "index along axis, every position elsewhere" (for scatter-add)."""
    xp = xp_of(index)
    grids = [xp.arange(n).reshape([-1 if a == i else 1 for a in range(index.ndim)]) for i, n in enumerate(index.shape)]
    grids[axis] = index
    return tuple(grids)


class Gather(Function):
    """y[i, j] = x[i, index[i, j]]  (along axis 1; any axis in general)      dx[i, index[i, j]] += dy[i, j]

    PyTorch's ``gather``: pick one entry per position along an axis. ``max(dim)`` is
    ``gather(dim, argmax)``, so only the winning entry receives the gradient. As in PyTorch the
    index may be shorter than x along the other axes: only x's leading part there is read.
    """

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index)
        leading = tuple(slice(None) if a == axis else slice(0, k) for a, k in enumerate(index.shape))
        return xp_of(x).take_along_axis(x[leading], index, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        (index,) = ctx.saved_tensors
        dx = xp_of(dy).zeros(ctx.shape, dtype=dy.dtype)
        _scatter_add(dx, _along_axis_index(index, ctx.axis), dy)
        return dx, None, None


class Copy(Function):
    """y = a copy of x, optionally cast to another dtype or moved to another device

    dx = dy, cast back to x's dtype and moved back to x's device: copying does not change values,
    so the gradient passes straight through.
    """

    @staticmethod
    def forward(ctx, x, dtype, device):
        ctx.dtype, ctx.device = x.dtype, device_of(x)
        y = to_device(x, device) if device is not None else x
        return y.astype(dtype if dtype is not None else y.dtype, copy=y is x)

    @staticmethod
    def backward(ctx, dy):
        return to_device(dy, ctx.device).astype(ctx.dtype, copy=False), None, None


class Cat(Function):
    """y = [x₁, x₂, …] joined along one axis       dxₖ = the slice of dy that xₖ occupies"""

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return xp_of(xs[0]).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        ends = np.cumsum(ctx.sizes)[:-1].tolist()
        return (None, *xp_of(dy).split(dy, ends, axis=ctx.axis))


class Where(Function):
    """z = x where cond else y       dx = dz where cond else 0,   dy = 0 where cond else dz"""

    @staticmethod
    def forward(ctx, cond, x, y):
        broadcast_shape("where", cond.shape, x.shape, y.shape)
        ctx.save_for_backward(cond)
        ctx.shapes = (x.shape, y.shape)
        return xp_of(x).where(cond, x, y)

    @staticmethod
    def backward(ctx, dz):
        (cond,) = ctx.saved_tensors
        xp = xp_of(dz)
        zero = xp.zeros((), dtype=dz.dtype)
        x_shape, y_shape = ctx.shapes
        dx = unbroadcast(xp.where(cond, dz, zero), x_shape) if ctx.needs_input_grad[1] else None
        dy = unbroadcast(xp.where(cond, zero, dz), y_shape) if ctx.needs_input_grad[2] else None
        return None, dx, dy


class Contiguous(Function):
    """y = x's elements copied into row-major order (the values do not change)        dx = dy"""

    @staticmethod
    def forward(ctx, x):
        return xp_of(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, dy):
        return dy

"""Matrix multiplication, the op that dominates training time: it calls the kernel table.

torch.matmul's rules: a 1-D left argument is a row (1, K), a 1-D right argument a column (K, 1),
and the promoted axis is removed again from the result; leading (batch) axes broadcast.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..autograd import Function
from ..device import device_of, xp_of
from ..errors import ShapeError
from .elementwise import unbroadcast


def _check(x: Any, y: Any) -> None:
    """Raise an error that names both shapes (or dtypes) when x @ y is not defined."""
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dim, got shapes {x.shape} and {y.shape}")
    k_x, k_y = x.shape[-1], y.shape[-2] if y.ndim > 1 else y.shape[0]
    if k_x != k_y:
        raise ShapeError(f"matmul: {x.shape} @ {y.shape}: inner dimensions {k_x} and {k_y} differ")
    try:
        np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"matmul: {x.shape} @ {y.shape}: batch dimensions {x.shape[:-2]} and {y.shape[:-2]} do not broadcast"
        ) from None
    if x.dtype != y.dtype:
        raise TypeError(
            f"matmul: dtypes differ: {x.dtype} @ {y.dtype}. Convert one side first, "
            "e.g. x.float() (float32, the default) or w.double()."
        )
    if x.dtype.kind != "f":
        raise TypeError(f"matmul: needs floating-point tensors, got {x.dtype}; call .float() first.")


def batched_matmul(a: Any, b: Any) -> Any:
    """a @ b for a: (..., M, K), b: (..., K, N), through the current kernel backend.

    The kernel table multiplies 2-D matrices or stacks of them (3-D, same batch), so broadcast
    batch axes are laid out explicitly first. A 2-D right side is folded: (..., M, K) @ (K, N) is
    one (B·M, K) @ (K, N) product, the case of a Linear layer on a batch of sequences.
    """
    if a.shape[-1] == 0 or a.shape[-2] == 0 or b.shape[-1] == 0:  # an empty product: zeros (a sum of no terms)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        return xp_of(a).zeros((*batch, a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    k = kernels.for_device(device_of(a), "matmul")
    if b.ndim == 2:
        return k.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1])
    xp = xp_of(a)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a3 = xp.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, *a.shape[-2:])
    b3 = xp.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:])
    return k.matmul(a3, b3).reshape(*batch, a.shape[-2], b.shape[-1])


def _mT(a: Any) -> Any:
    """The matrix transpose of the last two axes (a view, no copy)."""
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """Z = X @ Y             dX = dZ @ Yᵀ,    dY = Xᵀ @ dZ

    Each Zᵢⱼ = Σₖ Xᵢₖ Yₖⱼ, so ∂L/∂Xᵢₖ = Σⱼ dZᵢⱼ Yₖⱼ (that is dZ @ Yᵀ) and ∂L/∂Yₖⱼ = Σᵢ Xᵢₖ dZᵢⱼ
    (that is Xᵀ @ dZ). For stacks of matrices this holds per matrix; a batch axis that was
    broadcast is summed back (unbroadcast), like any broadcast input.
    """

    @staticmethod
    def forward(ctx, x, y):
        _check(x, y)
        x2 = x[None, :] if x.ndim == 1 else x  # a vector on the left is a row
        y2 = y[:, None] if y.ndim == 1 else y  # a vector on the right is a column
        ctx.save_for_backward(x2, y2)
        ctx.shapes = (x.shape, y.shape)
        z = batched_matmul(x2, y2)
        ctx.z2_shape = z.shape  # before the promoted axes are dropped
        if x.ndim == 1:
            z = z.squeeze(-2)
        if y.ndim == 1:
            z = z.squeeze(-1)
        return z

    @staticmethod
    def backward(ctx, dz):
        x2, y2 = ctx.saved_tensors
        x_shape, y_shape = ctx.shapes
        dz = dz.reshape(ctx.z2_shape)  # put back the axes a 1-D argument had lost
        dx = dy = None
        if ctx.needs_input_grad[0]:
            dx = unbroadcast(batched_matmul(dz, _mT(y2)), x2.shape).reshape(x_shape)
        if ctx.needs_input_grad[1]:
            if y2.ndim == 2:  # one weight matrix shared by the whole batch: fold the batch into K
                rows = int(np.prod(x2.shape[:-1]))
                dy = batched_matmul(x2.reshape(rows, x2.shape[-1]).T, dz.reshape(rows, dz.shape[-1]))
            else:
                dy = unbroadcast(batched_matmul(_mT(x2), dz), y2.shape)
            dy = dy.reshape(y_shape)
        return dx, dy


class Linear(Function):
    """y = x Wᵀ + b   for x (..., in), W (out, in) as PyTorch stores it, b (out,)

        dx = dy W              (..., out) @ (out, in)
        dW = dyᵀ x             summed over every leading axis: (out, N) @ (N, in), N = all rows of x
        db = Σ dy              over the leading axes

    The same algebra as MatMul's (a Linear layer is x @ Wᵀ + b), in one node: the leading axes of
    x are folded into one batch of rows, so each gradient is a single 2-D product, and dW comes
    out laid out like W.
    """

    @staticmethod
    def forward(ctx, x, w, b):
        _check(x, w.T)
        k = kernels.for_device(device_of(x), "linear")
        rows = x.reshape(-1, x.shape[-1])  # (N, in)
        y = k.matmul(rows, w.T)
        if b is not None:
            y += b
        ctx.save_for_backward(rows, w)
        ctx.x_shape = x.shape
        return y.reshape(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, dy):
        rows, w = ctx.saved_tensors
        k = kernels.for_device(device_of(dy), "linear")
        dy_rows = dy.reshape(-1, w.shape[0])  # (N, out)
        dx = k.matmul(dy_rows, w).reshape(ctx.x_shape) if ctx.needs_input_grad[0] else None
        dw = k.matmul(dy_rows.T, rows) if ctx.needs_input_grad[1] else None
        db = dy_rows.sum(axis=0) if ctx.needs_input_grad[2] else None
        return dx, dw, db

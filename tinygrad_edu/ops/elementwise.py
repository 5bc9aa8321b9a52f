"""Elementwise arithmetic and functions: each one's forward and backward side by side, its derivative in the docstring.

Unary ops read ``y = f(x)``, ``dx = dy · f'(x)``: ``dy`` is dL/dy, the gradient arriving from
above, and ``dx`` the gradient we hand down (the chain rule). Binary ops read ``z = x ∘ y``.
Arrays are NumPy or CuPy; ``xp_of(x)`` picks the module, so one formula serves both devices.
Every forward and backward runs under IEEE rules (tinygrad_edu.numerics): x/0 is ±inf, ln 0 is −inf,
ln(−1) is nan and 3e38 · 10 is inf, silently, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..device import xp_of

# ---------------------------------------------------------------------------------------------
# Broadcasting, written once: the shapes' check (forward) and the gradient's sum (backward)
# ---------------------------------------------------------------------------------------------


def broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to, or PyTorch's RuntimeError naming ``op`` and every shape.

    Shapes are lined up from the right; at each position the sizes must be equal, or one of them 1
    (which is stretched), or missing (a new leading axis):

        (2, 3) and (4, 3) -> RuntimeError (2 vs 4 at dim 0)      (3, 1) and (4,) -> (3, 4)

    Every op that broadcasts its inputs (the arithmetic, maximum/minimum, comparisons, where) calls
    this before computing, so a mismatch says which op and which shapes, instead of NumPy's
    "operands could not be broadcast together".
    """
    out = shapes[0]
    for k, shape in enumerate(shapes[1:], start=1):
        if shape == out:
            continue
        ndim = max(len(out), len(shape))
        a, b = (1,) * (ndim - len(out)) + tuple(out), (1,) * (ndim - len(shape)) + tuple(shape)
        for dim in reversed(range(ndim)):
            if a[dim] != b[dim] and a[dim] != 1 and b[dim] != 1:
                first, second = ("a", "b") if k == 1 else (f"{'abcdefgh'[:k]} broadcast", f"{'abcdefgh'[k]}")
                raise RuntimeError(
                    f"{op}: The size of tensor {first} ({a[dim]}) must match the size of tensor {second} "
                    f"({b[dim]}) at non-singleton dimension {dim}; the shapes "
                    f"{' and '.join(str(tuple(s)) for s in shapes)} do not broadcast. Sizes must be equal or 1 "
                    "when lined up from the right."
                )
        out = tuple(max(i, j) if min(i, j) != 0 else 0 for i, j in zip(a, b, strict=True))
    return tuple(out)


def unbroadcast(dx: Any, shape: tuple[int, ...]) -> Any:
    """Sum a gradient back to the shape of an input that broadcasting stretched.

    Broadcasting copies x along new leading axes and along its axes of size 1. In backward every
    copy sends its gradient to the same element of x, so those axes are summed:

        x: (3, 1)  +  y: (4,)   ->  z: (3, 4)
        dx = dz.sum(axis=1, keepdims=True)     # (3, 1): the stretched axis
        dy = dz.sum(axis=0)                    # (4,):   the new leading axis
    """
    if dx.shape == shape:
        return dx
    new_axes = dx.ndim - len(shape)
    stretched = tuple(new_axes + i for i, n in enumerate(shape) if n == 1 and dx.shape[new_axes + i] != 1)
    dx = dx.sum(axis=tuple(range(new_axes)) + stretched, keepdims=True)
    return dx.reshape(shape)


def _wanted(ctx: Function, i: int) -> bool:
    """Does input i need a gradient? (A plain number or a constant array never does.)"""
    return ctx.needs_input_grad[i] if ctx.needs_input_grad else True


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------


class Add(Function):
    """z = x + y            dx = dz,   dy = dz        (each unbroadcast to its input's shape)"""

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("add", x.shape, y.shape)
        ctx.shapes = (x.shape, y.shape)
        return x + y

    @staticmethod
    def backward(ctx, dz):
        x_shape, y_shape = ctx.shapes
        return unbroadcast(dz, x_shape), unbroadcast(dz, y_shape)


class Sub(Function):
    """z = x − y            dx = dz,   dy = −dz"""

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("sub", x.shape, y.shape)
        ctx.shapes = (x.shape, y.shape)
        return x - y

    @staticmethod
    def backward(ctx, dz):
        x_shape, y_shape = ctx.shapes
        dy = unbroadcast(-dz, y_shape) if _wanted(ctx, 1) else None
        return unbroadcast(dz, x_shape), dy


class Mul(Function):
    """z = x · y            dx = dz · y,   dy = dz · x"""

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("mul", x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        dx = unbroadcast(dz * y, x.shape) if _wanted(ctx, 0) else None
        dy = unbroadcast(dz * x, y.shape) if _wanted(ctx, 1) else None
        return dx, dy


class Div(Function):
    """z = x / y            dx = dz / y,   dy = −dz · x / y²  (computed as −dz · ((x / y) / y))

    Like PyTorch it saves the inputs, not z: code that changes z in place afterwards (d2l's masked softmax
    writes −1e6 into the scores it just divided by √d) still gets its gradient.

    dy divides by y twice instead of once by y², as PyTorch does: in float32, y = 1e−30 has y² = 0
    (underflow; 0 / 0 = nan where the answer is 0 for x = 0) and y = 1e30 has y² = inf (x / inf = 0
    where the answer is 3.4e−22 for x = 3.4e38), while (x / y) / y stays finite whenever the answer is.
    """

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("div", x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return x / y  # x/0 is ±inf (0/0 nan), as in PyTorch

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        dx = unbroadcast(dz / y, x.shape) if _wanted(ctx, 0) else None
        dy = unbroadcast(-dz * (x / y / y), y.shape) if _wanted(ctx, 1) else None
        return dx, dy


class Pow(Function):
    """z = x ** y           dx = dz · y · x^(y−1),   dy = dz · z · ln x

    At the edges, PyTorch's conventions (a learner comparing gradients sees the same numbers):
    - y = 0: z = 1 for every x, so dx = 0 (even at 0**0, where y · x^(y−1) would be 0 · inf);
    - x = 0 and y ≥ 0: dy = 0 (z = 0 or 1 does not change as y moves, from the side x ≥ 0);
      x = 0 and y < 0: dy = z · ln 0 = inf · (−inf) = −inf, and dx = y · 0^(y−1) = ∓inf;
    - x < 0: ln x is nan, so dy = nan (x^y is real only at integer y: no derivative along y).
    """

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("pow", x.shape, y.shape)
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, y, z = ctx.saved_tensors
        xp = xp_of(dz)
        dx = dy = None
        if _wanted(ctx, 0):
            dx = unbroadcast(xp.where(y == 0, 0, dz * y * x ** (y - 1)).astype(dz.dtype, copy=False), x.shape)
        if _wanted(ctx, 1):
            dlog = xp.where((x == 0) & (y >= 0), 0, dz * z * xp.log(x))
            dy = unbroadcast(dlog.astype(dz.dtype, copy=False), y.shape)
        return dx, dy


class PowScalar(Function):
    """y = x ** p  (p a number)      dx = dy · p · x^(p−1),   dx = 0 when p = 0 (y = 1 everywhere)"""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return x**p

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return xp_of(dy).zeros_like(dy), None
        return dy * p * x ** (p - 1), None


class Neg(Function):
    """y = −x               dx = −dy"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, dy):
        return -dy


# ---------------------------------------------------------------------------------------------
# Exponentials, roots, trigonometry
# ---------------------------------------------------------------------------------------------


class Exp(Function):
    """y = eˣ                dx = dy · eˣ = dy · y"""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).exp(x)  # e^1000 is inf, as in PyTorch
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * y


class Log(Function):
    """y = ln x              dx = dy / x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).log(x)  # ln 0 = −inf, ln(−1) = nan, as in PyTorch

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / x


class Sqrt(Function):
    """y = √x                dx = dy / (2√x) = dy / (2y)"""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).sqrt(x)  # √(−1) = nan, as in PyTorch
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy / (2 * y)


class Abs(Function):
    """y = |x|               dx = dy · sign(x)        (sign(0) = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).abs(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * xp_of(x).sign(x)


class Sin(Function):
    """y = sin x             dx = dy · cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).sin(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * xp_of(x).cos(x)


class Cos(Function):
    """y = cos x             dx = −dy · sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).cos(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return -dy * xp_of(x).sin(x)


# ---------------------------------------------------------------------------------------------
# Clamping and elementwise max / min
# ---------------------------------------------------------------------------------------------


class Clamp(Function):
    """y = min(max(x, lo), hi)       dx = dy · [lo ≤ x ≤ hi]     (lo or hi may be None)"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = xp_of(x)
        inside = xp.ones(x.shape, dtype=bool)
        y = x
        if lo is not None:
            inside &= x >= lo
            y = xp.maximum(y, lo)
        if hi is not None:
            inside &= x <= hi
            y = xp.minimum(y, hi)
        ctx.save_for_backward(inside)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        (inside,) = ctx.saved_tensors
        return dy * inside, None, None


class Maximum(Function):
    """z = max(x, y)         dx = dz · ([x > y] + ½[x = y]),   dy = dz · ([y > x] + ½[x = y])

    At a tie the gradient is shared half and half, as PyTorch does.
    """

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("maximum", x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return xp_of(x).maximum(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        x_share = (x > y) + dz.dtype.type(0.5) * (x == y)  # in dz's dtype: no float64 temporaries
        dx = unbroadcast(dz * x_share, x.shape) if _wanted(ctx, 0) else None
        dy = unbroadcast(dz * (1 - x_share), y.shape) if _wanted(ctx, 1) else None
        return dx, dy


class Minimum(Function):
    """z = min(x, y)         dx = dz · ([x < y] + ½[x = y]),   dy = dz · ([y < x] + ½[x = y])"""

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("minimum", x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return xp_of(x).minimum(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        x_share = (x < y) + dz.dtype.type(0.5) * (x == y)
        dx = unbroadcast(dz * x_share, x.shape) if _wanted(ctx, 0) else None
        dy = unbroadcast(dz * (1 - x_share), y.shape) if _wanted(ctx, 1) else None
        return dx, dy

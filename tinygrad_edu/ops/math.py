"""More elementwise math: trigonometry and its inverses, hyperbolic functions, erf, logs and exponentials
in other bases, reciprocals, rounding, and the two-argument atan2, fmod, remainder and logaddexp.

Each op reads ``y = f(x)``, ``dx = dy · f'(x)`` as in elementwise.py. ``log1p`` and ``expm1`` get their
own forward because ``log(1 + x)`` loses every digit of a tiny x (1 + 1e−10 rounds to 1 in float32).
Rounding is flat almost everywhere, so its gradient is 0 (PyTorch's choice at the jumps as well).
"""

from __future__ import annotations

import math

from ..autograd import Function
from ..device import xp_of
from .activation import _erf
from .elementwise import _wanted, broadcast_shape, unbroadcast

# ---------------------------------------------------------------------------------------------
# Trigonometry and hyperbolic functions
# ---------------------------------------------------------------------------------------------


class Tan(Function):
    """y = tan x             dx = dy · (1 + tan² x) = dy · (1 + y²)"""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (1 + y * y)


class Asin(Function):
    """y = arcsin x          dx = dy / √(1 − x²)       (x in [−1, 1]; nan outside, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arcsin(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / xp_of(x).sqrt(1 - x * x)


class Acos(Function):
    """y = arccos x          dx = −dy / √(1 − x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arccos(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return -dy / xp_of(x).sqrt(1 - x * x)


class Atan(Function):
    """y = arctan x          dx = dy / (1 + x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arctan(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (1 + x * x)


class Sinh(Function):
    """y = sinh x = (eˣ − e⁻ˣ)/2          dx = dy · cosh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).sinh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * xp_of(x).cosh(x)


class Cosh(Function):
    """y = cosh x = (eˣ + e⁻ˣ)/2          dx = dy · sinh x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).cosh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * xp_of(x).sinh(x)


class Asinh(Function):
    """y = arsinh x = ln(x + √(x² + 1))     dx = dy / √(x² + 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arcsinh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / xp_of(x).sqrt(x * x + 1)


class Acosh(Function):
    """y = arcosh x = ln(x + √(x² − 1))  (x ≥ 1)     dx = dy / √(x² − 1)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arccosh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / xp_of(x).sqrt(x * x - 1)


class Atanh(Function):
    """y = artanh x = ½ ln((1 + x)/(1 − x))  (|x| < 1)     dx = dy / (1 − x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arctanh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (1 - x * x)


class Erf(Function):
    """y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt          dx = dy · (2/√π) e^(−x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * (2 / math.sqrt(math.pi)) * xp_of(x).exp(-x * x)


# ---------------------------------------------------------------------------------------------
# Logarithms, exponentials and reciprocals
# ---------------------------------------------------------------------------------------------


class LogBase(Function):
    """y = log_b x = ln x / ln b   (b = 2 for log2, 10 for log10)        dx = dy / (x ln b)"""

    @staticmethod
    def forward(ctx, x, base):
        ctx.save_for_backward(x)
        ctx.ln_b = math.log(base)
        xp = xp_of(x)
        return xp.log2(x) if base == 2 else xp.log10(x) if base == 10 else xp.log(x) / ctx.ln_b

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (x * ctx.ln_b), None


class Log1p(Function):
    """y = ln(1 + x), exact for tiny x         dx = dy / (1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).log1p(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (1 + x)


class Expm1(Function):
    """y = eˣ − 1, exact for tiny x            dx = dy · eˣ = dy · (y + 1)"""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (y + 1)


class Exp2(Function):
    """y = 2ˣ                dx = dy · 2ˣ ln 2 = dy · y ln 2"""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * y * math.log(2)


class Reciprocal(Function):
    """y = 1/x               dx = −dy / x² = −dy · y²"""

    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return -dy * y * y


class Rsqrt(Function):
    """y = 1/√x              dx = −dy / (2 x^{3/2}) = −dy · y³ / 2"""

    @staticmethod
    def forward(ctx, x):
        y = 1 / xp_of(x).sqrt(x)
        ctx.save_for_backward(y)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return -0.5 * dy * y * y * y


# ---------------------------------------------------------------------------------------------
# Rounding: flat between the jumps, so the gradient is zero
# ---------------------------------------------------------------------------------------------


class Round(Function):
    """y = floor / ceil / trunc / round / sign of x      dx = 0  (the function is flat almost everywhere)

    ``how`` names the NumPy function: "floor", "ceil", "trunc", "rint" (round half to even, as
    PyTorch's round) or "sign". ``decimals`` rounds to that many digits (rint only).
    """

    @staticmethod
    def forward(ctx, x, how, decimals=0):
        xp = xp_of(x)
        if how == "rint" and decimals:
            return xp.round(x, decimals)
        return getattr(xp, how)(x)

    @staticmethod
    def backward(ctx, dy):
        return xp_of(dy).zeros_like(dy), None, None


# ---------------------------------------------------------------------------------------------
# Two arguments
# ---------------------------------------------------------------------------------------------


class Atan2(Function):
    """z = atan2(y, x), the angle of the point (x, y)

        dy_in = dz · x / (x² + y²),    dx_in = −dz · y / (x² + y²)

    (The first argument is y, as in PyTorch's ``torch.atan2(input=y, other=x)``.)
    """

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return xp_of(y).arctan2(y, x)

    @staticmethod
    def backward(ctx, dz):
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        d_y = unbroadcast(dz * x / r2, y.shape) if _wanted(ctx, 0) else None
        d_x = unbroadcast(-dz * y / r2, x.shape) if _wanted(ctx, 1) else None
        return d_y, d_x


class Fmod(Function):
    """z = x − trunc(x / y) · y  (C's fmod: the sign of x)        dx = dz,   dy = −dz · trunc(x / y)

    ``floor=True`` is Python's % (``remainder``: the sign of y): z = x − floor(x / y) · y, dy = −dz · floor(x / y).
    There floor(x / y) is taken as Python's x // y (see FloorDivide), not from the rounded quotient.
    """

    @staticmethod
    def forward(ctx, x, y, floor):
        xp = xp_of(x)
        ctx.save_for_backward(x, y)
        ctx.floor = floor
        return xp.remainder(x, y) if floor else xp.fmod(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        xp = xp_of(dz)
        q = xp.floor_divide(x, y) if ctx.floor else xp.trunc(x / y)
        dx = unbroadcast(dz, x.shape) if _wanted(ctx, 0) else None
        dy = unbroadcast(-dz * q, y.shape) if _wanted(ctx, 1) else None
        return dx, dy, None


class FloorDivide(Function):
    """z = ⌊x / y⌋, Python's x // y         dx = dy = 0  (z is flat between its jumps)

    Computed as NumPy's (and PyTorch's) floor division: from m = fmod(x, y), z = (x − m) / y, one
    lower where m and y differ in sign, not as floor of the rounded quotient x / y. Where x / y
    underflows, floor(x / y) is wrong: 1e−45 / −1e30 rounds to −0, so floor gives −0, but
    −1e−75 lies between −1 and 0 and ⌊−1e−75⌋ = −1, which is what Python's 1e−45 // −1e30 gives.
    """

    @staticmethod
    def forward(ctx, x, y):
        broadcast_shape("floor_divide", x.shape, y.shape)
        ctx.x_shape, ctx.y_shape = x.shape, y.shape
        return xp_of(x).floor_divide(x, y)

    @staticmethod
    def backward(ctx, dz):
        xp = xp_of(dz)
        dx = xp.zeros(ctx.x_shape, dtype=dz.dtype) if _wanted(ctx, 0) else None
        dy = xp.zeros(ctx.y_shape, dtype=dz.dtype) if _wanted(ctx, 1) else None
        return dx, dy


class LogAddExp(Function):
    """z = ln(eˣ + eʸ) = m + ln(e^(x−m) + e^(y−m)), m = max(x, y)  (never overflows)

    dx = dz · eˣ / (eˣ + eʸ) = dz · e^(x−z),    dy = dz · e^(y−z)
    """

    @staticmethod
    def forward(ctx, x, y):
        z = xp_of(x).logaddexp(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, y, z = ctx.saved_tensors
        xp = xp_of(dz)
        dx = unbroadcast(dz * xp.exp(x - z), x.shape) if _wanted(ctx, 0) else None
        dy = unbroadcast(dz * xp.exp(y - z), y.shape) if _wanted(ctx, 1) else None
        return dx, dy

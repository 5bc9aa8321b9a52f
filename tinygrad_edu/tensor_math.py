"""The Tensor's further elementwise math: trigonometry, hyperbolic functions, erf, logs and exponentials,
rounding, fmod / remainder (%) / floor division (//), atan2, lerp, logaddexp, and the value tests
isnan / isinf / isfinite / isclose.

Each method tidies its arguments (integer inputs of a float function become the default float
dtype, as in PyTorch) and calls one op from ops/math.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import array_module
from .ops import gamma as G
from .ops import math as M


def _operands(x: Any, y: Any) -> tuple[Any, Any]:
    from .tensor_ops import operands

    return operands(x, y)


def _float_operands(x: Any, y: Any) -> tuple[Any, Any]:
    from .tensor_ops import _float_operands

    return _float_operands(x, y)


def _array(v: Any) -> Any:
    return getattr(v, "array", v)


class TensorMath:
    """Elementwise math beyond + − · / (mixed into Tensor)."""

    # ---- trigonometry and hyperbolic functions -------------------------------------------------

    def tan(self) -> Any:
        """tan x (ops.math.Tan)."""
        return M.Tan.apply(self._floating())

    def asin(self) -> Any:
        """arcsin x (ops.math.Asin)."""
        return M.Asin.apply(self._floating())

    def acos(self) -> Any:
        """arccos x (ops.math.Acos)."""
        return M.Acos.apply(self._floating())

    def atan(self) -> Any:
        """arctan x (ops.math.Atan)."""
        return M.Atan.apply(self._floating())

    def sinh(self) -> Any:
        """sinh x (ops.math.Sinh)."""
        return M.Sinh.apply(self._floating())

    def cosh(self) -> Any:
        """cosh x (ops.math.Cosh)."""
        return M.Cosh.apply(self._floating())

    def asinh(self) -> Any:
        """arsinh x (ops.math.Asinh)."""
        return M.Asinh.apply(self._floating())

    def acosh(self) -> Any:
        """arcosh x (ops.math.Acosh)."""
        return M.Acosh.apply(self._floating())

    def atanh(self) -> Any:
        """artanh x (ops.math.Atanh)."""
        return M.Atanh.apply(self._floating())

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def atan2(self, other: Any) -> Any:
        """The angle of the point (x = other, y = self), in (−π, π] (ops.math.Atan2)."""
        return M.Atan2.apply(*_float_operands(self, other))

    arctan2 = atan2

    def erf(self) -> Any:
        """The error function (ops.math.Erf)."""
        return M.Erf.apply(self._floating())

    def lgamma(self) -> Any:
        """The log-gamma function ln |Γ(x)| (ln n! at x = n + 1) (ops.gamma.LGamma)."""
        return G.LGamma.apply(self._floating())

    def digamma(self) -> Any:
        """ψ(x) = (ln Γ)′(x) (ops.gamma.Digamma)."""
        return G.Digamma.apply(self._floating())

    # ---- logarithms, exponentials, reciprocals ----------------------------------------------

    def log2(self) -> Any:
        """log₂ x (ops.math.LogBase)."""
        return M.LogBase.apply(self._floating(), 2)

    def log10(self) -> Any:
        """log₁₀ x (ops.math.LogBase)."""
        return M.LogBase.apply(self._floating(), 10)

    def log1p(self) -> Any:
        """ln(1 + x), exact for tiny x (ops.math.Log1p)."""
        return M.Log1p.apply(self._floating())

    def expm1(self) -> Any:
        """eˣ − 1, exact for tiny x (ops.math.Expm1)."""
        return M.Expm1.apply(self._floating())

    def exp2(self) -> Any:
        """2ˣ (ops.math.Exp2)."""
        return M.Exp2.apply(self._floating())

    def reciprocal(self) -> Any:
        """1/x (ops.math.Reciprocal)."""
        return M.Reciprocal.apply(self._floating())

    def rsqrt(self) -> Any:
        """1/√x (ops.math.Rsqrt)."""
        return M.Rsqrt.apply(self._floating())

    def logaddexp(self, other: Any) -> Any:
        """ln(eˣ + eʸ) without overflow (ops.math.LogAddExp)."""
        return M.LogAddExp.apply(*_float_operands(self, other))

    def lerp(self, end: Any, weight: Any) -> Any:
        """x + weight · (end − x): the point a fraction ``weight`` of the way to ``end`` (composed)."""
        return self + weight * (end - self)

    def copysign(self, other: Any) -> Any:
        """|x| with the sign of ``other`` (its sign bit, so −0.0 counts as negative), composed as |x| · s.

        dx = dy · sign(x) · s (0 at x = 0, as PyTorch); ``other`` gets no gradient (s is piecewise constant).
        """
        from .tensor import Tensor

        y = other.array if isinstance(other, Tensor) else np.asarray(other)
        x = self if self.dtype.kind in "fc" else self.to(np.float32)
        xp = array_module(x.device)
        s = xp.where(xp.signbit(xp.asarray(y)), -1.0, 1.0).astype(x.dtype)
        return x.abs() * Tensor._wrap(s)

    # ---- rounding ----------------------------------------------------------------------------

    def _rounded(self, how: str, decimals: int = 0) -> Any:
        if self.dtype.kind not in "fc":  # rounding an integer tensor changes nothing
            return self._wrap(array_module(self.device).sign(self.array)) if how == "sign" else self.clone()
        return M.Round.apply(self, how, decimals)

    def floor(self) -> Any:
        """The largest integer ≤ x; gradient 0 (ops.math.Round)."""
        return self._rounded("floor")

    def ceil(self) -> Any:
        """The smallest integer ≥ x; gradient 0."""
        return self._rounded("ceil")

    def trunc(self) -> Any:
        """x with its fractional part dropped (rounds toward 0); gradient 0."""
        return self._rounded("trunc")

    fix = trunc

    def round(self, decimals: int = 0) -> Any:
        """The nearest integer, halves to even (2.5 → 2) as PyTorch; ``decimals`` digits after the point."""
        return self._rounded("rint", decimals)

    def sign(self) -> Any:
        """−1, 0 or 1; gradient 0."""
        if self.dtype == np.bool_:
            return self.clone()
        return self._rounded("sign")

    def sgn(self) -> Any:
        """The sign (PyTorch's name for the complex-aware sign)."""
        return self.sign()

    def frac(self) -> Any:
        """x − trunc(x), the fractional part (with x's sign); dx = dy."""
        return self - self.trunc()

    # ---- remainders and floor division -------------------------------------------------------

    def fmod(self, other: Any) -> Any:
        """x − trunc(x / y) · y, with the sign of x (C's fmod) (ops.math.Fmod)."""
        x, y = _operands(self, other)
        if x.dtype.kind not in "fc":
            return self._int_division(y, "fmod")
        return M.Fmod.apply(x, y, False)

    def remainder(self, other: Any) -> Any:
        """x − floor(x / y) · y, with the sign of y (Python's %) (ops.math.Fmod)."""
        x, y = _operands(self, other)
        if x.dtype.kind not in "fc":
            return self._int_division(y, "remainder")
        return M.Fmod.apply(x, y, True)

    def __mod__(self, other: Any) -> Any:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Any:
        x, y = _operands(other, self)
        return x.remainder(y) if hasattr(x, "remainder") else self._wrap(x).remainder(y)

    def _int_division(self, other: Any, how: str) -> Any:
        """Integer // and % (no gradient): division by zero is an error, as in PyTorch."""
        x, y = _operands(self, other)
        xp = array_module(self.device)
        if bool((_array(y) == 0).any()):
            raise RuntimeError("ZeroDivisionError: integer division or modulo by zero")
        a, b = _array(x), _array(y)
        if how == "trunc_divide":  # rounds toward 0: sign(a)·sign(b)·(|a| // |b|), exact for any int64
            return self._wrap((xp.sign(a) * xp.sign(b) * (xp.abs(a) // xp.abs(b))).astype(xp.result_type(a, b)))
        return self._wrap(getattr(xp, how)(a, b))

    def floor_divide(self, other: Any) -> Any:
        """floor(x / y), rounding toward −∞ as Python's // (gradient 0) (ops.math.FloorDivide)."""
        x, y = _operands(self, other)
        if x.dtype.kind not in "fc":
            return self._int_division(y, "floor_divide")
        return M.FloorDivide.apply(x, y)

    def __floordiv__(self, other: Any) -> Any:
        return self.floor_divide(other)

    def __rfloordiv__(self, other: Any) -> Any:
        x, y = _operands(other, self)
        return (x if hasattr(x, "floor_divide") else self._wrap(x)).floor_divide(y)

    # ---- tests of the values (bool tensors, no gradient) ------------------------------------

    def isnan(self) -> Any:
        """True where x is NaN."""
        return self._wrap(array_module(self.device).isnan(self.array))

    def isinf(self) -> Any:
        """True where x is +inf or −inf."""
        return self._wrap(array_module(self.device).isinf(self.array))

    def isposinf(self) -> Any:
        """True where x is +inf."""
        return self._wrap(array_module(self.device).isposinf(self.array))

    def isneginf(self) -> Any:
        """True where x is −inf."""
        return self._wrap(array_module(self.device).isneginf(self.array))

    def isfinite(self) -> Any:
        """True where x is neither inf nor NaN."""
        return self._wrap(array_module(self.device).isfinite(self.array))

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
        """True where |x − y| ≤ atol + rtol · |y| (PyTorch's and NumPy's rule)."""
        x, y = _operands(self, other)
        xp = array_module(self.device)
        return self._wrap(xp.isclose(_array(x), _array(y), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """True if isclose holds everywhere (a Python bool)."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Any:
        """NaN → ``nan``, ±inf → the largest/smallest finite value (or the numbers given); dx = dy where finite."""
        from .tensor_shape import where

        xp = array_module(self.device)
        info = np.finfo(self.dtype) if self.dtype.kind == "f" else None
        if info is None:
            return self.clone()
        hi = info.max if posinf is None else posinf
        lo = info.min if neginf is None else neginf
        out = where(self.isnan(), nan, self)
        out = where(self._wrap(xp.isposinf(self.array)), hi, out)
        return where(self._wrap(xp.isneginf(self.array)), lo, out)

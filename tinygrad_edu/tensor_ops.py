"""The Tensor's math methods: operators, elementwise functions, reductions and matmul.

Each method checks and tidies its arguments, then calls one op from ops/ (``Exp.apply(self)``),
where forward and backward sit side by side. Shape methods (reshape, indexing, cat...) are in
tensor_shape.py. ``tge.exp(x)`` and friends are these same methods used as functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .device import array_module
from .dtypes import as_array
from .keywords import numpy_keywords
from .ops import activation as A
from .ops import elementwise as E
from .ops import reduce as R
from .ops.matmul import MatMul
from .ops.movement import Gather
from .tensor_bitwise import TensorBitwise
from .tensor_index import TensorIndex
from .tensor_layout import TensorLayout
from .tensor_linalg import TensorLinalg
from .tensor_math import TensorMath
from .tensor_reduce import TensorReduce
from .tensor_shape import TensorShape


def constant(value: Any, like: Any) -> Any:
    """A number, list or array on the other side of a binary op, as a constant array beside ``like``.

    Numbers take the tensor's dtype (x · 2.0 stays float32), as in PyTorch.
    """
    xp = array_module(like.device)
    if isinstance(value, bool | int | float) and not isinstance(value, np.generic):
        if like.dtype.kind in "fc" or isinstance(value, bool):
            return xp.asarray(value, dtype=like.dtype)
        return xp.asarray(value, dtype=np.int64 if like.dtype == bool else like.dtype)
    return as_array(value, device=like.device)


def operands(x: Any, y: Any) -> tuple[Any, Any]:
    """Make the two sides of a binary op fit: Tensors pass, anything else becomes a constant array.

    Mixed kinds follow PyTorch, not NumPy: an integer or bool side takes the floating side's dtype,
    so int64 labels times float32 weights stay float32 (NumPy alone would give float64).
    """
    if not (isinstance(x, TensorOps) and isinstance(y, TensorOps)):
        swap = not isinstance(x, TensorOps)
        t, other = (y, x) if swap else (x, y)
        if isinstance(other, float) and t.dtype.kind not in "fc":
            t = t.float()  # an int tensor times 0.5 is float32, as in PyTorch
        c = constant(other, t)
        x, y = (c, t) if swap else (t, c)
    x_float, y_float = x.dtype.kind in "fc", y.dtype.kind in "fc"
    if x_float and not y_float:
        y = _cast(y, x.dtype)
    elif y_float and not x_float:
        x = _cast(x, y.dtype)
    return x, y


def _cast(v: Any, dtype: Any) -> Any:
    return v.to(dtype) if isinstance(v, TensorOps) else v.astype(dtype)


def _float_operands(x: Any, y: Any) -> tuple[Any, Any]:
    """True division of two integer sides is float32 (7 / 2 = 3.5), as in PyTorch."""
    x, y = operands(x, y)
    if x.dtype.kind not in "fc" and y.dtype.kind not in "fc":
        x, y = _cast(x, np.float32), _cast(y, np.float32)
    return x, y


def _single_axis(dim: Any, ndim: int, op: str) -> int | None:
    """The one axis that max(dim) / argmax / softmax work along (None for a 0-d tensor)."""
    if isinstance(dim, tuple | list):
        raise TypeError(
            f"{op}: dim must be a single int, got {dim!r}; to reduce over several dims use amax / amin / logsumexp"
        )
    axes = R.normalize_dims(dim, ndim, op)
    return axes[0] if axes else None


def _array(v: Any) -> Any:
    return v.array if isinstance(v, TensorOps) else v


class TensorOps(TensorMath, TensorBitwise, TensorReduce, TensorLayout, TensorIndex, TensorLinalg, TensorShape):
    """Arithmetic, elementwise math, reductions and matmul (mixed into Tensor).

    The further families come from the mixins: tensor_math.py (trigonometry, rounding, % and //...),
    tensor_bitwise.py (& | ^ ~ << >>, eq/ne/...), tensor_reduce.py (prod, cumsum, sort, topk...),
    tensor_layout.py (flip, repeat, tril, diagonal, unfold...), tensor_index.py (scatter, index_select...)
    and tensor_linalg.py (mm, bmm, dot, outer, norm).
    """

    # ---- operators: + − · / ** @ and comparisons --------------------------------------------

    def __add__(self, other: Any) -> Any:
        return E.Add.apply(*operands(self, other))

    def __radd__(self, other: Any) -> Any:
        return E.Add.apply(*operands(other, self))

    def __sub__(self, other: Any) -> Any:
        return E.Sub.apply(*operands(self, other))

    def __rsub__(self, other: Any) -> Any:
        return E.Sub.apply(*operands(other, self))

    def __mul__(self, other: Any) -> Any:
        return E.Mul.apply(*operands(self, other))

    def __rmul__(self, other: Any) -> Any:
        return E.Mul.apply(*operands(other, self))

    def __truediv__(self, other: Any) -> Any:
        return E.Div.apply(*_float_operands(self, other))

    def __rtruediv__(self, other: Any) -> Any:
        return E.Div.apply(*_float_operands(other, self))

    def __pow__(self, exponent: Any) -> Any:
        if isinstance(exponent, int | float) and not isinstance(exponent, bool):
            as_float = isinstance(exponent, float) and self.dtype.kind not in "fc"  # int ** 0.5 is float32
            return E.PowScalar.apply(self.float() if as_float else self, exponent)
        return E.Pow.apply(*operands(self, exponent))

    def __rpow__(self, base: Any) -> Any:
        return E.Pow.apply(*operands(base, self))

    def __matmul__(self, other: Any) -> Any:
        return MatMul.apply(*operands(self, other))

    def __rmatmul__(self, other: Any) -> Any:
        return MatMul.apply(*operands(other, self))

    def __neg__(self) -> Any:
        return E.Neg.apply(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return self.abs()

    def _compare(self, other: Any, fn: str) -> Any:
        """An elementwise comparison: a bool tensor, outside the graph (it has no gradient)."""
        x, y = operands(self, other)
        E.broadcast_shape(fn, x.shape, y.shape)
        return self._wrap(getattr(array_module(self.device), fn)(_array(x), _array(y)))

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        if other is None:  # `x.grad == None` is plain False, as in PyTorch
            return False
        return self._compare(other, "equal")

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        if other is None:
            return True
        return self._compare(other, "not_equal")

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, "less")

    def __le__(self, other: Any) -> Any:
        return self._compare(other, "less_equal")

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, "greater")

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, "greater_equal")

    # ---- elementwise functions ---------------------------------------------------------------

    def _floating(self) -> Any:
        """Self, or a float32 copy of an integer/bool tensor: exp, sigmoid, softmax... of ints are float32."""
        return self if self.dtype.kind in "fc" else self.float()

    def exp(self) -> Any:
        """eˣ (ops.elementwise.Exp)."""
        return E.Exp.apply(self._floating())

    def log(self) -> Any:
        """ln x (ops.elementwise.Log)."""
        return E.Log.apply(self._floating())

    def sqrt(self) -> Any:
        """√x (ops.elementwise.Sqrt)."""
        return E.Sqrt.apply(self._floating())

    def abs(self) -> Any:
        """|x| (ops.elementwise.Abs)."""
        return E.Abs.apply(self)

    def sin(self) -> Any:
        """sin x (ops.elementwise.Sin)."""
        return E.Sin.apply(self._floating())

    def cos(self) -> Any:
        """cos x (ops.elementwise.Cos)."""
        return E.Cos.apply(self._floating())

    def tanh(self) -> Any:
        """tanh x (ops.activation.Tanh)."""
        return A.Tanh.apply(self._floating())

    def sigmoid(self) -> Any:
        """1 / (1 + e^−x), computed without overflow (ops.activation.Sigmoid)."""
        return A.Sigmoid.apply(self._floating())

    def relu(self) -> Any:
        """max(x, 0) (ops.activation.ReLU)."""
        return A.ReLU.apply(self)

    def neg(self) -> Any:
        """−x."""
        return E.Neg.apply(self)

    def add(self, other: Any, alpha: float = 1) -> Any:
        """x + alpha · other (``torch.add``)."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: float = 1) -> Any:
        """x − alpha · other (``torch.sub``)."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Any:
        """x · other (``torch.mul``)."""
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        """x / other (``torch.div``); ``rounding_mode="trunc"`` rounds toward 0, ``"floor"`` toward −∞ (as //)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self.floor_divide(other)
        if rounding_mode == "trunc":
            x, y = operands(self, other)
            if x.dtype.kind not in "fc":
                return self._int_division(y, "trunc_divide")
            return (x / y).trunc()
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}"
        )

    divide, true_divide, multiply, subtract = div, div, mul, sub

    def square(self) -> Any:
        """x² (a PowScalar)."""
        return self**2

    def pow(self, exponent: Any) -> Any:
        """x ** exponent (a number or a tensor)."""
        return self**exponent

    def clamp(self, min: float | None = None, max: float | None = None) -> Any:
        """Limit to [min, max] (either may be None); the gradient passes only inside (ops.elementwise.Clamp)."""
        if min is None and max is None:
            raise ValueError("clamp: give min, max or both")
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Any:
        """Elementwise max(x, y), ties sharing the gradient (ops.elementwise.Maximum)."""
        return E.Maximum.apply(*operands(self, other))

    def minimum(self, other: Any) -> Any:
        """Elementwise min(x, y) (ops.elementwise.Minimum)."""
        return E.Minimum.apply(*operands(self, other))

    # ---- reductions --------------------------------------------------------------------------

    @numpy_keywords
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
        """Σ over ``dim`` (an int, a tuple, or None for every dim) (ops.reduce.Sum).

        Integer and bool tensors sum to int64, as in PyTorch; ``dtype=`` casts first.
        """
        return R.Sum.apply(self._counting(dtype), R.normalize_dims(dim, self.ndim, "sum"), keepdim)

    @numpy_keywords
    def mean(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Σx / n over ``dim``: a sum, then a division, so dx = dy / n."""
        axes = R.normalize_dims(dim, self.ndim, "mean")
        n = math.prod(self.shape[a] for a in axes)
        return self.sum(axes, keepdim) / n

    @numpy_keywords
    def var(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Any:
        """Σ(x − mean)² / (n − c) over ``dim``, c = 1 (Bessel's correction) unless unbiased=False (ops.reduce.Var).

        ``correction=c`` sets c directly, as in PyTorch; n − c ≤ 0 gives inf (nan for a constant slice).
        """
        c = R.correction_of(unbiased, correction, "var")
        return R.Var.apply(self._floating(), R.normalize_dims(dim, self.ndim, "var"), c, keepdim)

    @numpy_keywords
    def std(self, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Any:
        """√var, computed so that it is finite whenever it fits (ops.reduce.Std)."""
        c = R.correction_of(unbiased, correction, "std")
        return R.Std.apply(self._floating(), R.normalize_dims(dim, self.ndim, "std"), c, keepdim)

    @numpy_keywords
    def amax(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Max over ``dim``; tied maxima share the gradient (ops.reduce.Amax)."""
        if self.dtype.kind not in "fc":  # integers and bools: no gradient, no shares to compute
            axes = R.normalize_dims(dim, self.ndim, "amax")
            return self._wrap(self.array.max(axis=axes, keepdims=keepdim))
        return R.Amax.apply(self, R.normalize_dims(dim, self.ndim, "amax"), keepdim)

    @numpy_keywords
    def amin(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Min over ``dim``: −amax(−x) for floats; integers and bools directly (−x would overflow at the minimum)."""
        if self.dtype.kind not in "fc":
            axes = R.normalize_dims(dim, self.ndim, "amin")
            return self._wrap(self.array.min(axis=axes, keepdims=keepdim))
        return -(-self).amax(dim, keepdim)

    @numpy_keywords
    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """No dim: the largest element (0-d). With dim: ``(values, indices)``, as in PyTorch.

        ``x.max(other_tensor)`` is the elementwise maximum.
        """
        if isinstance(dim, TensorOps):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        axis = _single_axis(dim, self.ndim, "max")
        if self.ndim == 0:  # a 0-d tensor is its own maximum, at index 0 (as in PyTorch)
            return R.MaxResult(self.clone(), self.argmax(dim))
        indices = self.argmax(axis, keepdim=True)
        values = Gather.apply(self, axis, indices.array)
        if not keepdim and self.ndim > 0:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return R.MaxResult(values, indices)

    @numpy_keywords
    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Like max: the smallest element, or ``(values, indices)`` along ``dim``."""
        if isinstance(dim, TensorOps):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        axis = _single_axis(dim, self.ndim, "min")
        if self.ndim == 0:
            return R.MaxResult(self.clone(), self.argmin(dim))
        indices = self.argmin(axis, keepdim=True)
        values = Gather.apply(self, axis, indices.array)
        if not keepdim:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return R.MaxResult(values, indices)

    @numpy_keywords
    def logsumexp(self, dim: Any, keepdim: bool = False) -> Any:
        """log Σ eˣ over ``dim``, without overflow (ops.reduce.LogSumExp)."""
        return R.LogSumExp.apply(self._floating(), R.normalize_dims(dim, self.ndim, "logsumexp"), keepdim)

    @numpy_keywords
    def softmax(self, dim: int) -> Any:
        """e^xᵢ / Σⱼ e^xⱼ along ``dim`` (ops.reduce.Softmax)."""
        axis = _single_axis(dim, self.ndim, "softmax")
        return R.Softmax.apply(self._floating(), axis)

    @numpy_keywords
    def log_softmax(self, dim: int) -> Any:
        """xᵢ − log Σⱼ e^xⱼ along ``dim`` (ops.reduce.LogSoftmax)."""
        axis = _single_axis(dim, self.ndim, "log_softmax")
        return R.LogSoftmax.apply(self._floating(), axis)

    # ---- matrix product ----------------------------------------------------------------------

    def matmul(self, other: Any) -> Any:
        """x @ y with torch.matmul's rules for 1-D, 2-D and batched inputs (ops.matmul.MatMul)."""
        return self @ other

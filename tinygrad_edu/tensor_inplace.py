"""The Tensor's in-place updates: ``y += x``, ``y.relu_()``, ``x[mask] = v``, and what optimizers use.

``w -= lr * w.grad`` changes the numbers of ``w`` itself, so every layer and optimizer holding
``w`` sees the new values. Every in-place change bumps the tensor's version (tensor_version.py).

Two paths, as in PyTorch:

- **Nothing to record** (inside ``no_grad``, or no operand requires grad): the array is changed
  where it lies, with NumPy's in-place operators. This is how optimizers and nn.init work.
- **Recorded**: on a tensor computed by the graph (``total += loss``, ``y = conv(x); y += x``) the
  op is computed out of place by its ordinary Function, written into the tensor's storage, and the
  tensor takes the new node as its history (autograd_inplace.py explains this "rebasing"), so the
  gradients are PyTorch's. A leaf that requires grad (a weight) cannot be changed this way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .autograd_inplace import IndexPut, Overwrite, run_inplace
from .device import array_module
from .dtypes import as_array
from .random import generator

if TYPE_CHECKING:
    from .tensor import Tensor


class TensorInPlace:
    """add_, sub_, mul_, div_, +=, -=, *=, /=, copy_, zero_, fill_, clamp_, relu_, masked_fill_, x[i] = v, ..."""

    def _value(self, other: Any) -> Any:
        return other.array if isinstance(other, TensorInPlace) else as_array(other, device=self.device)

    def _check_operand(self, op: str, other: Any, true_division: bool = False, cast: bool = False) -> None:
        """The result must fit in self: same shape after broadcasting, and (unless ``cast``) a dtype self can hold."""
        shape = np.shape(other) if isinstance(other, list | tuple) else getattr(other, "shape", ())
        try:
            broadcast = np.broadcast_shapes(self.shape, tuple(shape))
        except ValueError:
            raise RuntimeError(f"{op}: shapes {self.shape} and {tuple(shape)} cannot be broadcast together") from None
        if broadcast != self.shape:
            raise RuntimeError(
                f"{op}: output with shape {list(self.shape)} doesn't match the broadcast shape {list(broadcast)}"
            )
        kind = other.dtype.kind if hasattr(other, "dtype") else ("f" if isinstance(other, float) else "i")
        if not cast and self.dtype.kind in "iub" and (kind in "fc" or true_division):
            raise RuntimeError(
                f"{op}: result type Float can't be cast to the desired output type {self.dtype}; "
                "convert the tensor first with .float()"
            )

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """self += alpha · other, in place."""
        self._check_operand("add_", other)

        def fast(a: Any) -> None:
            a += alpha * self._value(other) if alpha != 1 else self._value(other)

        return run_inplace(self, "add_", lambda t: t + other * alpha if alpha != 1 else t + other, fast, (other,))

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """self −= alpha · other, in place."""
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        self._check_operand("mul_", other)

        def fast(a: Any) -> None:
            a *= self._value(other)

        return run_inplace(self, "mul_", lambda t: t * other, fast, (other,))

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        self._check_operand("div_", other, true_division=True)

        def fast(a: Any) -> None:
            a /= self._value(other)

        return run_inplace(self, "div_", lambda t: t / other, fast, (other,))

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def copy_(self, src: Any) -> Tensor:
        """Overwrite the numbers with those of ``src`` (broadcast to this shape), in place."""
        from .tensor import Tensor

        if isinstance(src, Tensor) and src.device != self.device:
            src = src.to(self.device)  # copy_ moves between devices, as in PyTorch
        self._check_operand("copy_", src, cast=True)

        def fast(a: Any) -> None:
            a[...] = self._value(src)

        def compute(t: Tensor) -> Tensor:
            value = src if isinstance(src, Tensor) else as_array(src, dtype=t.dtype, device=t.device)
            return Overwrite.apply(t, value)

        return run_inplace(self, "copy_", compute, fast, (src,))

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` (a number, or a 0-d tensor), in place."""
        if not isinstance(value, TensorInPlace):
            value = array_module(self.device).asarray(value, dtype=self.dtype)
        return self.copy_(value)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp into [min, max], in place."""

        def fast(a: Any) -> None:
            array_module(self.device).clip(a, min, max, out=a)

        return run_inplace(self, "clamp_", lambda t: t.clamp(min, max), fast)

    def relu_(self) -> Tensor:
        """max(0, x), in place."""

        def fast(a: Any) -> None:
            array_module(self.device).maximum(a, 0, out=a)

        return run_inplace(self, "relu_", lambda t: t.relu(), fast)

    def exp_(self) -> Tensor:
        """e^x, in place (its backward uses the result: a later in-place change of it is refused)."""

        def fast(a: Any) -> None:
            array_module(self.device).exp(a, out=a)

        return run_inplace(self, "exp_", lambda t: t.exp(), fast)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Put ``value`` where ``mask`` is True, in place (no gradient flows to the filled places)."""
        cond = mask.array if isinstance(mask, TensorInPlace) else as_array(mask, device=self.device)

        def fast(a: Any) -> None:
            array_module(self.device).copyto(a, self._value(value), where=cond)

        return run_inplace(self, "masked_fill_", lambda t: t.masked_fill(mask, value), fast, (value,))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with draws from U(a, b), in place (the library's seeded generator)."""
        return self.copy_(generator().uniform(a, b, size=self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with draws from N(mean, std²), in place (the library's seeded generator)."""
        return self.copy_(generator().normal(mean, std, size=self.shape))

    def __setitem__(self, index: Any, value: Any) -> None:
        """x[index] = value: inside the graph for a computed tensor (``scores[~mask] = -1e6``)."""
        from .tensor import Tensor

        index = self._index(index)

        def fast(a: Any) -> None:
            a[index] = self._value(value)

        def compute(t: Tensor) -> Tensor:
            v = value if isinstance(value, Tensor) else as_array(value, dtype=t.dtype, device=t.device)
            return IndexPut.apply(t, v, index)

        run_inplace(self, "__setitem__", compute, fast, (value,))

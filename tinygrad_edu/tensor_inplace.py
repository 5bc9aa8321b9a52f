"""The Tensor's in-place updates: what optimizers and nn.init use, inside ``no_grad``.

``w -= lr * w.grad`` changes the numbers of ``w`` itself, so every layer and optimizer holding
``w`` sees the new values. While a graph is being recorded, changing a tensor that backward may
still need would silently corrupt the gradients, so that is refused with a message saying what
to do instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import autograd
from .device import array_module
from .dtypes import as_array
from .random import generator

if TYPE_CHECKING:
    from .tensor import Tensor


class TensorInPlace:
    """add_, sub_, mul_, div_, +=, -=, *=, /=, copy_, zero_, fill_, clamp_, uniform_, normal_, x[i] = v."""

    def _check_inplace(self, op: str) -> None:
        if autograd.is_grad_enabled() and (self.requires_grad or self._ctx is not None):
            raise RuntimeError(
                f"{op}: a tensor that requires grad cannot be changed in place while the graph is being "
                "recorded (its old value may be needed for backward). Do updates inside "
                "`with tge.no_grad():`, as optimizers do, or write the out-of-place form x = x + y."
            )

    def _value(self, other: Any) -> Any:
        return other.array if isinstance(other, TensorInPlace) else as_array(other, device=self.device)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """self += alpha · other, in place."""
        self._check_inplace("add_")
        self.array += alpha * self._value(other) if alpha != 1 else self._value(other)
        return self

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """self −= alpha · other, in place."""
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        self._check_inplace("mul_")
        self.array *= self._value(other)
        return self

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        self._check_inplace("div_")
        self.array /= self._value(other)
        return self

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
        self._check_inplace("copy_")
        self.array[...] = self._value(src)
        return self

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0)

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value``, in place."""
        self._check_inplace("fill_")
        self.array[...] = value
        return self

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp into [min, max], in place."""
        self._check_inplace("clamp_")
        array_module(self.device).clip(self.array, min, max, out=self.array)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with draws from U(a, b), in place (the library's seeded generator)."""
        return self.copy_(generator().uniform(a, b, size=self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with draws from N(mean, std²), in place (the library's seeded generator)."""
        return self.copy_(generator().normal(mean, std, size=self.shape))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        self.array[self._index(index)] = self._value(value)

"""The Tensor's comparisons by name (eq ne lt le gt ge), bitwise ops (& | ^ ~ << >>) and logical ops.

As in PyTorch, & | ^ ~ are *bitwise* on integer tensors (6 & 3 = 2) and logical on bool tensors
(masks: ``(x > 0) & (x < 1)``); on floating tensors they are an error. ``logical_and`` and friends
treat any nonzero value as True. None of these has a gradient: the results are integers or bools.
"""

from __future__ import annotations

from typing import Any

from .device import array_module


def _operands(x: Any, y: Any) -> tuple[Any, Any]:
    from .tensor_ops import operands

    return operands(x, y)


def _array(v: Any) -> Any:
    return getattr(v, "array", v)


class TensorBitwise:
    """Comparisons by name, bitwise and logical operations (mixed into Tensor)."""

    # ---- comparisons by name (the operators are in tensor_ops.py) ---------------------------

    def eq(self, other: Any) -> Any:
        """x == y elementwise (a bool tensor)."""
        return self == other

    def ne(self, other: Any) -> Any:
        """x != y elementwise."""
        return self != other

    def lt(self, other: Any) -> Any:
        """x < y elementwise."""
        return self < other

    def le(self, other: Any) -> Any:
        """x ≤ y elementwise."""
        return self <= other

    def gt(self, other: Any) -> Any:
        """x > y elementwise."""
        return self > other

    def ge(self, other: Any) -> Any:
        """x ≥ y elementwise."""
        return self >= other

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other: Any) -> bool:
        """True if both tensors have the same shape and the same elements (a Python bool)."""
        return tuple(self.shape) == tuple(other.shape) and bool((self == other).all())

    # ---- bitwise: integers bit by bit, bools logically --------------------------------------

    def _bitwise(self, other: Any, fn: str, op: str, reverse: bool = False) -> Any:
        x, y = _operands(other, self) if reverse else _operands(self, other)
        for v in (x, y):
            if v.dtype.kind not in "iub":
                raise RuntimeError(
                    f"{op} is only defined for integer and bool tensors, got {v.dtype}; "
                    "for masks compare first (x > 0), for floats use logical_and / logical_or"
                )
        return self._wrap(getattr(array_module(self.device), fn)(_array(x), _array(y)))

    def bitwise_and(self, other: Any) -> Any:
        """x & y: bitwise on integers, logical on bools."""
        return self._bitwise(other, "bitwise_and", "bitwise_and (&)")

    def bitwise_or(self, other: Any) -> Any:
        """x | y: bitwise on integers, logical on bools."""
        return self._bitwise(other, "bitwise_or", "bitwise_or (|)")

    def bitwise_xor(self, other: Any) -> Any:
        """x ^ y: bitwise on integers, logical on bools."""
        return self._bitwise(other, "bitwise_xor", "bitwise_xor (^)")

    def bitwise_not(self) -> Any:
        """~x: every bit flipped on integers (~5 = −6), not on bools."""
        if self.dtype.kind not in "iub":
            raise RuntimeError(f"bitwise_not (~) is only defined for integer and bool tensors, got {self.dtype}")
        return self._wrap(array_module(self.device).invert(self.array))

    def bitwise_left_shift(self, other: Any) -> Any:
        """x << y: x · 2ʸ on integers."""
        return self._bitwise(other, "left_shift", "bitwise_left_shift (<<)")

    def bitwise_right_shift(self, other: Any) -> Any:
        """x >> y: x // 2ʸ on integers (arithmetic shift)."""
        return self._bitwise(other, "right_shift", "bitwise_right_shift (>>)")

    def __and__(self, other: Any) -> Any:
        return self.bitwise_and(other)

    def __rand__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_and", "bitwise_and (&)", reverse=True)

    def __or__(self, other: Any) -> Any:
        return self.bitwise_or(other)

    def __ror__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_or", "bitwise_or (|)", reverse=True)

    def __xor__(self, other: Any) -> Any:
        return self.bitwise_xor(other)

    def __rxor__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_xor", "bitwise_xor (^)", reverse=True)

    def __invert__(self) -> Any:
        return self.bitwise_not()

    def __lshift__(self, other: Any) -> Any:
        return self.bitwise_left_shift(other)

    def __rlshift__(self, other: Any) -> Any:
        return self._bitwise(other, "left_shift", "bitwise_left_shift (<<)", reverse=True)

    def __rshift__(self, other: Any) -> Any:
        return self.bitwise_right_shift(other)

    def __rrshift__(self, other: Any) -> Any:
        return self._bitwise(other, "right_shift", "bitwise_right_shift (>>)", reverse=True)

    # ---- logical: any nonzero is True -------------------------------------------------------

    def _logical(self, other: Any, fn: str) -> Any:
        x, y = _operands(self, other)
        return self._wrap(getattr(array_module(self.device), fn)(_array(x), _array(y)))

    def logical_and(self, other: Any) -> Any:
        """x ∧ y elementwise, nonzero meaning True (a bool tensor)."""
        return self._logical(other, "logical_and")

    def logical_or(self, other: Any) -> Any:
        """x ∨ y elementwise."""
        return self._logical(other, "logical_or")

    def logical_xor(self, other: Any) -> Any:
        """x ⊕ y elementwise."""
        return self._logical(other, "logical_xor")

    def logical_not(self) -> Any:
        """¬x elementwise (True where x is 0)."""
        return self._wrap(array_module(self.device).logical_not(self.array))

"""ShapeError: the error of an op whose tensors' shapes do not fit, raised where PyTorch raises RuntimeError.

PyTorch reports shape mismatches (reshape, view, permute, matmul, cat, stack, expand, gather, linear,
conv, ...) as ``RuntimeError``; code written for it catches that. Older code here (and learners'
habits) catch ``ValueError``, so ShapeError is both: ``except RuntimeError`` and ``except ValueError``
each catch it. The message still names the op and both shapes.
"""

from __future__ import annotations


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit an op (a RuntimeError, as PyTorch raises; also a ValueError)."""


__all__ = ["ShapeError"]

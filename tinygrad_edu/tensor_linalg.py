"""The Tensor's named products and norms: mm, bmm, mv, dot, inner, outer, trace, norm; and ``einsum``.

mm / bmm / mv / dot are matmul restricted to the shapes their names promise (so a wrong shape is an
error, not a broadcast); outer is a broadcast product; einsum and the p-norm are in ops/linalg.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .keywords import numpy_keywords
from .ops import linalg as LA
from .ops.reduce import normalize_dims


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


class TensorLinalg:
    """Matrix and vector products by name, and norms (mixed into Tensor)."""

    def mm(self, mat2: Any) -> Any:
        """(n, m) @ (m, p): the matrix product of two 2-D tensors."""
        if self.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(
                f"mm: self must be a matrix and mat2 must be a matrix, got {self.ndim}-D and {mat2.ndim}-D"
            )
        if self.shape[1] != mat2.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({_shape_text(self.shape)} and {_shape_text(mat2.shape)})"
            )
        return self @ mat2

    def bmm(self, mat2: Any) -> Any:
        """(b, n, m) @ (b, m, p): a batch of matrix products (no broadcasting)."""
        if self.ndim != 3 or mat2.ndim != 3:
            raise RuntimeError(
                f"bmm: batch1 must be a 3D tensor and batch2 must be a 3D tensor, got {self.shape} and {mat2.shape}"
            )
        b, _, m = self.shape
        if mat2.shape[:2] != (b, m):
            raise RuntimeError(
                f"bmm: Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] "
                f"but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
            )
        return self @ mat2

    def mv(self, vec: Any) -> Any:
        """(n, m) @ (m,): a matrix times a vector."""
        if self.ndim != 2 or vec.ndim != 1:
            raise RuntimeError(f"mv: vector + matrix @ vector expected, got {self.ndim}, {vec.ndim}")
        if self.shape[1] != vec.shape[0]:
            raise RuntimeError(
                f"size mismatch, got input ({self.shape[0]}), mat ({_shape_text(self.shape)}), vec ({vec.shape[0]})"
            )
        return self @ vec

    def dot(self, other: Any) -> Any:
        """Σ xᵢ yᵢ of two 1-D tensors of one length (0-d result)."""
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        if self.shape != other.shape:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{self.shape[0]}] and src [{other.shape[0]}] to have the "
                f"same number of elements, but got {self.shape[0]} and {other.shape[0]} elements respectively"
            )
        return self @ other

    vdot = dot

    def inner(self, other: Any) -> Any:
        """Σ over the last dims of both: x[..., k] · y[..., k]."""
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        return einsum("...k,...k->...", self, other) if self.shape == other.shape else self @ other.mT

    def outer(self, vec2: Any) -> Any:
        """zᵢⱼ = xᵢ · yⱼ for 1-D x and y (a broadcast product)."""
        if self.ndim != 1 or vec2.ndim != 1:
            raise RuntimeError(f"outer: expects 1-D tensors, got {self.ndim}-D and {vec2.ndim}-D")
        return self.unsqueeze(1) * vec2.unsqueeze(0)

    ger = outer

    def trace(self) -> Any:
        """Σᵢ xᵢᵢ of a matrix."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diagonal().sum()

    @numpy_keywords
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        """The p-norm over ``dim`` (every element when None): "fro" and 2 are √Σx², 1 is Σ|x|, inf is max|x|,
        −inf min|x|, 0 the count of nonzeros, any other p (Σ|x|ᵖ)^(1/p) (ops.linalg.PNorm).
        """
        x = self._floating() if dtype is None else self.to(dtype)
        axes = normalize_dims(dim, self.ndim, "norm")
        if p == "fro" or p is None:
            p = 2
        if isinstance(p, str):
            raise RuntimeError(f"norm: p={p!r} is not supported; use 'fro' or a number")
        if p == math.inf:
            return x.abs().amax(axes, keepdim)
        if p == -math.inf:
            return x.abs().amin(axes, keepdim)
        if p == 0:
            return x._wrap((x.array != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype))
        if p == 1:
            return x.abs().sum(axes, keepdim)
        return LA.PNorm.apply(x, float(p), axes, keepdim)


def einsum(equation: str, *operands: Any) -> Any:
    """A sum of products in index notation: ``einsum("ij,jk->ik", a, b)`` is a @ b, ``"ii"`` the trace,
    ``"bij,bjk->bik"`` bmm, ``"i,j->ij"`` outer; "..." stands for leading dims (ops.linalg.Einsum).
    """
    from .tensor_ops import TensorOps

    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, TensorOps) for t in operands):
        raise TypeError("einsum(): expects an equation and tensors, e.g. einsum('ij,jk->ik', a, b)")
    subs, out = LA.parse_equation(equation, [t.shape for t in operands])
    sizes: dict[str, int] = {}
    for sub, t in zip(subs, operands):
        for c, n in zip(sub, t.shape):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes; subscript {c!r} has size "
                    f"{sizes[c]} in one operand and {n} in another"
                )
    if any(c not in "".join(subs) for c in out):
        raise RuntimeError(f"einsum(): output subscript in {equation!r} does not appear in the inputs")
    floating = [t for t in operands if t.dtype.kind in "fc"]
    if floating:
        dtype = np.result_type(*(t.dtype for t in floating))
        operands = tuple(t if t.dtype == dtype else t.to(dtype) for t in operands)
    return LA.Einsum.apply(subs, out, *operands)

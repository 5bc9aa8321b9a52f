"""``tge.linalg``: norms, inverse, determinant and linear solves with ``torch.linalg``'s names.

    tge.linalg.vector_norm(x, ord=2, dim=-1)      (Σ |xᵢ|ᵖ)^(1/p) along dim
    tge.linalg.matrix_norm(A)                     Frobenius √Σ Aᵢⱼ²; ord 1/inf (max column/row sum), 2/'nuc' (σ)
    tge.linalg.norm(A, ord=None, dim=None)        vector_norm or matrix_norm, chosen as PyTorch does
    tge.linalg.inv(A), det(A), solve(A, B)        batched over leading dims, differentiable (ops/linalg_matrix.py)

The derivative of each matrix function is written out with its Function in ops/linalg_matrix.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ShapeError
from .ops import linalg_matrix as LM
from .tensor import Tensor


def _square(a: Tensor, op: str) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"linalg.{op}: A must be batches of square matrices, but they are {a.shape} matrices")
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as input. Got {a.dtype}")


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """(Σ |xᵢ|^ord)^(1/ord) over ``dim`` (every element when None); inf is max |x|, −inf min |x|, 0 the count."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return x.norm(ord, dim, keepdim, dtype)


def svdvals(a: Tensor) -> Tensor:
    """The singular values σ₁ ≥ σ₂ ≥ … of each matrix (…, m, n) (ops.linalg_matrix.SVDVals)."""
    if a.ndim < 2:
        raise ShapeError(f"linalg.svdvals: the input tensor A must have at least 2 dimensions, got {a.shape}")
    return LM.SVDVals.apply(a)


def matrix_norm(a: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:  # fmt: skip
    """A matrix norm over the two dims ``dim``: "fro" √Σa², "nuc" Σσ, 2 / −2 the largest / smallest σ,
    1 / −1 the largest / smallest column sum of |a|, inf / −inf the largest / smallest row sum.
    """
    if a.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: the input tensor A must have at least 2 dimensions, got {a.shape}")
    x = a if dtype is None else a.to(dtype)
    r, c = (d % a.ndim for d in dim)
    if r == c:
        raise ShapeError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return x.norm(2, (r, c), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [d for d in range(a.ndim) if d not in (r, c)]
        moved = x.permute(*rest, r, c)  # the two matrix dims last
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        return out.unsqueeze(min(r, c)).unsqueeze(max(r, c)) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        over, then = (r, c) if ord in (1, -1) else (c, r)  # column sums (sum over rows) for 1, row sums for inf
        sums = x.abs().sum(over, keepdim=True)
        out = sums.amax(then, keepdim=True) if ord > 0 else sums.amin(then, keepdim=True)
        return out if keepdim else out.squeeze(max(r, c)).squeeze(min(r, c))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(a: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """PyTorch's choice: a vector norm for an int ``dim`` (or a 1-D input), a matrix norm for two dims (or a
    2-D input with an ``ord``); ord=None with dim=None is the 2-norm of all elements.
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(a, 2, None, keepdim, dtype=dtype)
    if a.ndim == 1:
        return vector_norm(a, ord, None, keepdim, dtype=dtype)
    if a.ndim == 2:
        return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {a.ndim}D.")


def inv(a: Tensor) -> Tensor:
    """A⁻¹ of each square matrix (RuntimeError for a singular one, as PyTorch) (ops.linalg_matrix.Inverse)."""
    _square(a, "inv")
    try:
        return LM.Inverse.apply(a)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not be completed "
                           "because the input matrix is singular.") from None  # fmt: skip


def det(a: Tensor) -> Tensor:
    """det A of each square matrix (ops.linalg_matrix.Det)."""
    _square(a, "det")
    return LM.Det.apply(a)


def solve(a: Tensor, b: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (B a vector (…, n) or a matrix (…, n, k)), without forming A⁻¹ (ops.linalg_matrix.Solve)."""
    if not left:
        raise RuntimeError("linalg.solve: left=False is not supported here; solve Aᵀ Xᵀ = Bᵀ instead")
    _square(a, "solve")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    n = a.shape[-1]
    if (vector and b.shape[-1] != n) or (not vector and b.shape[-2] != n):
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({a.shape} and "
                         f"{b.shape})")  # fmt: skip
    if b.dtype != a.dtype:
        b = b.to(a.dtype)
    try:
        return LM.Solve.apply(a, b, vector)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.solve: The solver failed because the input matrix is singular.") from None


__all__ = ["det", "inv", "matrix_norm", "norm", "solve", "svdvals", "vector_norm"]

"""Hypothesis strategies for tensors: shapes with size-1 dims and 0-d, broadcasting pairs,
non-contiguous inputs, and values kept away from the kinks of non-smooth ops.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tge

MAX_SIDE = 4


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Array shapes, size-1 dims and 0-d included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_pairs(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    """Two shapes that broadcast together, e.g. (3, 1) and (4,)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims, max_side=MAX_SIDE).map(
        lambda s: s.input_shapes
    )


def values(lo: float = -3.0, hi: float = 3.0, away_from: float | None = None, gap: float = 0.05) -> st.SearchStrategy:
    """Finite floats in [lo, hi]; with ``away_from``, none within ``gap`` of that point (a kink)."""
    if away_from is None:
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return st.one_of(st.floats(lo, away_from - gap, allow_nan=False), st.floats(away_from + gap, hi, allow_nan=False))


@st.composite
def arrays(draw, shape, elements=None, unique: bool = False, transposed=None) -> np.ndarray:
    """A float64 array; sometimes a non-contiguous view (the transpose of a transposed layout)."""
    elements = values() if elements is None else elements
    transposed = draw(st.booleans()) if transposed is None else transposed
    if transposed and len(shape) >= 2:
        a = draw(hnp.arrays(np.float64, tuple(reversed(shape)), elements=elements, unique=unique))
        return a.T  # same values, Fortran order: strides no longer match a fresh array
    return draw(hnp.arrays(np.float64, shape, elements=elements, unique=unique))


@st.composite
def tensors(draw, shape=None, elements=None, unique: bool = False, requires_grad: bool = True) -> tge.Tensor:
    """A float64 leaf tensor of a drawn (or given) shape."""
    shape = draw(shapes()) if shape is None else shape
    return tge.tensor(draw(arrays(shape, elements, unique)), requires_grad=requires_grad)


def dims_of(ndim: int) -> st.SearchStrategy:
    """A dim argument for a tensor of ``ndim`` dims: None, one int (negatives too) or a tuple."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1])
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.one_of(st.none(), one, many)

"""Hypothesis strategies for convolution and pooling: geometries (shapes, stride, padding) and inputs.

Sides are drawn from 1, small primes, odd sizes and one even size, so that windows that do not
tile the image, batch 1, kernel 1, stride 2 and padding all come up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

SIDES = (1, 2, 3, 5, 7, 8, 11, 13)


@dataclass(frozen=True)
class Conv:
    """One convolution: x (N, C, H, W) with w (F, C, KH, KW), stride and padding pairs."""

    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        (N, _, H, W), (F, _, KH, KW) = self.x_shape, self.w_shape
        (sh, sw), (ph, pw) = self.stride, self.padding
        return N, F, (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


@dataclass(frozen=True)
class Pool:
    """One pooling: x (N, C, H, W), kernel, stride and padding pairs (padding ≤ kernel // 2)."""

    x_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        N, C, H, W = self.x_shape
        (KH, KW), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        return N, C, (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


def _side(draw, kernel: int, padding: int, max_side: int) -> int:
    """An image side that the padded window fits in."""
    return draw(st.sampled_from([s for s in SIDES if kernel <= s + 2 * padding and s <= max(max_side, kernel)]))


@st.composite
def convs(
    draw, max_batch: int = 3, max_channels: int = 5, max_filters: int = 7, max_kernel: int = 5, max_side: int = 13
):
    """A conv2d geometry; kernels 1..max_kernel (non-square too), stride 1..3, padding 0..2."""
    N = draw(st.integers(1, max_batch))
    C = draw(st.sampled_from([c for c in (1, 2, 3, 5) if c <= max_channels]))
    F = draw(st.sampled_from([f for f in (1, 2, 3, 7) if f <= max_filters]))
    KH, KW = (draw(st.sampled_from([k for k in (1, 2, 3, 5) if k <= max_kernel])) for _ in "hw")
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H, W = _side(draw, KH, ph, max_side), _side(draw, KW, pw, max_side)
    return Conv((N, C, H, W), (F, C, KH, KW), (sh, sw), (ph, pw))


@st.composite
def pools(draw, max_batch: int = 3, max_channels: int = 3, max_side: int = 13):
    """A pooling geometry; kernels 1..3 (non-square too), stride 1..3, padding 0..kernel // 2."""
    N, C = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
    H, W = _side(draw, KH, ph, max_side), _side(draw, KW, pw, max_side)
    return Pool((N, C, H, W), (KH, KW), (sh, sw), (ph, pw))


def uniform(draw, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """Numbers in [−1, 1) from a drawn seed (fast for arrays of any size)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.uniform(-1.0, 1.0, shape).astype(dtype)


def distinct(draw, shape: tuple[int, ...], dtype=np.float64, spacing: float = 0.01) -> np.ndarray:
    """Numbers all different, at least ``spacing`` apart: no ties for max_pool2d to break."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * spacing).reshape(shape).astype(dtype)

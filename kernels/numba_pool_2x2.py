"""The usual max pool in Numba: 2×2 windows, stride 2, no padding, over planes of even width.

LeNet, VGG and most CNNs of the course pool this way, so it has kernels of its own, which need no
canvas (numba_pool.py has the general ones). For LANES windows of output row oh, the 2·LANES
numbers of each of the input rows 2·oh and 2·oh + 1 are two vector loads, split by two shuffles
(veven, vodd) into the windows' left and right pixels: four vectors, one per tap, and three
compare-and-selects find the winner. When the windows tile the plane exactly (H = 2·OH,
W = 2·OW) each pixel lies in one window, and the backward writes dx once, in vectors, with no
zeroing and no scatter. A row's ragged end is a masked load or store (numba_simd_lanes.py).

Both index the flat arrays at computed offsets rather than taking a view per plane or row: a
view updates the array's reference count, an atomic instruction that the two threads would
pass back and forth between their cores.

Measured here (znver5, 2 threads, medians in the seed LeNet step, batch 100): a max-pool forward
took 0.32 ms with the canvas (numba_pool._max_pool) and 0.20 ms with _max_pool_2x2; swapping the
old pools and these in one process, 30 rounds, paired: 0.3 ms less per step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numba_simd import vwidth, vzero
from .numba_simd_lanes import (
    vcount_eq,
    veven,
    vload_first,
    vodd,
    vramp,
    vstore_first,
    vwhere_eq,
    vwhere_gt_or_nan,
    vzip_hi,
    vzip_lo,
)
from .numba_threads import claim


def tiles_2x2(kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int], W: int) -> bool:
    """The usual pool (2×2 windows, stride 2, no padding) of planes of even width: the kernels without a canvas."""
    return tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and tuple(padding) == (0, 0) and W % 2 == 0


@njit(cache=True, nogil=True)
def _max_pool_2x2(x, y, indices, H, W, int_lanes, chunks, counter, slot):
    """The 2×2, stride-2, unpadded max pool of planes of even width, straight from x: no canvas.

    x, y and indices are the flat arrays of (N·C, H, W), (N·C, OH, OW) and (N·C, OH, OW), read
    and written at computed offsets (a view per plane or row would cost an atomic reference-count
    update on the shared array, which the threads would pass back and forth). For LANES windows
    of output row oh, the 2·LANES numbers of each input row 2·oh and 2·oh + 1 are two vector loads,
    split by ``veven``/``vodd`` into the windows' left and right pixels: four vectors, one per tap.
    The best starts as the top-left tap (so a tie, or a window of −inf, keeps the first pixel) and
    each of the other three taps replaces it where it is larger or NaN (the last NaN wins, as in
    _max_pool). The loads and stores at a row's end are masked: nothing outside the row is touched.
    ``int_lanes`` is an int32 (float32) or int64 (float64) array of LANES, the pixel numbers' type.
    """
    OH, OW = H // 2, W // 2
    width = vwidth(x)
    zero = vzero(x)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    plane = claim(chunks, counter, mine)
    while plane >= 0:
        for oh in range(OH):
            top = plane * H * W + 2 * oh * W
            out = (plane * OH + oh) * OW
            for ow0 in range(0, OW, width):
                k = min(width, OW - ow0)
                first, rest = min(2 * k, width), max(2 * k - width, 0)  # numbers of a row in each vector
                a0, a1 = vload_first(x, top + 2 * ow0, zero, first), vload_first(x, top + 2 * ow0 + width, zero, rest)
                b0, b1 = (
                    vload_first(x, top + W + 2 * ow0, zero, first),
                    vload_first(x, top + W + 2 * ow0 + width, zero, rest),
                )
                corner = 2 * oh * W + 2 * ow0
                best, win = veven(a0, a1), vramp(int_lanes, corner, 2)
                for v, pixel in (
                    (vodd(a0, a1), corner + 1),
                    (veven(b0, b1), corner + W),
                    (vodd(b0, b1), corner + W + 1),
                ):
                    win = vwhere_gt_or_nan(v, best, vramp(int_lanes, pixel, 2), win)
                    best = vwhere_gt_or_nan(v, best, v, best)
                vstore_first(y, out + ow0, best, k)
                vstore_first(indices, out + ow0, win, k)
        plane = claim(chunks, counter, mine)


@njit(cache=True, nogil=True)
def _max_pool_backward_2x2(dy, indices, dx, strays, H, W, chunks, counter, slot):
    """The 2×2, stride-2 backward when the windows tile the plane exactly (H = 2·OH, W = 2·OW), in vectors.

    Each input pixel lies in exactly one window, so dx is written once, with no zeroing and no
    scatter: for LANES windows of a row, dy and the winners' indices are loaded, and each of the
    four taps (top-left, top-right, bottom-left, bottom-right) gets dy where the index is its
    pixel and 0 elsewhere (``vwhere_eq``); the two taps of a row are zipped back into columns
    (``vzip_lo``/``vzip_hi``, the inverse of the forward's even/odd split) and stored. dy,
    indices and dx are flat, read at computed offsets (see _max_pool_2x2). strays[plane] counts
    the windows whose index is none of their four pixels (indices not made by the forward): the
    caller then redoes the whole job with the scatter, which gives such indices their meaning.
    """
    OH, OW = H // 2, W // 2
    zero, width = vzero(dy), vwidth(dy)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    plane = claim(chunks, counter, mine)
    while plane >= 0:
        missed = 0
        for oh in range(OH):
            row = (plane * OH + oh) * OW
            top = plane * H * W + 2 * oh * W
            for ow0 in range(0, OW, width):
                k = min(width, OW - ow0)
                g, at = vload_first(dy, row + ow0, zero, k), vload_first(indices, row + ow0, zero, k)
                corner = 2 * oh * W + 2 * ow0
                p00, p01 = vramp(at, corner, 2), vramp(at, corner + 1, 2)
                p10, p11 = vramp(at, corner + W, 2), vramp(at, corner + W + 1, 2)
                missed += k - vcount_eq(at, p00) - vcount_eq(at, p01) - vcount_eq(at, p10) - vcount_eq(at, p11)
                d00, d01 = vwhere_eq(at, p00, g, zero), vwhere_eq(at, p01, g, zero)
                d10, d11 = vwhere_eq(at, p10, g, zero), vwhere_eq(at, p11, g, zero)
                first, rest = min(2 * k, width), max(2 * k - width, 0)
                vstore_first(dx, top + 2 * ow0, vzip_lo(d00, d01), first)
                vstore_first(dx, top + W + 2 * ow0, vzip_lo(d10, d11), first)
                vstore_first(dx, top + 2 * ow0 + width, vzip_hi(d00, d01), rest)
                vstore_first(dx, top + W + 2 * ow0 + width, vzip_hi(d10, d11), rest)
        strays[plane] = missed
        plane = claim(chunks, counter, mine)

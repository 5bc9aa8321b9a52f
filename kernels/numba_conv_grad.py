"""The convolution's weight and bias gradients in Numba, on the canvas of numba_conv.py.

    dw[f, c, kh, kw] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow] · x_pad[n, c, oh·sh + kh, ow·sw + kw]
    db[f]            = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow]

On the canvas (numba_conv.py: image n laid out flat, tap k = (c, kh, kw) of window l at
canvas[koff[k] + l]) the first is dw[f, k] = Σ_n Σ_l dy_canvas_n[f, l] · canvas_n[koff[k] + l]: a
dot product of two contiguous rows for every (filter, tap) pair, 2 × 4 of them at a time
(``_dot_tile``, vectorised along l). The second is one vector sum per (image, filter) plane. Both
loop over images shared out between the threads (numba_threads.run_shared), each thread summing
into its own row of partial sums, added at the end.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numba_canvas import _canvas, _place_on_canvas
from .numba_simd import lanes, vadd, vfma, vload, vstore, vsum, vwidth, vzero
from .numba_threads import claim, run_shared, threads_for


@njit(cache=True)
def _dot_tile(d, d0, d1, b, b0, b1, b2, b3, length, acc, at, row):
    """Eight dot products at once, Σ_l d[d_i + l]·b[b_j + l] for 2 rows of dy and 4 rows of B, kept as vectors.

    All six rows are contiguous along l, ``length`` numbers, a whole number of vectors
    (zero-padded), so each step is 6 vector loads and 8 vector FMAs into 8 registers of partial
    sums. The sums stay vectors: they are added to acc[at + i·row + j·LANES] (the running sums of
    the task), and their lanes are added up once at the end of the task, not once per image
    (a LeNet row is only 9 vectors long: eight lane sums per image cost more than the FMAs).
    The rows are given as two arrays and six offsets rather than six arrays, and the step is a
    constant (vwidth), so that the unrolled loop's addresses fit the integer registers: with six
    arrays and a step passed in, LLVM kept 24 pointers and reloaded them from the stack on every
    step. Summing lane by lane, then across lanes, only changes the rounding.
    """
    w = vwidth(d)
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = vzero(d)
    for l in range(0, length, w):
        a0, a1 = vload(d, d0 + l), vload(d, d1 + l)
        c0, c1, c2, c3 = vload(b, b0 + l), vload(b, b1 + l), vload(b, b2 + l), vload(b, b3 + l)
        s00, s01, s02, s03 = vfma(a0, c0, s00), vfma(a0, c1, s01), vfma(a0, c2, s02), vfma(a0, c3, s03)
        s10, s11, s12, s13 = vfma(a1, c0, s10), vfma(a1, c1, s11), vfma(a1, c2, s12), vfma(a1, c3, s13)
    vstore(acc, at, vadd(vload(acc, at), s00))
    vstore(acc, at + w, vadd(vload(acc, at + w), s01))
    vstore(acc, at + 2 * w, vadd(vload(acc, at + 2 * w), s02))
    vstore(acc, at + 3 * w, vadd(vload(acc, at + 3 * w), s03))
    vstore(acc, at + row, vadd(vload(acc, at + row), s10))
    vstore(acc, at + row + w, vadd(vload(acc, at + row + w), s11))
    vstore(acc, at + row + 2 * w, vadd(vload(acc, at + row + 2 * w), s12))
    vstore(acc, at + row + 3 * w, vadd(vload(acc, at + row + 3 * w), s13))


@njit(cache=True, nogil=True)
def _weight_grad_images(dy, x, koff, place, wq, width, dw_parts, chunks, counter, slot):
    """dw[f, k] += Σ_l dy_canvas[f, l] · canvas[koff[k] + l] over the images n this thread claims; dw = dw_parts[slot].

    dy[n] is laid on the canvas grid (row oh at oh·wq, zeros in the garbage columns and up to a
    whole number of vectors of ``width``), so both factors are rows along l: 2 filters × 4 taps
    per _dot_tile call. The vector sums live in acc, F rounded up to 2 and K to 4 (the extra
    filters read zero rows of dy, the extra taps repeat the last one; both land in rows and
    columns of acc that are dropped); their lanes are added into dw, this thread's own (F·K)
    partial sum, at the end.
    """
    N, F, OH, OW = dy.shape
    K = koff.size
    Fp, Kp = (F + 1) // 2 * 2, (K + 3) // 4 * 4
    length = (OH * wq + width - 1) // width * width  # l = oh·wq + ow, padded to whole vectors
    dw = dw_parts[slot]
    canvas = np.empty(place[5], dtype=dw.dtype)
    dy_canvas = np.zeros(Fp * length, dtype=dw.dtype)
    acc = np.zeros(Fp * Kp * width, dtype=dw.dtype)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        _place_on_canvas(x[n], place, canvas)
        for f in range(F):
            for oh in range(OH):
                row, src = dy_canvas[f * length + oh * wq : f * length + oh * wq + OW], dy[n, f, oh]
                for ow in range(OW):
                    row[ow] = src[ow]
        for f0 in range(0, Fp, 2):
            for k0 in range(0, Kp, 4):
                k1, k2, k3 = min(k0 + 1, K - 1), min(k0 + 2, K - 1), min(k0 + 3, K - 1)
                b0, b1, b2, b3 = koff[min(k0, K - 1)], koff[k1], koff[k2], koff[k3]
                at = (f0 * Kp + k0) * width
                _dot_tile(
                    dy_canvas, f0 * length, (f0 + 1) * length, canvas, b0, b1, b2, b3, length, acc, at, Kp * width
                )
        n = claim(chunks, counter, mine)
    for f in range(F):
        for k in range(K):
            dw[f * K + k] += vsum(vload(acc, (f * Kp + k) * width))


def conv2d_backward_weight(
    dy: np.ndarray, x: np.ndarray, w_shape: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dw[f, c, kh, kw] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow] · x_pad[n, c, oh·sh + kh, ow·sw + kw]

    On the canvas that is dw[f, k] = Σ_n Σ_l dy_canvas_n[f, l] · canvas_n[koff[k] + l]: a dot
    product of two rows for every (filter, tap) pair. Each task sums its images into its own
    dw; the partial sums are added at the end. (The garbage columns meet dy's zeros there: an
    infinite pixel of x that only a garbage column reads turns its dw entries into NaN, where
    the reference keeps them finite; with an infinite input the forward is not finite anyway.)
    """
    N, F, OH, OW = dy.shape
    C, KH, KW = w_shape[1:]
    place, wq, koff = _canvas(x.shape[1:], (KH, KW), tuple(stride), (OH, OW), tuple(padding))
    dw_parts = np.zeros((threads_for(N), F * koff.size), dtype=dy.dtype)  # one partial sum per thread
    if N * OH * OW > 0:
        run_shared(_weight_grad_images, (dy, x, koff, place, wq, lanes(dy.dtype.itemsize), dw_parts), N)
    return dw_parts.sum(axis=0).reshape(w_shape)


@njit(cache=True, nogil=True)
def _bias_grad_images(dy, db_parts, chunks, counter, slot):
    """db_parts[slot, f] = Σ dy[n, f, :, :] over the images n this thread claims: one vector sum per plane."""
    N, F, OH, OW = dy.shape
    sums = np.zeros(F, dtype=dy.dtype)
    width = vwidth(sums)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    n = claim(chunks, counter, mine)
    while n >= 0:
        for f in range(F):
            plane = dy[n, f].reshape(OH * OW)
            whole = plane.size // width * width
            total = vzero(plane)
            for i in range(0, whole, width):
                total = vadd(total, vload(plane, i))
            sums[f] += vsum(total)
            for i in range(whole, plane.size):
                sums[f] += plane[i]
        n = claim(chunks, counter, mine)
    db_parts[slot, :] = sums


def conv2d_backward_bias(dy: np.ndarray) -> np.ndarray:
    """db[f] = Σ_n Σ_oh Σ_ow dy[n, f, oh, ow]: each thread sums its images' planes, then the threads' sums are added."""
    dy = np.ascontiguousarray(dy)
    db_parts = np.zeros((threads_for(dy.shape[0]), dy.shape[1]), dtype=dy.dtype)
    if dy.size:
        run_shared(_bias_grad_images, (dy, db_parts), dy.shape[0])
    return db_parts.sum(axis=0)

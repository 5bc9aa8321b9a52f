"""Pooling in Numba: the forwards a vector of outputs at a time, the backwards plane by plane.

Pooling does one comparison or one addition per number it reads, so it is limited by memory,
not arithmetic. The usual max pool, 2×2 windows with stride 2 and no padding over planes of even
width, has kernels of its own, with no canvas and a backward without a scatter (numba_pool_2x2.py).
Every other geometry first lays each (image, channel) plane out on a "canvas" split into column
phases (_place): column w of the padded plane goes to phase w mod sw, position w // sw. Then tap
(kh, kw) of LANES neighbouring windows of a row is LANES neighbouring numbers of phase kw mod sw:
one vector load (vload), never a gather, whatever the stride. The vectors are 16 float32 on
AVX-512, 8 on AVX2 (numba_simd.py); max pooling also carries the winner's pixel number in an
integer vector of the same lane count. The ragged end of a row (5 outputs of 16 lanes in LeNet's
second pool) is a masked load or store (numba_simd_lanes.py), never a scalar loop. The general
backwards add each window's gradient into dx, one number at a time: their writes go wherever the
indices say (a scatter by nature), so they stay scalar.

The planes are shared out between the threads (numba_threads.run_shared), in chunks, each thread
with its own canvas; no two planes share an output, so the threads never write the same number.

Window (oh, ow) covers input rows oh·sh + kh − ph and columns ow·sw + kw − pw; the parts that
fall outside the image (the padding) are −inf for max pooling (never a winner) and 0 for average
pooling, still counted in the divisor KH·KW (PyTorch's default count_include_pad=True).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from .numba_matmul import _slp_vectorizer
from .numba_pool_2x2 import _max_pool_2x2, _max_pool_backward_2x2, tiles_2x2
from .numba_simd import lanes, scalar_loop, vadd, vdiv, vload, vsplat, vstore, vzero
from .numba_simd_lanes import (
    veven,
    vodd,
    vramp,
    vstore_first,
    vwhere_gt_or_nan,
)
from .numba_threads import claim, private_rows, run_shared, threads_for


@njit(cache=True)
def _place(xc, pad, canvas, geometry, columns):
    """Lay the plane xc (H, W) on the canvas: canvas[(q·hp + r)·rowlen + j] = x_pad[r, j·sw + q].

    x_pad is xc with ``pad`` around it (−inf for max, 0 for average); geometry = (ph, pw, sw,
    hp, rowlen, LANES); xc is C-contiguous. Column phase q holds every sw-th column, so that
    the windows' taps for LANES neighbouring outputs are LANES neighbouring numbers. Column w
    of a row lands at columns[w] from the row's start (_geometry). Stride 1 along W is one
    contiguous copy per row; with a larger stride the copy is kept scalar (``scalar_loop``: on
    AVX-512 targets LLVM would turn the table's stores into scatters).
    """
    ph, pw, sw, hp, rowlen, width = geometry
    W = xc.shape[1]
    x = xc.reshape(-1)
    if sw == 2 and ph == 0 and pw == 0 and W == 2 * rowlen and xc.shape[0] >= hp:
        # The common case (2×2 windows, stride 2, no padding, even width): the two phases are the
        # even and the odd numbers of the flat plane, two shuffles per two vectors, no padding to write.
        size = hp * W
        even, odd = canvas[: hp * rowlen], canvas[hp * rowlen :]
        done = size - size % (2 * width)
        for t in range(0, done, 2 * width):
            a, b = vload(x, t), vload(x, t + width)
            vstore(even, t // 2, veven(a, b))
            vstore(odd, t // 2, vodd(a, b))
        for t in range(done // 2, size // 2):
            scalar_loop()
            even[t], odd[t] = x[2 * t], x[2 * t + 1]
        return
    canvas[:] = pad
    cols = columns.size
    for h in range(min(xc.shape[0], hp - ph)):  # rows below the last window are not needed
        src, dst = x[h * W : h * W + cols], canvas[(h + ph) * rowlen :]
        if sw == 1:  # indices counting up from 0 in their own views: LLVM sees a plain copy
            run = dst[pw : pw + cols]
            for w in range(cols):
                run[w] = src[w]
        else:
            for w in range(cols):
                scalar_loop()
                dst[columns[w]] = src[w]


@njit(cache=True, nogil=True)
def _max_pool(
    x, stride, padding, geometry, taps, columns, first_columns, pad, canvases, y, indices, chunks, counter, slot
):
    """y[n, c, oh, ow] = max of the window; indices = h·W + w of the first maximum (a NaN wins and stays).

    LANES outputs of a row at a time, in vectors: for every tap (kh, kw) of the window, one
    vector load from the canvas (see _place), one compare and two selects, which carry the best
    value and the pixel number h·W + w of the winner (an integer vector, int32 for float32 so
    that its lanes match). The winner starts as the window's first real pixel
    (first_columns[ow] = max(ow·sw − pw, 0), its column), the best as −inf: strictly larger
    wins, so a tie keeps the first pixel in (kh, kw) order and a window whose real pixels are all
    −inf reports its first one. A NaN always wins (``vwhere_gt_or_nan``) and then stays, since
    nothing is larger than a NaN: the last NaN seen wins its window, as in PyTorch. taps[0, t] is
    tap t's offset on the canvas, taps[1, t] its pixel number relative to the window's corner
    (_geometry). The row's ragged end (5 outputs of 16 lanes in LeNet's second pool) is stored
    with a masked store, as are the indices, widened to int64. ``pad`` is −inf in x's dtype;
    each thread has its own canvas, row ``slot`` of ``canvases``.
    """
    N, C, H, W = x.shape
    (sh, sw), (ph, pw) = stride, padding
    rowlen, width = geometry[4:]
    OH, OW = y.shape[2:]
    canvas = canvases[slot]
    offsets, pixels = taps[0], taps[1]
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    plane = claim(chunks, counter, mine)
    while plane >= 0:
        n, c = plane // C, plane % C
        _place(x[n, c], pad, canvas, geometry, columns)
        for oh in range(OH):
            yrow, irow = y[n, c, oh], indices[n, c, oh]
            h_first = max(oh * sh - ph, 0) * W
            for ow0 in range(0, OW, width):
                best = vsplat(pad)
                win = vadd(vramp(first_columns, h_first, 0), vload(first_columns, ow0))
                base, corner = oh * sh * rowlen + ow0, (oh * sh - ph) * W + ow0 * sw - pw
                for t in range(offsets.size):
                    v = vload(canvas, base + offsets[t])
                    win = vwhere_gt_or_nan(v, best, vramp(first_columns, corner + pixels[t], sw), win)
                    best = vwhere_gt_or_nan(v, best, v, best)
                outputs = min(width, OW - ow0)
                vstore_first(yrow, ow0, best, outputs)
                vstore_first(irow, ow0, win, outputs)
        plane = claim(chunks, counter, mine)


@njit(cache=True, nogil=True)
def _max_pool_backward(dy, indices, dx, bad, chunks, counter, slot):
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]: each window's gradient to its winner.

    An index outside the plane is skipped and counted in bad[plane] (it would write outside dx).
    """
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2:]
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    plane = claim(chunks, counter, mine)
    while plane >= 0:
        n, c = plane // C, plane % C
        dxc = dx[n, c].reshape(H * W)
        dxc[:] = 0
        for oh in range(OH):
            for ow in range(OW):
                where = indices[n, c, oh, ow]
                if 0 <= where < H * W:
                    dxc[where] += dy[n, c, oh, ow]
                else:
                    bad[plane] += 1
        plane = claim(chunks, counter, mine)


@njit(cache=True, nogil=True)
def _avg_pool(x, stride, geometry, taps, columns, canvases, y, chunks, counter, slot):
    """y[n, c, oh, ow] = (sum of the window, padding 0) / (KH·KW): LANES outputs at a time, one vector add per tap."""
    N, C, H, W = x.shape
    sh = stride[0]
    rowlen, width = geometry[4:]
    OH, OW = y.shape[2:]
    canvas = canvases[slot]
    area = vsplat(canvas.dtype.type(taps.shape[1]))
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    plane = claim(chunks, counter, mine)
    while plane >= 0:
        n, c = plane // C, plane % C
        _place(x[n, c], 0.0, canvas, geometry, columns)
        for oh in range(OH):
            for ow0 in range(0, OW, width):
                total = vzero(canvas)
                base = oh * sh * rowlen + ow0
                for t in range(taps.shape[1]):
                    total = vadd(total, vload(canvas, base + taps[0, t]))
                vstore_first(y[n, c, oh], ow0, vdiv(total, area), min(width, OW - ow0))  # masked at the row's end
        plane = claim(chunks, counter, mine)


@njit(cache=True, nogil=True)
def _avg_pool_backward(dy, kernel, stride, padding, dx, chunks, counter, slot):
    """dx[n, c, h, w] += dy[n, c, oh, ow] / (KH·KW) for every window (oh, ow) that covers pixel (h, w)."""
    N, C, H, W = dx.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = dy.shape[2:]
    area = KH * KW
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    plane = claim(chunks, counter, mine)
    while plane >= 0:
        n, c = plane // C, plane % C
        dxc = dx[n, c]
        dxc[:, :] = 0
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = oh * sh - ph, ow * sw - pw
                share = dy[n, c, oh, ow] / area
                for h in range(max(h0, 0), min(h0 + KH, H)):
                    for w in range(max(w0, 0), min(w0 + KW, W)):
                        dxc[h, w] += share
        plane = claim(chunks, counter, mine)


_INT_LANES = {4: np.zeros(lanes(4), np.int32), 8: np.zeros(lanes(8), np.int64)}  # pixel numbers' type, per dtype
SERIAL_BELOW = 1 << 16  # pixels of x: fewer than this, one thread does the whole pool


def _threads(x_shape: tuple[int, ...]) -> int:
    """The threads for the (image, channel) planes of x: one when the whole job is small (SERIAL_BELOW)."""
    planes, pixels = x_shape[0] * x_shape[1], x_shape[2] * x_shape[3]
    return 1 if planes * pixels < SERIAL_BELOW else threads_for(planes)


@functools.lru_cache(maxsize=64)
def _geometry(x_shape, kernel, stride, padding, itemsize) -> tuple[tuple, np.ndarray, np.ndarray, int, np.ndarray]:
    """(geometry and columns for _place, taps, canvas length, first columns) of one plane's canvas.

    The canvas holds hp = (OH−1)·sh + KH padded rows in each of the sw column phases, each row
    ``rowlen`` long: the padded row's share, or OW + (KW−1)//sw if that is more, and LANES more at
    the end: a vector read of the last outputs of a row runs into the next row (lanes that are
    dropped), and past the last row into that slack.
    Tap (kh, kw) of the window at canvas row oh·sh, column ow sits taps[0] further on the canvas
    (in phase kw mod sw), at pixel number taps[1] = kh·W + kw from the window's corner. Input
    column w lands columns[w] from the start of its canvas row (only the columns that fit are
    listed). Window ow's first real pixel is in column first_columns[ow] = max(ow·sw − pw, 0),
    listed for whole vectors of windows, in the integer type whose lanes match the dtype's (int32
    for float32, int64 for float64). Remembered per geometry; the tables are read-only.
    """
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = _out_size(x_shape, kernel, stride, padding)
    width = lanes(itemsize)
    hp = (OH - 1) * sh + KH
    rowlen = max(-(-(x_shape[3] + 2 * pw) // sw), OW + (KW - 1) // sw)  # vector reads may run into the next row
    kh, kw = np.divmod(np.arange(KH * KW), KW)
    taps = np.stack([((kw % sw) * hp + kh) * rowlen + kw // sw, kh * x_shape[3] + kw]).astype(np.int64)
    w = np.arange(min(x_shape[3], sw * rowlen - pw)) + pw
    columns = ((w % sw) * hp * rowlen + w // sw).astype(np.int64)
    row = np.arange(-(-OW // width) * width)
    first_columns = np.maximum(row * sw - pw, 0).astype(np.int32 if itemsize == 4 else np.int64)
    taps.flags.writeable = columns.flags.writeable = first_columns.flags.writeable = False
    return (ph, pw, sw, hp, rowlen, width), taps, columns, sw * hp * rowlen + width, first_columns


def _out_size(x_shape: tuple[int, ...], kernel, stride, padding) -> tuple[int, int]:
    """(OH, OW) = ((H + 2·ph − KH) // sh + 1, (W + 2·pw − KW) // sw + 1)."""
    (H, W), (KH, KW), (sh, sw), (ph, pw) = x_shape[2:], kernel, stride, padding
    return (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1


def max_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """y[n, c, oh, ow] = max over the window of x_pad (padding = −inf), and indices = h·W + w of the winner."""
    y = np.empty(x.shape[:2] + _out_size(x.shape, kernel, stride, padding), dtype=x.dtype)
    indices = np.empty(y.shape, dtype=np.int64)
    if y.size == 0:
        return y, indices
    x = np.ascontiguousarray(x)
    planes, threads = x.shape[0] * x.shape[1], _threads(x.shape)
    if tiles_2x2(kernel, stride, padding, x.shape[3]):
        int_lanes = _INT_LANES[x.itemsize]
        args = (x.reshape(-1), y.reshape(-1), indices.reshape(-1), x.shape[2], x.shape[3], int_lanes)
        with _slp_vectorizer():
            run_shared(_max_pool_2x2, args, planes, threads)
        return y, indices
    geometry, taps, columns, size, first = _geometry(x.shape, tuple(kernel), tuple(stride), tuple(padding), x.itemsize)
    args = (x, tuple(stride), tuple(padding), geometry, taps, columns, first)
    pad = x.dtype.type(-np.inf)
    canvases = private_rows(threads, size, x.dtype)
    with _slp_vectorizer():
        run_shared(_max_pool, (*args, pad, canvases, y, indices), planes, threads)
    return y, indices


def max_pool2d_backward(dy: np.ndarray, indices: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]

    When 2×2 windows tile the plane exactly (H = 2·OH, W = 2·OW: the usual stride-2 pool of an
    even plane), each pixel has one window and the vector kernel writes dx once; indices that are
    not one of their window's pixels (not made by the forward) send the whole job to the scatter.
    """
    if dy.shape != indices.shape or tuple(dy.shape[:2]) != tuple(x_shape[:2]):
        raise ValueError(f"max_pool2d_backward: dy {dy.shape}, indices {indices.shape} and x {tuple(x_shape)} disagree")
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    planes, threads = dx.shape[0] * dx.shape[1], _threads(dx.shape)
    bad = np.zeros(planes, dtype=np.int64)
    if dy.size and dx.shape[2:] == (2 * dy.shape[2], 2 * dy.shape[3]) and dy.dtype.kind == "f":
        dy, indices = np.ascontiguousarray(dy), np.ascontiguousarray(indices)
        args = (dy.reshape(-1), indices.reshape(-1), dx.reshape(-1), bad, dx.shape[2], dx.shape[3])
        with _slp_vectorizer():
            run_shared(_max_pool_backward_2x2, args, planes, threads)
        if not bad.any():
            return dx
        bad[:] = 0  # some windows' indices are elsewhere: the scatter gives them their meaning
    run_shared(_max_pool_backward, (dy, indices, dx, bad), planes, threads)
    if bad.any():
        raise IndexError(f"max_pool2d_backward: {bad.sum()} indices point outside the {tuple(x_shape[2:])} input plane")
    return dx


def avg_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """y[n, c, oh, ow] = 1/(KH·KW) · Σ_kh Σ_kw x_pad[n, c, oh·sh + kh, ow·sw + kw]   (padding = 0)"""
    y = np.empty(x.shape[:2] + _out_size(x.shape, kernel, stride, padding), dtype=x.dtype)
    if y.size == 0:
        return y
    x = np.ascontiguousarray(x)
    geometry, taps, columns, size, _ = _geometry(x.shape, tuple(kernel), tuple(stride), tuple(padding), x.itemsize)
    args = (x, tuple(stride), geometry, taps, columns)
    threads = _threads(x.shape)
    canvases = private_rows(threads, size, x.dtype)
    with _slp_vectorizer():
        run_shared(_avg_pool, (*args, canvases, y), x.shape[0] * x.shape[1], threads)
    return y


def avg_pool2d_backward(
    dy: np.ndarray, x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dx[n, c, oh·sh + kh − ph, ow·sw + kw − pw] += dy[n, c, oh, ow] / (KH·KW)"""
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    args = (dy, tuple(kernel), tuple(stride), tuple(padding))
    run_shared(_avg_pool_backward, (*args, dx), dx.shape[0] * dx.shape[1], _threads(dx.shape))
    return dx

"""Pooling in Numba: one loop nest per kernel, plane by plane.

Pooling does one comparison or one addition per number it reads, so it is limited by memory,
not arithmetic: the loops below read each (image, channel) plane once, in order. The planes
are shared out between the threads (numba_matmul.run_tasks), in ranges; no two planes share an
output, so the threads never write the same number.

Window (oh, ow) covers input rows oh·sh + kh − ph and columns ow·sw + kw − pw; the parts that
fall outside the image (the padding) are skipped: for max pooling padding is −inf and never
wins, for average pooling it is 0 but still counted in the divisor KH·KW (PyTorch's default
count_include_pad=True).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

from .numba_matmul import run_tasks, split


@njit(cache=True, nogil=True)
def _max_pool(x, kernel, stride, padding, planes, y, indices):
    """y[n, c, oh, ow] = max of the window; indices = h·W + w of the first maximum (a NaN wins and stays).

    Written without branches on the data: ``a if v > best else b`` compiles to a select (a
    maxss / cmov), while ``if v > best: ...`` on random data is a coin-flip branch that the CPU
    mispredicts half the time (this loop ran 3-4× slower that way). A NaN is tracked on the side:
    every NaN wins its window (the last one seen keeps the index), as in PyTorch.
    """
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = y.shape[2:]
    for plane in range(planes[0], planes[1]):
        n, c = plane // C, plane % C
        xc = x[n, c]
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = oh * sh - ph, ow * sw - pw
                best = -np.inf
                where = max(h0, 0) * W + max(w0, 0)  # the window's first real pixel, until one wins
                nan_at = -1
                for h in range(max(h0, 0), min(h0 + KH, H)):
                    for w in range(max(w0, 0), min(w0 + KW, W)):
                        v = xc[h, w]
                        where = h * W + w if v > best else where  # strictly larger: a tie keeps the first
                        best = v if v > best else best
                        nan_at = h * W + w if v != v else nan_at
                if nan_at >= 0:
                    best, where = np.nan, nan_at
                y[n, c, oh, ow] = best
                indices[n, c, oh, ow] = where


@njit(cache=True, nogil=True)
def _max_pool_backward(dy, indices, planes, dx, bad):
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]: each window's gradient to its winner.

    An index outside the plane is skipped and counted in bad[plane] (it would write outside dx).
    """
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2:]
    for plane in range(planes[0], planes[1]):
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


@njit(cache=True, nogil=True)
def _avg_pool(x, kernel, stride, padding, planes, y):
    """y[n, c, oh, ow] = (sum of the window's real pixels) / (KH·KW)."""
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = y.shape[2:]
    area = KH * KW
    for plane in range(planes[0], planes[1]):
        n, c = plane // C, plane % C
        xc = x[n, c]
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = oh * sh - ph, ow * sw - pw
                total = 0.0  # float64 sums: exact enough for any window
                for h in range(max(h0, 0), min(h0 + KH, H)):
                    for w in range(max(w0, 0), min(w0 + KW, W)):
                        total += xc[h, w]
                y[n, c, oh, ow] = total / area


@njit(cache=True, nogil=True)
def _avg_pool_backward(dy, kernel, stride, padding, planes, dx):
    """dx[n, c, h, w] += dy[n, c, oh, ow] / (KH·KW) for every window (oh, ow) that covers pixel (h, w)."""
    N, C, H, W = dx.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = dy.shape[2:]
    area = KH * KW
    for plane in range(planes[0], planes[1]):
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


def _tasks(x_shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """Ranges of (image, channel) planes for the threads; one range when the whole job is small."""
    planes, pixels = x_shape[0] * x_shape[1], x_shape[2] * x_shape[3]
    return split(planes, 1 if planes * pixels < 1 << 16 else 4 * numba.get_num_threads())


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
    args = (x, tuple(kernel), tuple(stride), tuple(padding))
    run_tasks(_max_pool, [(*args, planes, y, indices) for planes in _tasks(x.shape)])
    return y, indices


def max_pool2d_backward(dy: np.ndarray, indices: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]"""
    if dy.shape != indices.shape or tuple(dy.shape[:2]) != tuple(x_shape[:2]):
        raise ValueError(f"max_pool2d_backward: dy {dy.shape}, indices {indices.shape} and x {tuple(x_shape)} disagree")
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    bad = np.zeros(dy.shape[0] * dy.shape[1], dtype=np.int64)
    run_tasks(_max_pool_backward, [(dy, indices, planes, dx, bad) for planes in _tasks(dx.shape)])
    if bad.any():
        raise IndexError(f"max_pool2d_backward: {bad.sum()} indices point outside the {tuple(x_shape[2:])} input plane")
    return dx


def avg_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """y[n, c, oh, ow] = 1/(KH·KW) · Σ_kh Σ_kw x_pad[n, c, oh·sh + kh, ow·sw + kw]   (padding = 0)"""
    y = np.empty(x.shape[:2] + _out_size(x.shape, kernel, stride, padding), dtype=x.dtype)
    args = (x, tuple(kernel), tuple(stride), tuple(padding))
    run_tasks(_avg_pool, [(*args, planes, y) for planes in _tasks(x.shape)])
    return y


def avg_pool2d_backward(
    dy: np.ndarray, x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dx[n, c, oh·sh + kh − ph, ow·sw + kw − pw] += dy[n, c, oh, ow] / (KH·KW)"""
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    args = (dy, tuple(kernel), tuple(stride), tuple(padding))
    run_tasks(_avg_pool_backward, [(*args, planes, dx) for planes in _tasks(dx.shape)])
    return dx

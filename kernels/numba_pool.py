"""Pooling in Numba: one loop nest per kernel, one (image, channel) plane per parallel task.

Pooling does one comparison or one addition per number it reads, so it is limited by memory,
not arithmetic: the loops below read each plane once, in order, and the planes are shared out
between the threads (``prange``) with no two threads ever writing the same plane.

Window (oh, ow) covers input rows oh·sh + kh − ph and columns ow·sw + kw − pw; the parts that
fall outside the image (the padding) are skipped: for max pooling padding is −inf and never
wins, for average pooling it is 0 but still counted in the divisor KH·KW (PyTorch's default
count_include_pad=True).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _max_pool(x, kernel, stride, padding, y, indices):
    """y[n, c, oh, ow] = max of the window; indices = h·W + w of the first maximum (a NaN wins and stays)."""
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = y.shape[2:]
    for plane in prange(N * C):
        n, c = plane // C, plane % C
        xc = x[n, c]
        for oh in range(OH):
            for ow in range(OW):
                h0, w0 = oh * sh - ph, ow * sw - pw
                best = -np.inf
                where = max(h0, 0) * W + max(w0, 0)  # the window's first real pixel, until one wins
                for h in range(max(h0, 0), min(h0 + KH, H)):
                    for w in range(max(w0, 0), min(w0 + KW, W)):
                        v = xc[h, w]
                        if v > best or np.isnan(v):  # strictly larger: on a tie the first one stays
                            best, where = v, h * W + w
                y[n, c, oh, ow] = best
                indices[n, c, oh, ow] = where


@njit(parallel=True, cache=True)
def _max_pool_backward(dy, indices, dx):
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]: each window's gradient to its winner."""
    N, C, H, W = dx.shape
    OH, OW = dy.shape[2:]
    for plane in prange(N * C):
        n, c = plane // C, plane % C
        dxc = dx[n, c].reshape(H * W)
        dxc[:] = 0
        for oh in range(OH):
            for ow in range(OW):
                dxc[indices[n, c, oh, ow]] += dy[n, c, oh, ow]


@njit(parallel=True, cache=True)
def _avg_pool(x, kernel, stride, padding, y):
    """y[n, c, oh, ow] = (sum of the window's real pixels) / (KH·KW)."""
    N, C, H, W = x.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = y.shape[2:]
    area = KH * KW
    for plane in prange(N * C):
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


@njit(parallel=True, cache=True)
def _avg_pool_backward(dy, kernel, stride, padding, dx):
    """dx[n, c, h, w] += dy[n, c, oh, ow] / (KH·KW) for every window (oh, ow) that covers pixel (h, w)."""
    N, C, H, W = dx.shape
    (KH, KW), (sh, sw), (ph, pw) = kernel, stride, padding
    OH, OW = dy.shape[2:]
    area = KH * KW
    for plane in prange(N * C):
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
    _max_pool(x, tuple(kernel), tuple(stride), tuple(padding), y, indices)
    return y, indices


def max_pool2d_backward(dy: np.ndarray, indices: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dx[n, c].flat[indices[n, c, oh, ow]] += dy[n, c, oh, ow]"""
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    _max_pool_backward(dy, indices, dx)
    return dx


def avg_pool2d_forward(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """y[n, c, oh, ow] = 1/(KH·KW) · Σ_kh Σ_kw x_pad[n, c, oh·sh + kh, ow·sw + kw]   (padding = 0)"""
    y = np.empty(x.shape[:2] + _out_size(x.shape, kernel, stride, padding), dtype=x.dtype)
    _avg_pool(x, tuple(kernel), tuple(stride), tuple(padding), y)
    return y


def avg_pool2d_backward(
    dy: np.ndarray, x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> np.ndarray:
    """dx[n, c, oh·sh + kh − ph, ow·sw + kw − pw] += dy[n, c, oh, ow] / (KH·KW)"""
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    _avg_pool_backward(dy, tuple(kernel), tuple(stride), tuple(padding), dx)
    return dx

"""The canvas: one image laid out flat, so that every row of its im2col matrix is the canvas shifted.

numba_conv.py explains the idea: with the padded image stored row after row (row length wq) and
the output pixels numbered the same way, l = oh·wq + ow, the im2col matrix of the image is
B[k, l] = canvas[koff[k] + l] for tap k = (c, kh, kw). This file builds the canvas (``_place_on_canvas``)
and the tables that say where everything sits on it (``_canvas``); the forward, backward-input
(numba_conv.py, numba_conv_lanes.py) and backward-weight (numba_conv_grad.py) kernels all read it.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from .numba_matmul import MR, tile_cols


@njit(cache=True)
def _place_on_canvas(x, place, canvas):
    """Write the image x (C, H, W) onto the flat canvas (zeros everywhere else).

    place = (rows, cols, h0, w0, plane, size, run): input row h0 + i goes to canvas offset
    rows[i], input column w0 + j to cols[j], channel c to c·plane (the tables come from _canvas;
    rows and columns that fall off the canvas are not in them); the canvas holds ``size``
    numbers. ``run`` says that the columns land next to each other (stride and dilation 1 along
    W): then a row is one contiguous copy.
    """
    rows, cols, h0, w0, plane, size, run = place
    canvas[:] = 0
    for c in range(x.shape[0]):
        for i in range(rows.size):
            src = x[c, h0 + i, w0 : w0 + cols.size]
            base = c * plane + rows[i]
            if run:
                dst = canvas[base + cols[0] : base + cols[0] + cols.size]
                for j in range(cols.size):
                    dst[j] = src[j]
            else:
                for j in range(cols.size):
                    canvas[base + cols[j]] = src[j]


@functools.lru_cache(maxsize=64)
def _canvas(x_shape, kernel, stride, out, top_left=(0, 0), dilation=(1, 1)):
    """Where everything sits on the canvas of one image: the padded (and dilated) image cut in stride phases.

    A stride-(sh, sw) convolution is a stride-1 convolution over the sh·sw phases of the padded
    image: padded pixel (i, j) is stored in phase plane (c, i mod sh, j mod sw) at (i // sh, j // sw),
    each plane hq × wq. Then window (oh, ow) starts at canvas position l = oh·wq + ow of plane 0,
    tap k = (c, kh, kw) of every window sits koff[k] further, and B[k, l] = canvas[koff[k] + l]
    holds for every stride. With stride 1 there is one plane per channel: the padded image itself.

    Returns (place, wq, koff): the placement for _place_on_canvas (with the canvas length), the
    plane row length wq, and koff. Remembered per geometry (a training loop asks for the same few
    again and again), so the tables are read-only.
    """
    C, H, W = x_shape
    (KH, KW), (sh, sw), (OH, OW) = kernel, stride, out
    (top, left), (dh, dw) = top_left, dilation
    hq, wq = -(-((OH - 1) * sh + KH) // sh), -(-((OW - 1) * sw + KW) // sw)  # the rows, columns windows reach
    plane = hq * wq
    c, kh, kw = np.meshgrid(np.arange(C), np.arange(KH), np.arange(KW), indexing="ij")
    koff = (c * sh * sw + (kh % sh) * sw + kw % sw) * plane + (kh // sh) * wq + kw // sw
    i, j = top + np.arange(H) * dh, left + np.arange(W) * dw  # where input rows and columns land
    h_in, w_in = (i >= 0) & (i < hq * sh), (j >= 0) & (j < wq * sw)
    rows = ((i % sh) * sw * plane + (i // sh) * wq)[h_in]
    cols = ((j % sw) * plane + j // sw)[w_in]
    h0, w0 = int(np.argmax(h_in)), int(np.argmax(w_in))
    run = bool(np.all(np.diff(cols) == 1))
    size = C * sh * sw * plane + wq + MR * tile_cols(4)  # slack: the last tile may read past the last plane
    rows, cols, koff = (_read_only(t.astype(np.int64)) for t in (rows, cols, koff.ravel()))
    return (rows, cols, h0, w0, sh * sw * plane, size, run), wq, koff


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a

"""ReLU and its gradient in Numba: one pass, a vector at a time, shared between the threads.

    relu(x):             y  = max(x, 0)              (NaN stays NaN, as in PyTorch)
    relu_backward(dy, y): dx = dy · [y > 0]            (y, the forward's output: [y > 0] = [x > 0])

Why these two are kernels, when NumPy writes them in one line each. A conv layer's output was
written by two threads, half of it in each core's cache; NumPy's single-threaded ``x > 0`` and
``np.maximum`` then read the other half from the other core, and the two passes (the mask for the
backward, then the max) read x twice. Measured in the seed LeNet step (batch 100, 2 threads,
cProfile): ReLU's forward was the largest single item, 0.27 ms per call, more than a conv's
forward. Here each thread does one pass over its blocks, and the backward needs no mask, since
it reads y. Blocks of BLOCK numbers are claimed by the threads one by one (numba_threads); below
STREAM_SERIAL_BELOW numbers (numba_threads) one thread does it all (waking a second costs more than it saves).

A forward step is one vector load, two lane-wise selects (``vwhere_gt``: x where x > 0, else 0;
``vwhere_nan``: keep a NaN) and one store; a backward step multiplies dy by the 0/1 vector
[y > 0] (so, as in NumPy, NaN · 0 keeps a NaN of dy). The last numbers of a block that do not
fill a vector are done one by one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numba_matmul import _slp_vectorizer
from .numba_simd import scalar_loop, vfma, vload, vsplat, vstore, vwidth, vzero
from .numba_simd_lanes import vwhere_gt, vwhere_nan
from .numba_threads import STREAM_SERIAL_BELOW, claim, run_shared

BLOCK = 1 << 14  # numbers per claimed block: 64 KiB of float32


@njit(cache=True, nogil=True)
def _relu(x, y, chunks, counter, slot):
    """y[i] = max(x[i], 0) for the blocks this thread claims (x, y flat; a NaN stays NaN)."""
    width = vwidth(x)
    zero = vzero(x)
    mine = np.zeros(2, dtype=np.int64)  # this thread's chunk: [next, end]
    block = claim(chunks, counter, mine)
    while block >= 0:
        lo, hi = block * BLOCK, min((block + 1) * BLOCK, x.size)
        whole = lo + (hi - lo) // width * width
        for i in range(lo, whole, width):
            v = vload(x, i)
            vstore(y, i, vwhere_nan(v, v, vwhere_gt(v, zero, v, zero)))
        for i in range(whole, hi):
            scalar_loop()
            y[i] = x[i] if (x[i] > 0 or x[i] != x[i]) else 0
        block = claim(chunks, counter, mine)


@njit(cache=True, nogil=True)
def _relu_backward(dy, y, dx, chunks, counter, slot):
    """dx[i] = dy[i] · [y[i] > 0] for the blocks this thread claims (flat arrays)."""
    width = vwidth(dy)
    zero, one = vzero(dy), vsplat(dy.dtype.type(1))
    mine = np.zeros(2, dtype=np.int64)
    block = claim(chunks, counter, mine)
    while block >= 0:
        lo, hi = block * BLOCK, min((block + 1) * BLOCK, dy.size)
        whole = lo + (hi - lo) // width * width
        for i in range(lo, whole, width):
            positive = vwhere_gt(vload(y, i), zero, one, zero)  # 1 where y > 0, else 0
            vstore(dx, i, vfma(vload(dy, i), positive, zero))
        for i in range(whole, hi):
            scalar_loop()
            dx[i] = dy[i] * (1 if y[i] > 0 else 0)
        block = claim(chunks, counter, mine)


def _blocks(size: int) -> tuple[int, int | None]:
    """(blocks of BLOCK numbers, threads: 1 for small arrays, else the default)."""
    return -(-size // BLOCK), (1 if size < STREAM_SERIAL_BELOW else None)


def relu(x: np.ndarray) -> np.ndarray:
    """y = max(x, 0), elementwise (NaN stays NaN); integer arrays go to NumPy (the vectors hold floats)."""
    if x.dtype.kind != "f":
        return np.maximum(x, 0)
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    blocks, threads = _blocks(x.size)
    if x.size:
        with _slp_vectorizer():
            run_shared(_relu, (x.reshape(-1), y.reshape(-1)), blocks, threads)
    return y


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dx = dy · [y > 0], elementwise, y the forward's output."""
    if dy.shape != y.shape:
        raise ValueError(f"relu_backward: dy {dy.shape} and y {y.shape} disagree")
    if dy.dtype.kind != "f" or dy.dtype != y.dtype:  # integers, or mixed dtypes: NumPy's broadcasting rules
        return dy * (y > 0)
    dy, y = np.ascontiguousarray(dy), np.ascontiguousarray(y)
    dx = np.empty_like(dy)
    blocks, threads = _blocks(dy.size)
    if dy.size:
        with _slp_vectorizer():
            run_shared(_relu_backward, (dy.reshape(-1), y.reshape(-1), dx.reshape(-1)), blocks, threads)
    return dx

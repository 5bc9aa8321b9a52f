"""The Numba backend: every kernel of the table as hand-written loops compiled by Numba for the CPU.

Table of contents:
    matmul                    numba_matmul.py  blocked, packed GEMM with a 6 × 16 register tile (BLIS's loops)
    conv2d_forward            numba_conv.py    the GEMM's micro-kernel reading im2col rows straight
    conv2d_backward_input     numba_conv.py      from the padded image ("canvas"), one image per task
    conv2d_backward_weight    numba_conv.py    dy @ im2colᵀ through the GEMM's packing, per-thread sums
    max_pool2d_forward        numba_pool.py    one loop nest per kernel, one (image, channel) plane
    max_pool2d_backward       numba_pool.py      per task
    avg_pool2d_forward        numba_pool.py
    avg_pool2d_backward       numba_pool.py

Compiled code is cached on disk (``cache=True``): the first call for a dtype compiles for a few
seconds per kernel, later processes load it in well under a second.
"""

from __future__ import annotations

import numba

from . import KernelUnavailable
from .numba_conv import conv2d_backward_input, conv2d_backward_weight, conv2d_forward
from .numba_matmul import matmul
from .numba_pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward

name = "numba"
device = "cpu"

__all__ = [
    "name",
    "device",
    "check_available",
    "matmul",
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
]


def check_available() -> None:
    """Raise KernelUnavailable if this Numba lacks what the kernels rely on (numba ≥ 0.59)."""
    if not hasattr(numba.config, "SLP_VECTORIZE") or not hasattr(numba, "get_thread_id"):
        raise KernelUnavailable(
            f"the numba backend needs numba >= 0.59 (found {numba.__version__}): pip install -U numba"
        )

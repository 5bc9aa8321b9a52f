"""The Numba backend: every kernel of the table as hand-written loops compiled by Numba for the CPU.

Table of contents:
    matmul                  numba_matmul.py  BLIS's five loops: packed blocks for L3/L2/L1, a register
                                             tile sized to the ISA (6 × 64 float32 on AVX-512, 6 × 16
                                             on AVX2) in explicit SIMD vectors (numba_simd.py)
    conv2d_forward          numba_conv.py    the matmul's micro-kernel reading im2col rows straight
    conv2d_backward_input   numba_conv.py      from the padded image (each row a shifted copy of it),
                                               or filters across a vector's lanes where that wastes
                                               less; dx as the stride-1 conv of dy with flipped filters
    conv2d_backward_weight  numba_conv_grad.py  dot products of dy rows with shifted image rows
    conv2d_backward_bias    numba_conv_grad.py  one vector sum per plane (the forward adds b while copying y out)
    max_pool2d_forward      numba_pool.py    a vector of outputs at a time from a phase canvas of the plane
    max_pool2d_backward     numba_pool.py    (the backwards: a scalar scatter of each window's gradient)
    avg_pool2d_forward      numba_pool.py
    avg_pool2d_backward     numba_pool.py
    matmul_int8             numba_int8.py    int8/uint8 × int8 → exact int32: dot products of packed
                                             rows, a 2 × 4 tile of pmaddwd (vpdpwssd with VNNI) vectors
    relu, relu_backward     numba_elementwise.py  one threaded vector pass each (the backward reads y, not a mask)
    adam_update             numba_optim.py   optional (not in the table): Adam's step in one pass

Every kernel but matmul_int8 takes float32 or float64 and shares its work between numba.get_num_threads()
threads (numba_threads.run_tasks). Compiled code is cached on disk (``cache=True``): the first
call for a dtype compiles for a few seconds per kernel (about 16 s per dtype for the whole
table here), later processes load it in well under a second.
"""

from __future__ import annotations

import numba

from . import KernelUnavailable
from .numba_conv import conv2d_backward_input, conv2d_forward
from .numba_conv_grad import conv2d_backward_bias, conv2d_backward_weight
from .numba_elementwise import relu, relu_backward
from .numba_int8 import matmul_int8
from .numba_matmul import matmul
from .numba_optim import adam_update
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
    "conv2d_backward_bias",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "matmul_int8",
    "relu",
    "relu_backward",
    "adam_update",
]


def check_available() -> None:
    """Raise KernelUnavailable if this Numba lacks what the kernels rely on (numba ≥ 0.59)."""
    if not hasattr(numba.config, "SLP_VECTORIZE") or not hasattr(numba, "get_thread_id"):
        raise KernelUnavailable(
            f"the numba backend needs numba >= 0.59 (found {numba.__version__}): pip install -U numba"
        )

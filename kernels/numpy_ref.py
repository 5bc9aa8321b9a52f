"""The NumPy reference backend: the readable version of every kernel in the table.

Other backends must agree with these functions (tests/kernels check it). Nothing here is tuned:
matmul hands the work to NumPy's BLAS; convolution and pooling are written so that their index
arithmetic reads like the definitions.
"""

from __future__ import annotations

import numpy as np

name = "numpy"
device = "cpu"


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B for (M, K) @ (K, N), or per matrix for (B, M, K) @ (B, K, N).

    By definition Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ: three nested loops (i, j, k), M·N·K multiply-adds, 2·M·N·K
    flops. NumPy's BLAS runs exactly that sum, blocked for the caches and vectorised; the Numba
    backend writes those blocks out by hand.
    """
    return np.matmul(a, b)

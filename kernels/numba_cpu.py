"""The Numba backend: every kernel of the table as hand-written loops compiled by Numba for the CPU.

The table of contents:
    matmul                       numba_matmul.py   blocked, packed, register-tiled GEMM (BLIS's loops)

Compiled code is cached on disk (``cache=True``): the first call of each dtype compiles for a few
seconds, later processes load it in milliseconds.
"""

from __future__ import annotations

from . import KernelUnavailable
from .numba_matmul import matmul

name = "numba"
device = "cpu"

__all__ = ["name", "device", "check_available", "matmul"]


def check_available() -> None:
    """Raise KernelUnavailable when Numba cannot compile for this machine."""
    try:
        import numba  # noqa: F401  (imported above already; this names the reason if not)
    except ImportError as e:  # pragma: no cover
        raise KernelUnavailable(f"the numba backend needs Numba: pip install numba ({e})") from e

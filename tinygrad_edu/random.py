"""One random generator for the whole library, so ``tge.manual_seed(n)`` makes every draw repeatable.

Draws happen on the host with NumPy and are copied to the GPU when asked for there, so a seed
gives the same numbers on "cpu" and on "cuda".
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the library's generator (initial weights, dropout, randn, shuffling)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The library's generator (use it for every random draw)."""
    return _generator

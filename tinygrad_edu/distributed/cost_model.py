r"""The α–β cost model of communication: what a message, and an all-reduce, cost.

Sending n bytes from one process to another takes about t(n) = α + n·β: α is the latency (the fixed price
of any message, however small), β the time per byte (1/bandwidth). Fit the two from timed messages of
several sizes (``fit_alpha_beta``), then predict collectives from them:

    ring all-reduce over p processes of n bytes:   2(p − 1)·α + 2(p − 1)/p · n·β

(a reduce-scatter then an all-gather, each p − 1 steps in which every rank sends n/p bytes to its neighbour).
The bandwidth term hardly grows with p — each rank sends less than 2n whatever p is — but the latency term does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fit_alpha_beta(nbytes: Sequence[float], seconds: Sequence[float]) -> tuple[float, float]:
    """α (s) and β (s/byte) of t = α + n·β from timed one-way messages, both kept ≥ 0.

    The fit minimises the *relative* error, Σᵢ ((α + nᵢβ − tᵢ)/tᵢ)²: message times span several decades
    (microseconds for 8 B, milliseconds for 8 MB), and a plain least-squares line would spend all its effort on
    the largest messages, leaving α (which only the small ones show) anywhere, often below zero. When the best
    line still has α < 0 (or β < 0), that term is set to 0 and the other refitted alone.
    """
    n, t = np.asarray(nbytes, dtype=np.float64), np.asarray(seconds, dtype=np.float64)
    if len(n) < 2 or np.ptp(n) == 0:
        raise ValueError("fit_alpha_beta needs messages of at least two different sizes")
    if np.any(t <= 0):
        raise ValueError("fit_alpha_beta needs positive times")
    w = 1.0 / t**2  # the weight of each squared residual: relative errors
    beta, alpha = np.polyfit(n, t, 1, w=1.0 / t)  # (polyfit's w multiplies the residuals: 1/tᵢ)
    if alpha < 0:  # through the origin: β minimising Σ wᵢ(nᵢβ − tᵢ)²
        alpha, beta = 0.0, float(np.sum(w * n * t) / np.sum(w * n * n))
    if beta < 0:  # a constant: α minimising Σ wᵢ(α − tᵢ)²
        alpha, beta = float(np.sum(w * t) / np.sum(w)), 0.0
    return float(alpha), float(beta)


def ring_allreduce_seconds(processes: int, nbytes: float, alpha: float, beta: float) -> float:
    """Predicted time of a ring all-reduce: 2(p − 1)·α + 2(p − 1)/p · n·β (0 for one process)."""
    p = processes
    if p < 1:
        raise ValueError(f"processes must be ≥ 1, got {p}")
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def ring_allreduce_bytes_sent(processes: int, nbytes: float) -> float:
    """Bytes each rank sends in a ring all-reduce of n bytes: 2(p − 1)/p · n."""
    return 2 * (processes - 1) / processes * nbytes

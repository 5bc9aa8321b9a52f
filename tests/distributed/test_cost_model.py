"""The α–β cost model: the fit recovers known α and β, and the ring all-reduce formula's known values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.distributed.cost_model import fit_alpha_beta, ring_allreduce_bytes_sent, ring_allreduce_seconds

SIZES = [8, 1024, 64 * 1024, 1024**2, 8 * 1024**2]  # the bench's messages


@settings(max_examples=50, deadline=None)
@given(alpha=st.floats(1e-7, 1e-4), beta=st.floats(1e-12, 1e-8), seed=st.integers(0, 2**32 - 1))
def test_the_fit_recovers_alpha_and_beta_from_messages_of_many_sizes(alpha, beta, seed):
    exact = alpha + np.array(SIZES) * beta
    assert fit_alpha_beta(SIZES, exact) == pytest.approx((alpha, beta), rel=1e-6)
    noisy = exact * (1 + np.random.default_rng(seed).uniform(-0.05, 0.05, len(SIZES)))  # ±5 % timing noise
    fitted_alpha, fitted_beta = fit_alpha_beta(SIZES, noisy)
    # the small messages pin α, the large ones β, each to about the noise
    assert fitted_beta == pytest.approx(beta, rel=0.15)
    if alpha > 20 * 1024 * beta:  # α is visible in the small messages (not drowned by the 1 KB one's n·β)
        assert fitted_alpha == pytest.approx(alpha, rel=0.15)


def test_the_fit_of_this_machines_messages_has_a_positive_latency():
    # one-way times measured here by benchmarks/distributed_bench.py (2 processes, shared memory)
    seconds = np.array([2.6, 2.6, 10.1, 98.7, 1509.4]) * 1e-6
    alpha, beta = fit_alpha_beta(SIZES, seconds)
    assert 2.0e-6 < alpha < 3.0e-6 and 0.05e-9 < beta < 0.2e-9
    plain_beta, plain_alpha = np.polyfit(SIZES, seconds, 1)  # plain least squares: the 8 MB message decides
    assert plain_alpha < -10e-6  # a latency of −20 µs: why the fit weighs relative errors


def test_the_fit_keeps_both_terms_non_negative():
    # the best line t = 0.1·n − 0.5 has α < 0: α = 0 and β = Σ wnt / Σ wn² with w = 1/t² (= 0.0628…)
    w, n, t = 1 / np.array([0.5, 1.5, 2.5]) ** 2, np.array([10, 20, 30]), np.array([0.5, 1.5, 2.5])
    assert fit_alpha_beta(n, t) == (0.0, pytest.approx(np.sum(w * n * t) / np.sum(w * n * n)))
    assert fit_alpha_beta([10, 20, 30], [3.0, 2.0, 1.0])[1] == 0.0  # falling times: no per-byte cost
    with pytest.raises(ValueError, match="two different sizes"):
        fit_alpha_beta([8, 8], [1.0, 2.0])
    with pytest.raises(ValueError, match="positive times"):
        fit_alpha_beta([8, 16], [0.0, 1.0])


def test_ring_allreduce_known_values():
    assert ring_allreduce_seconds(1, 1e6, 1e-6, 1e-9) == 0.0  # one process sends nothing
    # p = 2: 2 messages, each rank sends n/2 twice = n bytes
    assert ring_allreduce_seconds(2, 1e6, 1e-6, 1e-9) == pytest.approx(2e-6 + 1e6 * 1e-9)
    # p = 8: 14 messages of n/8 bytes
    assert ring_allreduce_seconds(8, 1e6, 1e-6, 1e-9) == pytest.approx(14e-6 + 14 / 8 * 1e6 * 1e-9)
    assert ring_allreduce_bytes_sent(8, 2_022_040) == pytest.approx(3_538_570)
    assert ring_allreduce_bytes_sent(64, 800) == pytest.approx(2 * 63 / 64 * 800)
    assert ring_allreduce_bytes_sent(64, 800) < 2 * 800  # below 2n however many ranks
    with pytest.raises(ValueError, match="processes must be"):
        ring_allreduce_seconds(0, 1.0, 1.0, 1.0)

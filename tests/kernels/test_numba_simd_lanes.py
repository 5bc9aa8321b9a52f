"""The lane-wise vector operations the pools use, against plain NumPy, on the lane count of this CPU.

Masked loads and stores touch exactly the numbers asked for (a guard band around them stays as it
was); the zips undo the even/odd split; the NaN-aware select carries a running max as PyTorch does.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")
from numba import njit  # noqa: E402
from tinygrad_edu.kernels.numba_simd import lanes, vload, vstore, vzero  # noqa: E402
from tinygrad_edu.kernels.numba_simd_lanes import (  # noqa: E402
    vcount_eq,
    veven,
    vload_first,
    vodd,
    vramp,
    vstore_first,
    vwhere_eq,
    vwhere_gt_or_nan,
    vzip_hi,
    vzip_lo,
)

L = lanes(4)  # float32 lanes: 16 with AVX-512, 8 with AVX2, 4 with SSE


@njit
def _copy_first(src, i, dst, j, n):
    vstore_first(dst, j, vload_first(src, i, vzero(dst), n), n)


@njit
def _widen_first(src32, dst64, n, like):
    vstore_first(dst64, 0, vload_first(src32, 0, vzero(like), n), n)


@njit
def _zip_round_trip(x, out):
    a, b = vload(x, 0), vload(x, L)
    even, odd = veven(a, b), vodd(a, b)
    vstore(out, 0, vzip_lo(even, odd))
    vstore(out, L, vzip_hi(even, odd))


@njit
def _running_max(values, best_out, win_out, ints):
    best, win = vload(values, 0), vramp(ints, 0, 0)
    for t in range(1, values.size // L):
        v = vload(values, t * L)
        win = vwhere_gt_or_nan(v, best, vramp(ints, t, 0), win)
        best = vwhere_gt_or_nan(v, best, v, best)
    vstore(best_out, 0, best)
    vstore(win_out, 0, win)


@njit
def _match(a, b, x):
    va, vb = vload(a, 0), vload(b, 0)
    vstore(x, 0, vwhere_eq(va, vb, vload(x, 0), vzero(x)))
    return vcount_eq(va, vb)


@pytest.mark.parametrize("n", [0, 1, L // 2, L - 1, L])
def test_masked_load_and_store_touch_exactly_n_numbers(n):
    src = np.arange(1, 4 * L + 1, dtype=np.float32)
    dst = np.full(4 * L, -7.0, np.float32)
    _copy_first(src, 3, dst, L, n)
    want = np.full(4 * L, -7.0, np.float32)
    want[L : L + n] = src[3 : 3 + n]
    np.testing.assert_array_equal(dst, want)


def test_a_masked_load_at_the_very_end_of_an_array_reads_nothing_past_it():
    src = np.arange(5, dtype=np.float32)  # far shorter than a vector
    dst = np.zeros(L, np.float32)
    _copy_first(src, 2, dst, 0, 3)
    np.testing.assert_array_equal(dst[:4], [2, 3, 4, 0])


def test_a_masked_store_widens_int32_lanes_to_int64():
    src = np.array([-3, 2**31 - 1, -(2**31)] + [9] * (L - 3), np.int32)
    dst = np.full(L, 99, np.int64)
    _widen_first(src, dst, 3, np.zeros(L, np.float32))
    np.testing.assert_array_equal(dst, [-3, 2**31 - 1, -(2**31)] + [99] * (L - 3))


def test_zips_undo_the_even_odd_split():
    x = np.arange(2 * L, dtype=np.float32)
    out = np.zeros(2 * L, np.float32)
    _zip_round_trip(x, out)
    np.testing.assert_array_equal(out, x)


def test_running_max_keeps_the_first_of_ties_and_the_last_nan():
    windows = [[1, 5, 5, -np.inf], [np.nan, 2, np.nan, 3], [-np.inf] * 4, [0, 0, 7, 0]]  # 4 taps each
    values = np.array([np.resize([w[t] for w in windows], L) for t in range(4)], np.float32)  # tap t's vector
    best, win = np.zeros(L, np.float32), np.zeros(L, np.int32)
    _running_max(values.reshape(-1), best, win, np.zeros(L, np.int32))
    lane = np.arange(L) % 4  # lane i holds window i mod 4
    want_best = np.array([5, np.nan, -np.inf, 7], np.float32)[lane]
    want_win = np.array([1, 2, 0, 2])[lane]  # tie 5 = 5 keeps tap 1; NaN at taps 0 and 2: the last wins
    np.testing.assert_array_equal(best, want_best)
    np.testing.assert_array_equal(win, want_win)


def test_integer_match_selects_and_counts():
    a = np.arange(lanes(8), dtype=np.int64)
    b = a + (a % 2 == 0)  # equal in the odd lanes only
    x = np.arange(1, a.size + 1, dtype=np.float64)
    assert _match(a, b, x) == a.size // 2
    np.testing.assert_array_equal(x, np.where(a % 2 == 1, a + 1, 0))

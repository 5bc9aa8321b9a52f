"""The Numba pools on the shapes they meet in LeNet and on their edge cases, against the NumPy reference.

The hypothesis-drawn geometries are in test_agreement.py; here: the 2×2 kernels (2×2 windows,
stride 2, no padding, even width: straight from x, no canvas; and their backward when the windows
tile the plane), planes wider than two vectors, padding with a row that the windows never reach,
NaN and −inf windows, float64's lanes, and indices that the forward did not make.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import kernels

numba_cpu = kernels.get("numba")
ref = kernels.get("numpy")

CASES = [
    ((3, 6, 28, 28), (2, 2), (2, 2), (0, 0)),  # LeNet's first pool: the even/odd fast path
    ((2, 16, 10, 10), (2, 2), (2, 2), (0, 0)),  # LeNet's second
    ((1, 2, 9, 70), (2, 2), (2, 2), (0, 0)),  # odd height, a row wider than two vectors
    ((1, 2, 11, 37), (3, 3), (2, 2), (1, 1)),  # padding: the general phase copy
    ((2, 3, 13, 13), (3, 2), (1, 3), (1, 0)),  # stride 1 down, 3 across
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_pools_agree_with_the_reference(shape, kernel, stride, padding, dtype):
    x = np.random.default_rng(0).permutation(np.prod(shape)).reshape(shape).astype(dtype)  # no ties
    y, indices = numba_cpu.max_pool2d_forward(x, kernel, stride, padding)
    want_y, want_indices = ref.max_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(indices, want_indices)
    mean = numba_cpu.avg_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_allclose(mean, ref.avg_pool2d_forward(x, kernel, stride, padding), rtol=1e-6)


def test_max_pool_nan_wins_and_an_all_minus_inf_window_points_at_its_first_pixel():
    x = np.zeros((1, 1, 4, 36), np.float32)
    x[0, 0, 1, 3] = np.nan  # window (0, 1)
    x[0, 0, 2:4, 4:6] = -np.inf  # window (1, 2): all −inf
    y, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    want_y, want_indices = ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(indices, want_indices)
    assert np.isnan(y[0, 0, 0, 1]) and indices[0, 0, 0, 1] == 1 * 36 + 3
    assert y[0, 0, 1, 2] == -np.inf and indices[0, 0, 1, 2] == 2 * 36 + 4


def test_pools_of_a_non_contiguous_input():
    x = np.random.default_rng(1).standard_normal((2, 3, 12, 16)).astype(np.float32).transpose(0, 1, 3, 2)
    y, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    want_y, want_indices = ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(indices, want_indices)


TILED = [(3, 6, 28, 28), (2, 16, 10, 10), (1, 2, 8, 70), (2, 1, 2, 2), (1, 3, 4, 36)]  # LeNet's, wide, tiny


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", TILED)
def test_the_2x2_backward_routes_each_gradient_to_its_winner(shape, dtype):
    rng = np.random.default_rng(2)
    x = rng.permutation(np.prod(shape)).reshape(shape).astype(dtype)
    _, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    dy = rng.standard_normal(indices.shape).astype(dtype)
    got = numba_cpu.max_pool2d_backward(dy, indices, shape)
    np.testing.assert_array_equal(got, ref.max_pool2d_backward(dy, indices, shape))
    assert np.count_nonzero(got) == dy.size  # one pixel per window, every other pixel exactly 0


def test_the_2x2_backward_gives_indices_outside_their_window_the_scatter_meaning():
    shape = (2, 3, 6, 8)
    dy = np.random.default_rng(3).standard_normal((2, 3, 3, 4)).astype(np.float32)
    indices = np.zeros(dy.shape, np.int64)  # every window points at pixel 0 of its plane: all gradients pile up there
    got = numba_cpu.max_pool2d_backward(dy, indices, shape)
    np.testing.assert_allclose(got, ref.max_pool2d_backward(dy, indices, shape), rtol=1e-6)
    np.testing.assert_allclose(got[:, :, 0, 0], dy.sum(axis=(2, 3)), rtol=1e-5)
    indices[1, 2, 0, 0] = 6 * 8  # one past the plane
    with pytest.raises(IndexError, match="1 indices point outside"):
        numba_cpu.max_pool2d_backward(dy, indices, shape)


def test_the_2x2_kernels_take_non_contiguous_gradients_and_odd_heights():
    x = np.random.default_rng(4).permutation(2 * 3 * 9 * 12).reshape(2, 3, 9, 12).astype(np.float32)
    y, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))  # the 9th row is in no window
    want_y, want_indices = ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(indices, want_indices)
    dy = np.asfortranarray(np.random.default_rng(5).standard_normal(y.shape).astype(np.float32))
    got = numba_cpu.max_pool2d_backward(dy, indices, x.shape)  # not tiled (odd height): the scatter
    np.testing.assert_array_equal(got, ref.max_pool2d_backward(dy, indices, x.shape))
    tiled = x[:, :, :8]
    _, indices = numba_cpu.max_pool2d_forward(tiled, (2, 2), (2, 2), (0, 0))
    got = numba_cpu.max_pool2d_backward(dy, indices, tiled.shape)  # tiled, dy in Fortran order
    np.testing.assert_array_equal(got, ref.max_pool2d_backward(dy, indices, tiled.shape))

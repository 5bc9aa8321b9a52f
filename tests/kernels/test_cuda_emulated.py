"""The CUDA backend run on the CPU: kernels/cuda/*.cu compiled with g++ (tests/kernels/cuda_emu.h),
launched by the real kernels/cupy_cuda.py with NumPy arrays standing in for CuPy's.

This runs every index of every kernel and every grid/block computation of the Python side
without a GPU, and checks each launch's arguments against the kernels' C signatures. It
cannot show GPU timing, the memory model or warp behaviour: tests/kernels/test_cuda.py does
that on a GPU. Shapes are small because each CUDA thread is an OS thread here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tinygrad_edu.kernels import cupy_cuda, numpy_ref

from tests.kernels import cuda_emu

pytestmark = pytest.mark.skipif(cuda_emu.compiler() is None, reason="the CPU emulation of the CUDA kernels needs g++")


@pytest.fixture(scope="module")
def emulated_modules(request, tmp_path_factory):
    """The four .cu files, built once (and kept in pytest's cache until a source changes)."""
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    build_dir = cache.mkdir("cuda_emu") if cache is not None else tmp_path_factory.mktemp("cuda_emu")
    files = ("sgemm.cu", "im2col.cu", "pool.cu", "gemm_int8.cu")
    return cuda_emu.build([cupy_cuda.CUDA_DIR / f for f in files], build_dir)


@pytest.fixture
def backend(emulated_modules, monkeypatch):
    """kernels/cupy_cuda.py with NumPy as its array module and the emulated kernels as its modules."""
    monkeypatch.setattr(cupy_cuda, "cp", np)
    monkeypatch.setattr(cupy_cuda, "_kernels", {})
    monkeypatch.setattr(cupy_cuda, "_compile", emulated_modules.__getitem__)
    monkeypatch.setattr(cupy_cuda, "_address", lambda a: a.ctypes.data)
    for module in emulated_modules.values():
        for kernel in module.kernels.values():
            kernel.launches.clear()
    return cupy_cuda


def launched(modules, file):
    """{kernel name: number of launches} in one emulated module."""
    return {name: len(k.launches) for name, k in modules[file].kernels.items() if k.launches}


def close(actual, expected, reduction_length):
    """Agreement to rounding: the tolerance grows with the length of the sums."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    eps = np.finfo(expected.dtype).eps
    tol = 8 * eps * max(reduction_length, 1) * max(1.0, float(np.abs(expected).max(initial=0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------------
# GEMM
# ---------------------------------------------------------------------------------------------


def stored(rng, shape, dtype, transposed):
    """A (rows, cols) matrix, stored row-major, or column-major (the .T of a row-major array)."""
    if transposed:
        return randn(rng, shape[::-1], dtype).T
    return randn(rng, shape, dtype)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize(("m", "k", "n", "vec"), [(132, 20, 136, True), (129, 19, 131, False)])
def test_matmul_float32_every_layout(backend, emulated_modules, trans_a, trans_b, m, k, n, vec):
    rng = np.random.default_rng(m + 2 * trans_a + trans_b)
    a, b = stored(rng, (m, k), np.float32, trans_a), stored(rng, (k, n), np.float32, trans_b)
    close(backend.matmul(a, b), a @ b, k)
    name = f"gemm_f32_{'nt'[trans_a]}{'nt'[trans_b]}{'_vec' if vec else ''}"
    assert launched(emulated_modules, "sgemm.cu") == {name: 1}  # read in place: no copy, the right kernel


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_matmul_float64_every_layout(backend, trans_a, trans_b):
    rng = np.random.default_rng(5)
    a, b = stored(rng, (70, 9), np.float64, trans_a), stored(rng, (9, 65), np.float64, trans_b)
    close(backend.matmul(a, b), a @ b, 9)


@pytest.mark.parametrize(("m", "k", "n"), [(1, 1, 1), (1, 7, 1), (3, 1, 5), (4, 4, 4), (2, 0, 3), (0, 3, 2)])
def test_matmul_tiny_and_empty(backend, m, k, n):
    rng = np.random.default_rng(1)
    a, b = randn(rng, (m, k), np.float32), randn(rng, (k, n), np.float32)
    close(backend.matmul(a, b), a @ b, k)


@settings(max_examples=6)
@given(
    m=st.integers(1, 140), k=st.integers(1, 40), n=st.integers(1, 140), dtype=st.sampled_from([np.float32, np.float64])
)
def test_matmul_drawn_shapes(emulated_modules, m, k, n, dtype):
    rng = np.random.default_rng(m * 1000 + n)
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cupy_cuda, "cp", np)
        mp.setattr(cupy_cuda, "_kernels", {})
        mp.setattr(cupy_cuda, "_compile", emulated_modules.__getitem__)
        mp.setattr(cupy_cuda, "_address", lambda a: a.ctypes.data)
        close(cupy_cuda.matmul(a, b), a @ b, k)


def test_matmul_batched_with_a_shared_matrix(backend):
    rng = np.random.default_rng(2)
    a = np.broadcast_to(randn(rng, (6, 5), np.float32), (3, 6, 5))  # batch stride 0, as conv's filters
    b = randn(rng, (3, 5, 7), np.float32)
    close(backend.matmul(a, b), a @ b, 5)
    x, y = randn(rng, (3, 8, 4), np.float64), randn(rng, (3, 8, 2), np.float64)
    close(backend.matmul(x.swapaxes(1, 2), y), x.swapaxes(1, 2) @ y, 8)  # transposed per matrix, read in place


def test_matmul_copies_strided_inputs(backend):
    rng = np.random.default_rng(3)
    a = randn(rng, (10, 12), np.float32)[::2, ::3]  # neither row- nor column-major
    b = randn(rng, (4, 6), np.float32)
    close(backend.matmul(a, b), a @ b, 4)


def test_matmul_splits_big_grids_into_several_launches(backend, emulated_modules, monkeypatch):
    """Batches past gridDim.z's limit and rows past gridDim.y's go out in several launches."""
    monkeypatch.setattr(cupy_cuda, "MAX_GRID_YZ", 2)  # pretend the limit is 2 blocks
    rng = np.random.default_rng(4)
    a, b = randn(rng, (3, 300, 6), np.float32), randn(rng, (3, 6, 5), np.float32)
    close(backend.matmul(a, b), a @ b, 6)
    launches = emulated_modules["sgemm.cu"].kernels["gemm_f32_nn"].launches
    assert [grid for grid, _ in launches] == [(1, 2, 2), (1, 1, 2), (1, 2, 1), (1, 1, 1)]


def test_matmul_refuses_mismatched_arguments(backend):
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        backend.matmul(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        backend.matmul(np.zeros((2, 3), np.int64), np.zeros((3, 5), np.int64))


# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------

CONVS = [
    # (N, C, H, W), (F, KH, KW), stride, padding
    ((2, 3, 9, 8), (4, 3, 2), (2, 1), (1, 0)),
    ((1, 2, 7, 7), (3, 3, 3), (1, 1), (1, 1)),
    ((3, 1, 5, 6), (2, 5, 4), (1, 2), (0, 1)),
    ((2, 3, 8, 8), (5, 1, 1), (3, 3), (0, 0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "fk", "stride", "padding"), CONVS)
def test_conv2d_matches_numpy_reference(backend, dtype, x_shape, fk, stride, padding):
    rng = np.random.default_rng(sum(x_shape))
    x = randn(rng, x_shape, dtype)
    w = randn(rng, (fk[0], x_shape[1], fk[1], fk[2]), dtype)
    y = backend.conv2d_forward(x, w, stride, padding)
    expected = numpy_ref.conv2d_forward(x, w, stride, padding)
    close(y, expected, w[0].size)
    dy = randn(rng, expected.shape, dtype)
    close(
        backend.conv2d_backward_input(dy, w, x.shape, stride, padding),
        numpy_ref.conv2d_backward_input(dy, w, x.shape, stride, padding),
        w.shape[0] * w.shape[2] * w.shape[3],
    )
    close(
        backend.conv2d_backward_weight(dy, x, w.shape, stride, padding),
        numpy_ref.conv2d_backward_weight(dy, x, w.shape, stride, padding),
        dy.shape[0] * dy.shape[2] * dy.shape[3],
    )


def test_conv2d_runs_big_batches_in_chunks(backend, emulated_modules, monkeypatch):
    monkeypatch.setattr(cupy_cuda, "COLS_LIMIT", 2 * 3 * 9 * 36)  # room for the cols of 2 images
    rng = np.random.default_rng(6)
    x, w = randn(rng, (5, 3, 6, 6), np.float32), randn(rng, (2, 3, 3, 3), np.float32)
    stride, padding = (1, 1), (1, 1)
    y = backend.conv2d_forward(x, w, stride, padding)
    close(y, numpy_ref.conv2d_forward(x, w, stride, padding), 27)
    dy = randn(rng, y.shape, np.float32)
    close(
        backend.conv2d_backward_input(dy, w, x.shape, stride, padding),
        numpy_ref.conv2d_backward_input(dy, w, x.shape, stride, padding),
        18,
    )
    close(
        backend.conv2d_backward_weight(dy, x, w.shape, stride, padding),
        numpy_ref.conv2d_backward_weight(dy, x, w.shape, stride, padding),
        5 * 36,
    )
    assert launched(emulated_modules, "im2col.cu") == {"im2col_f32": 6, "col2im_f32": 3}  # 3 chunks: 2 + 2 + 1


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

POOLS = [
    # (N, C, H, W), kernel, stride, padding
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)),
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 1)),  # overlapping windows and padding
    ((1, 2, 7, 5), (3, 3), (1, 1), (1, 1)),
    ((2, 1, 5, 6), (5, 4), (3, 2), (2, 0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "kernel", "stride", "padding"), POOLS)
def test_pools_match_numpy_reference(backend, dtype, x_shape, kernel, stride, padding):
    rng = np.random.default_rng(sum(x_shape))
    x = randn(rng, x_shape, dtype)
    y, indices = backend.max_pool2d_forward(x, kernel, stride, padding)
    y_ref, indices_ref = numpy_ref.max_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(indices, indices_ref)
    assert indices.dtype == np.int64
    dy = randn(rng, y_ref.shape, dtype)
    close(backend.max_pool2d_backward(dy, indices, x.shape), numpy_ref.max_pool2d_backward(dy, indices_ref, x.shape), 9)
    close(
        backend.avg_pool2d_forward(x, kernel, stride, padding),
        numpy_ref.avg_pool2d_forward(x, kernel, stride, padding),
        kernel[0] * kernel[1],
    )
    close(
        backend.avg_pool2d_backward(dy, x.shape, kernel, stride, padding),
        numpy_ref.avg_pool2d_backward(dy, x.shape, kernel, stride, padding),
        kernel[0] * kernel[1],
    )


def test_max_pool_ties_pick_the_first_and_nan_wins(backend):
    x = np.array([[[[1, 3, 3, 0], [3, 2, np.nan, 1], [0, 0, 0, 0], [0, 0, 0, 0]]]], dtype=np.float32)
    y, indices = backend.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(indices[0, 0], [[1, 6], [8, 10]])  # the first 3; the NaN; the first 0s
    assert y[0, 0, 0, 0] == 3 and np.isnan(y[0, 0, 0, 1]) and y[0, 0, 1, 0] == 0


def test_max_pool_backward_adds_where_windows_overlap(backend):
    x = np.zeros((1, 1, 3, 3), dtype=np.float64)
    x[0, 0, 1, 1] = 5.0  # the centre wins all four 2×2 windows of stride 1
    y, indices = backend.max_pool2d_forward(x, (2, 2), (1, 1), (0, 0))
    dx = backend.max_pool2d_backward(np.ones_like(y), indices, x.shape)
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


# ---------------------------------------------------------------------------------------------
# int8 GEMM (gemm_int8.cu): exact, so compared with ==
# ---------------------------------------------------------------------------------------------


def int8s(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


@pytest.mark.parametrize("a_dtype", [np.int8, np.uint8])
@pytest.mark.parametrize(("m", "k", "n"), [(1, 1, 1), (3, 5, 2), (64, 32, 64), (65, 33, 70), (7, 70, 129)])
def test_matmul_int8_exact_at_tile_edges(backend, emulated_modules, a_dtype, m, k, n):
    """K not a multiple of 4 or 32 (padded bytes), M and N just past a 64-tile (rows and columns not written)."""
    rng = np.random.default_rng(m * 100 + k)
    a, b = int8s(rng, (m, k), a_dtype), int8s(rng, (k, n), np.int8)
    got = backend.matmul_int8(a, b)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, numpy_ref.matmul_int8(a, b))
    name = "gemm_u8s8" if a_dtype == np.uint8 else "gemm_s8s8"
    assert launched(emulated_modules, "gemm_int8.cu") == {name: 1}
    grid, block = emulated_modules["gemm_int8.cu"].kernels[name].launches[0]
    assert grid == (-(-n // 64), -(-m // 64), 1) and block == (256, 1, 1)


@pytest.mark.parametrize("a_value", [-128, 127, 0, 255])
def test_matmul_int8_extreme_values(backend, a_value):
    """The largest products (255 · −128, −128 · −128): the uint8 shift by 128 and its correction are exact."""
    dtype = np.uint8 if a_value in (0, 255) else np.int8
    a = np.full((5, 200), a_value, dtype=dtype)
    b = np.full((200, 3), -128, dtype=np.int8)
    b[:, 1] = 127
    got = backend.matmul_int8(a, b)
    np.testing.assert_array_equal(got, numpy_ref.matmul_int8(a, b))
    assert got[0, 0] == a_value * -128 * 200


@pytest.mark.parametrize(("m", "k", "n"), [(0, 3, 2), (2, 0, 3), (3, 4, 0)])
def test_matmul_int8_empty(backend, emulated_modules, m, k, n):
    a, b = np.ones((m, k), np.int8), np.ones((k, n), np.int8)
    got = backend.matmul_int8(a, b)
    assert got.shape == (m, n) and got.dtype == np.int32 and not got.any()
    assert launched(emulated_modules, "gemm_int8.cu") == {}  # nothing to compute: no launch


def test_matmul_int8_copies_strided_inputs_and_splits_tall_grids(backend, emulated_modules, monkeypatch):
    monkeypatch.setattr(cupy_cuda, "MAX_GRID_YZ", 2)  # pretend gridDim.y stops at 2 blocks: 150 rows need 2 launches
    rng = np.random.default_rng(6)
    a = int8s(rng, (300, 20), np.uint8)[::2, ::2]  # (150, 10), neither row- nor column-major
    b = int8s(rng, (10, 9), np.int8).T.copy().T  # column-major
    np.testing.assert_array_equal(backend.matmul_int8(a, b), numpy_ref.matmul_int8(a, b))
    launches = emulated_modules["gemm_int8.cu"].kernels["gemm_u8s8"].launches
    assert [grid for grid, _ in launches] == [(1, 2, 1), (1, 1, 1)]


def test_matmul_int8_refuses_wrong_dtypes_and_shapes(backend):
    with pytest.raises(TypeError, match="int8 or uint8 @ int8"):
        backend.matmul_int8(np.ones((2, 2), np.int8), np.ones((2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 2\)"):
        backend.matmul_int8(np.ones((2, 3), np.int8), np.ones((2, 2), np.int8))

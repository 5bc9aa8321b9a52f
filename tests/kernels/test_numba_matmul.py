"""The Numba matmul against the NumPy reference: odd shapes, both dtypes, views, blocking edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinygrad_edu.kernels import numba_matmul, numba_threads, numpy_ref

import tinygrad_edu as tge

numba_cpu = tge.kernels.get("numba")

# 1, primes, and sizes on either side of the register tile (6 × 16 float32, 6 × 8 float64).
SIDES = st.sampled_from([1, 2, 3, 5, 6, 7, 8, 9, 13, 15, 16, 17, 23, 31, 33])


def assert_close_to_reference(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """|C − A@B| ≤ 8·√K·eps·(|A|@|B|): rounding grows like √K times the size of the terms summed."""
    k = a.shape[-1]
    exact = numpy_ref.matmul(a.astype(np.float64), b.astype(np.float64))
    scale = numpy_ref.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    atol = 8 * np.sqrt(k) * np.finfo(a.dtype).eps * scale + np.finfo(a.dtype).tiny
    assert c.shape == exact.shape and c.dtype == a.dtype
    np.testing.assert_array_less(np.abs(c - exact), atol)


def view(x: np.ndarray, kind: str) -> np.ndarray:
    """The same values as x, laid out as a C array, a transposed view or a strided slice."""
    if kind == "transposed":
        return np.ascontiguousarray(x.swapaxes(-1, -2)).swapaxes(-1, -2)
    if kind == "strided":
        big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
        big[..., ::2] = x
        return big[..., ::2]
    return x


LAYOUTS = st.sampled_from(["contiguous", "transposed", "strided"])
DTYPES = st.sampled_from([np.float32, np.float64])


@given(m=SIDES, k=SIDES, n=SIDES, dtype=DTYPES, a_layout=LAYOUTS, b_layout=LAYOUTS, seed=st.integers(0, 2**16))
def test_matmul_2d_agrees_with_reference(m, k, n, dtype, a_layout, b_layout, seed):
    rng = np.random.default_rng(seed)
    a = view(rng.uniform(-3, 3, (m, k)).astype(dtype), a_layout)
    b = view(rng.uniform(-3, 3, (k, n)).astype(dtype), b_layout)
    assert_close_to_reference(numba_cpu.matmul(a, b), a, b)


@given(
    batch=st.sampled_from([1, 2, 3]), m=SIDES, k=SIDES, n=SIDES, dtype=DTYPES, a_layout=LAYOUTS, seed=st.integers(0, 99)
)
def test_matmul_batched_agrees_with_reference(batch, m, k, n, dtype, a_layout, seed):
    # batch 1 goes through the threads-split-M path, batch ≥ 2 through the one-matrix-per-thread path
    rng = np.random.default_rng(seed)
    a = view(rng.uniform(-3, 3, (batch, m, k)).astype(dtype), a_layout)
    b = rng.uniform(-3, 3, (batch, k, n)).astype(dtype)
    assert_close_to_reference(numba_cpu.matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        # Past SERIAL_BELOW multiply-adds: row ranges of C on each thread; more than one A block
        # (MC) per range and two K slices (KC = 256), ragged everywhere.
        ((311, 263), (263, 37)),
        ((1, 300), (300, 1)),  # a dot product
        ((13, 1), (1, numba_matmul.NC + 11)),  # K = 1; N past one B block (NC)
        ((7, 2 * numba_matmul.KC + 3), (2 * numba_matmul.KC + 3, 70)),  # three K slices, the last one ragged
        ((3, 70, 90), (3, 90, 80)),  # a stack past SERIAL_BELOW: whole matrices per thread
        ((1, 150, 90), (1, 90, 80)),  # a stack of one: row ranges
        ((50, 200), (200, 333)),  # wider than tall: column ranges (a multiple of NR), the last ragged
        ((1, 60, 90), (1, 90, 300)),  # a stack of one, column ranges
    ],
)
@pytest.mark.parametrize("b_transposed", [False, True])
def test_matmul_across_block_edges_and_thread_splits(shape_a, shape_b, dtype, b_transposed, monkeypatch):
    monkeypatch.setattr(numba_matmul, "SERIAL_BELOW", 1 << 20)  # these small products on every thread too
    monkeypatch.setattr(numba_matmul.numba, "get_num_threads", lambda: 3)  # three ranges, whatever the machine
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a).astype(dtype), rng.standard_normal(shape_b).astype(dtype)
    if b_transposed:  # B given as the transpose of a C-contiguous array (x @ W.T in a Linear layer)
        b = np.ascontiguousarray(b.swapaxes(-1, -2)).swapaxes(-1, -2)
    assert_close_to_reference(numba_cpu.matmul(a, b), a, b)


def test_run_tasks_runs_every_task_once_and_split_covers_the_range():
    done = []
    numba_threads.run_tasks(lambda i: done.append(i), [(i,) for i in range(7)])
    assert sorted(done) == list(range(7))
    assert numba_threads.split(10, 4) == [(0, 2), (2, 5), (5, 7), (7, 10)]
    assert numba_threads.split(2, 8) == [(0, 1), (1, 2)]


def test_matmul_known_values_and_empty_shapes():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    b = np.array([[5.0, 6.0], [7.0, 8.0]], dtype=np.float32)
    np.testing.assert_array_equal(numba_cpu.matmul(a, b), [[19.0, 22.0], [43.0, 50.0]])
    assert numba_cpu.matmul(np.ones((3, 0)), np.ones((0, 4))).tolist() == np.zeros((3, 4)).tolist()
    assert numba_cpu.matmul(np.ones((0, 5)), np.ones((5, 4))).shape == (0, 4)


def test_matmul_propagates_nan_and_inf_like_numpy():
    a = np.array([[np.nan, 1.0], [1.0, 1.0]], dtype=np.float32)
    b = np.array([[1.0, 1.0], [np.inf, 1.0]], dtype=np.float32)
    np.testing.assert_array_equal(np.isnan(numba_cpu.matmul(a, b)), np.isnan(a @ b))


def test_matmul_rejects_mixed_dtypes_and_bad_shapes():
    with pytest.raises(TypeError, match="float32"):
        numba_cpu.matmul(np.ones((2, 2), np.float32), np.ones((2, 2), np.float64))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        numba_cpu.matmul(np.ones((2, 3)), np.ones((2, 3)))


def test_tile_constants_follow_the_vector_registers():
    # NV vectors of VECTOR_BYTES per tile row: 2 with 16 registers, 4 with AVX-512's 32
    from tinygrad_edu.kernels import numba_simd

    nv = 4 if numba_simd.VECTOR_REGISTERS >= 32 else 2
    assert numba_matmul.NV == nv
    assert numba_matmul.tile_cols(4) == nv * numba_simd.VECTOR_BYTES // 4 == 2 * numba_matmul.tile_cols(8)
    assert numba_matmul.NC % numba_matmul.tile_cols(4) == 0
    assert numba_matmul.block_rows(4) % numba_matmul.MR == 0


@pytest.mark.parametrize(
    "x_shape, y_shape", [((3, 5), (5, 4)), ((2, 3, 5), (5,)), ((5,), (2, 5, 3)), ((2, 1, 3, 4), (3, 4, 2))]
)
def test_matmul_op_gradcheck_through_numba(x_shape, y_shape):
    rng = np.random.default_rng(1)
    x = tge.tensor(rng.standard_normal(x_shape), requires_grad=True)
    y = tge.tensor(rng.standard_normal(y_shape), requires_grad=True)
    with tge.kernels.use("numba"):
        assert tge.gradcheck(lambda x, y: x @ y, [x, y])


# The assembly of the micro-kernel (packed FMAs of the widest width, no gathers, no stack traffic), for
# every listed CPU name and the host: tests/kernels/test_numba_asm.py.


def test_run_tasks_raises_a_tasks_error_after_the_running_tasks_end():
    import numba

    if numba.get_num_threads() < 2:
        pytest.skip("needs 2 threads")
    done = []

    def task(i):
        if i == 1:
            raise ValueError("task 1 failed")
        done.append(i)

    with pytest.raises(ValueError, match="task 1 failed"):
        numba_threads.run_tasks(task, [(i,) for i in range(2)])
    assert set(done) <= {0}  # task 0 ran, or never started once task 1 had failed

"""Every kernel backend agrees with the NumPy reference, function by function of the table.

One parametrised module: each backend other than "numpy" is a parameter, and a backend that
cannot run here (not installed, no GPU) is skipped with its reason, never failed. Inputs are drawn
by hypothesis: batch 1, sides that are 1, primes or odd, kernels of 1, stride 2, padding, sizes
that are not multiples of any tile, float32 and float64. The tolerance grows with the length L
of the sum behind each output (values lie in [−1, 1], so rounding error grows about like L·ε).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies_conv import convs, distinct, pools, uniform
from tinygrad_edu import kernels
from tinygrad_edu.device import to_device

DTYPES = st.sampled_from([np.float32, np.float64])
ref = kernels.get("numpy")  # the reference every backend must match
MATMUL_SIDES = st.sampled_from([1, 2, 3, 5, 7, 13, 17, 31, 33, 64, 65, 100])


def _param(name: str):
    return pytest.param(name, marks=pytest.mark.gpu) if kernels.DEVICE[name] == "cuda" else name


OTHER_BACKENDS = [_param(name) for name in kernels.NAMES if name != "numpy"]


def _backend_or_skip(name: str):
    try:
        return kernels.get(name)
    except kernels.KernelUnavailable as e:
        pytest.skip(f"kernel backend {name!r} is not available here: {e}")


@pytest.fixture(scope="module", params=OTHER_BACKENDS)
def backend(request):
    """A backend to compare with the reference (skipped where it cannot run)."""
    return _backend_or_skip(request.param)


def on(backend, *arrays):
    """The arrays moved to the backend's device."""
    return [to_device(a, backend.device) for a in arrays]


def assert_agrees(got, want: np.ndarray, length: int) -> None:
    """got equals want up to rounding in a sum of ``length`` terms of size ≤ 1 (and same dtype, shape)."""
    got = to_device(got, "cpu")
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    tol = 8 * length * np.finfo(want.dtype).eps
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# ---- the table is complete --------------------------------------------------------------------------


@pytest.mark.parametrize("name", [_param(name) for name in kernels.NAMES])
def test_every_table_function_exists_in_every_available_backend(name):
    module = _backend_or_skip(name)
    assert module.name == name and module.device == kernels.DEVICE[name]
    missing = [f for f in kernels.TABLE if not callable(getattr(module, f, None))]
    assert not missing, f"backend {name!r} lacks {missing}"


# ---- matmul -----------------------------------------------------------------------------------------


@given(data=st.data())
def test_matmul_agrees(backend, data):
    M, K, N = (data.draw(MATMUL_SIDES) for _ in "mkn")
    batch = data.draw(st.sampled_from([(), (1,), (3,)]))
    dtype = data.draw(DTYPES)
    a, b = uniform(data.draw, (*batch, M, K), dtype), uniform(data.draw, (*batch, K, N), dtype)
    if data.draw(st.booleans()):  # non-contiguous views are allowed: the same numbers, transposed layout
        a = np.ascontiguousarray(a.swapaxes(-1, -2)).swapaxes(-1, -2)
    assert_agrees(backend.matmul(*on(backend, a, b)), ref.matmul(a, b), K)


# ---- convolution ------------------------------------------------------------------------------------


@given(conv=convs(), dtype=DTYPES, data=st.data())
def test_conv2d_forward_agrees(backend, conv, dtype, data):
    x, w = uniform(data.draw, conv.x_shape, dtype), uniform(data.draw, conv.w_shape, dtype)
    got = backend.conv2d_forward(*on(backend, x, w), conv.stride, conv.padding)
    _, C, KH, KW = conv.w_shape
    assert_agrees(got, ref.conv2d_forward(x, w, conv.stride, conv.padding), C * KH * KW)


@given(conv=convs(), dtype=DTYPES, data=st.data())
def test_conv2d_forward_with_bias_agrees_and_adds_b_per_filter(backend, conv, dtype, data):
    x, w = uniform(data.draw, conv.x_shape, dtype), uniform(data.draw, conv.w_shape, dtype)
    b = uniform(data.draw, (conv.w_shape[0],), dtype)
    got = backend.conv2d_forward(*on(backend, x, w), conv.stride, conv.padding, *on(backend, b))
    _, C, KH, KW = conv.w_shape
    want = ref.conv2d_forward(x, w, conv.stride, conv.padding, b)
    assert_agrees(got, want, C * KH * KW + 1)
    np.testing.assert_allclose(want - ref.conv2d_forward(x, w, conv.stride, conv.padding), np.broadcast_to(
        b.reshape(1, -1, 1, 1), want.shape), atol=8 * np.finfo(dtype).eps * (C * KH * KW + 1))  # fmt: skip


@given(conv=convs(), dtype=DTYPES, data=st.data())
def test_conv2d_backward_bias_agrees(backend, conv, dtype, data):
    dy = uniform(data.draw, conv.y_shape, dtype)
    got = backend.conv2d_backward_bias(*on(backend, dy))
    N, _, OH, OW = conv.y_shape
    want = ref.conv2d_backward_bias(dy)
    assert want.shape == (conv.w_shape[0],)
    assert_agrees(got, want, N * OH * OW)


@given(conv=convs(), dtype=DTYPES, data=st.data())
def test_conv2d_backward_input_agrees(backend, conv, dtype, data):
    dy, w = uniform(data.draw, conv.y_shape, dtype), uniform(data.draw, conv.w_shape, dtype)
    got = backend.conv2d_backward_input(*on(backend, dy, w), conv.x_shape, conv.stride, conv.padding)
    F, _, KH, KW = conv.w_shape
    assert_agrees(got, ref.conv2d_backward_input(dy, w, conv.x_shape, conv.stride, conv.padding), F * KH * KW)


@given(conv=convs(), dtype=DTYPES, data=st.data())
def test_conv2d_backward_weight_agrees(backend, conv, dtype, data):
    dy, x = uniform(data.draw, conv.y_shape, dtype), uniform(data.draw, conv.x_shape, dtype)
    got = backend.conv2d_backward_weight(*on(backend, dy, x), conv.w_shape, conv.stride, conv.padding)
    N, _, OH, OW = conv.y_shape
    assert_agrees(got, ref.conv2d_backward_weight(dy, x, conv.w_shape, conv.stride, conv.padding), N * OH * OW)


# ---- pooling ----------------------------------------------------------------------------------------


@given(pool=pools(), dtype=DTYPES, data=st.data())
def test_max_pool2d_forward_agrees_exactly(backend, pool, dtype, data):
    x = distinct(data.draw, pool.x_shape, dtype)  # no ties: the winner of every window is unique
    y, indices = backend.max_pool2d_forward(*on(backend, x), pool.kernel, pool.stride, pool.padding)
    want_y, want_indices = ref.max_pool2d_forward(x, pool.kernel, pool.stride, pool.padding)
    assert_agrees(y, want_y, 0)
    indices = to_device(indices, "cpu")
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, want_indices)


@given(pool=pools(), dtype=DTYPES, data=st.data())
def test_max_pool2d_forward_breaks_ties_like_the_reference(backend, pool, dtype, data):
    x = np.round(uniform(data.draw, pool.x_shape, dtype) * 2).astype(dtype)  # only −2..2: many ties
    _, indices = backend.max_pool2d_forward(*on(backend, x), pool.kernel, pool.stride, pool.padding)
    _, want_indices = ref.max_pool2d_forward(x, pool.kernel, pool.stride, pool.padding)
    np.testing.assert_array_equal(to_device(indices, "cpu"), want_indices)  # the first maximum wins


@given(pool=pools(), dtype=DTYPES, data=st.data())
def test_max_pool2d_backward_agrees(backend, pool, dtype, data):
    x, dy = distinct(data.draw, pool.x_shape, dtype), uniform(data.draw, pool.y_shape, dtype)
    _, indices = ref.max_pool2d_forward(x, pool.kernel, pool.stride, pool.padding)
    got = backend.max_pool2d_backward(*on(backend, dy, indices), pool.x_shape)
    KH, KW = pool.kernel  # a pixel collects at most one term per window covering it
    assert_agrees(got, ref.max_pool2d_backward(dy, indices, pool.x_shape), KH * KW)


@given(pool=pools(), dtype=DTYPES, data=st.data())
def test_avg_pool2d_forward_agrees(backend, pool, dtype, data):
    x = uniform(data.draw, pool.x_shape, dtype)
    got = backend.avg_pool2d_forward(*on(backend, x), pool.kernel, pool.stride, pool.padding)
    KH, KW = pool.kernel
    assert_agrees(got, ref.avg_pool2d_forward(x, pool.kernel, pool.stride, pool.padding), KH * KW)


@given(pool=pools(), dtype=DTYPES, data=st.data())
def test_avg_pool2d_backward_agrees(backend, pool, dtype, data):
    dy = uniform(data.draw, pool.y_shape, dtype)
    got = backend.avg_pool2d_backward(*on(backend, dy), pool.x_shape, pool.kernel, pool.stride, pool.padding)
    KH, KW = pool.kernel
    want = ref.avg_pool2d_backward(dy, pool.x_shape, pool.kernel, pool.stride, pool.padding)
    assert_agrees(got, want, KH * KW)


# ---- int8 matmul (quantized layers) -----------------------------------------------------------------


@given(data=st.data())
def test_matmul_int8_agrees_exactly(backend, data):
    M, K, N = (data.draw(MATMUL_SIDES) for _ in "mkn")
    a_dtype = data.draw(st.sampled_from([np.int8, np.uint8]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    lo, hi = np.iinfo(a_dtype).min, np.iinfo(a_dtype).max
    a = rng.integers(lo, hi + 1, (M, K)).astype(a_dtype)
    b = rng.integers(-128, 128, (K, N)).astype(np.int8)
    got = to_device(backend.matmul_int8(*on(backend, a, b)), "cpu")
    want = ref.matmul_int8(a, b)
    assert got.dtype == np.int32 and want.dtype == np.int32
    np.testing.assert_array_equal(got, want)


# ---- ReLU ------------------------------------------------------------------------------------------

RELU_SIZES = st.sampled_from([1, 7, 16, 17, 1000, (1 << 14) + 3, 3 * (1 << 14), (1 << 16) + 5])  # blocks, threads


def _relu_input(data, dtype) -> np.ndarray:
    """Values in [−1, 1] with zeros, −0.0, ±inf and NaN sprinkled in, in a 1-D to 3-D shape."""
    size = data.draw(RELU_SIZES)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(-1, 1, size).astype(dtype)
    special = rng.integers(0, size, max(1, size // 50))
    x[special] = rng.choice(np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=dtype), special.size)
    shape = data.draw(st.sampled_from([(size,), (1, size), (size, 1, 1)]))
    return x.reshape(shape)


@given(dtype=DTYPES, data=st.data())
def test_relu_agrees_exactly_nan_included(backend, dtype, data):
    x = _relu_input(data, dtype)
    got = to_device(backend.relu(*on(backend, x)), "cpu")
    want = ref.relu(x)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # NaN where x is NaN, in both


@given(dtype=DTYPES, data=st.data())
def test_relu_backward_agrees_exactly(backend, dtype, data):
    y = ref.relu(_relu_input(data, dtype))
    dy = np.random.default_rng(1).uniform(-1, 1, y.shape).astype(dtype)
    dy.flat[:: max(1, dy.size // 7)] = np.nan  # NaN · 0 = NaN: a NaN gradient stays everywhere
    got = to_device(backend.relu_backward(*on(backend, dy, y)), "cpu")
    want = ref.relu_backward(dy, y)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)

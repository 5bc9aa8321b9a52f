"""The Numba conv and pool kernels against the NumPy reference, on the paths the Numba backend takes.

test_agreement.py already compares every table function on drawn geometries; this file aims at
what is particular to numba_conv.py and numba_pool.py: fewer filters than a register tile (the
one-filter kernel) and more (several panels, a ragged last one), strides that cut the canvas
in phases, padding larger than the kernel (a cropped canvas in backward-input), sums over more
than one K slice in backward-weight, both dtypes; then PyTorch as a second opinion, pooling's
index convention, ties and NaNs, and gradcheck through the ops on the LeNet-like paths.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinygrad_edu.kernels import numba_conv, numba_conv_grad
from tinygrad_edu.kernels.numba_simd import VECTOR_REGISTERS, lanes

import tinygrad_edu as tge
from tests.strategies_conv import Conv, uniform
from tinygrad_edu import kernels
from tinygrad_edu.ops.conv import avg_pool2d, conv2d, max_pool2d

numba_cpu = kernels.get("numba")
ref = kernels.get("numpy")
DTYPES = st.sampled_from([np.float32, np.float64])


def assert_close(got: np.ndarray, want: np.ndarray, length: int) -> None:
    """|got − want| ≤ 8·√L·eps·max|want| for sums of L terms (values in [−1, 1]), same dtype and shape."""
    assert got.shape == want.shape and got.dtype == want.dtype
    eps = np.finfo(want.dtype).eps
    atol = 8 * np.sqrt(length) * eps * max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


@st.composite
def numba_convs(draw):
    """Geometries for the Numba paths: F on both sides of MR = 6, strides 1-3, padding up to KH + 1."""
    N = draw(st.sampled_from([1, 2, 3]))
    C = draw(st.sampled_from([1, 2, 3, 7]))
    F = draw(st.sampled_from([1, 2, 5, 6, 7, 13]))
    KH, KW = draw(st.sampled_from([1, 2, 3, 5])), draw(st.sampled_from([1, 2, 3, 5]))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, KH + 1)), draw(st.integers(0, KW + 1))
    H = draw(st.integers(max(1, KH - 2 * ph), 12))
    W = draw(st.integers(max(1, KW - 2 * pw), 12))
    return Conv((N, C, H, W), (F, C, KH, KW), (sh, sw), (ph, pw))


@given(conv=numba_convs(), dtype=DTYPES, data=st.data())
def test_conv_kernels_agree_with_reference(conv, dtype, data):
    x, w = uniform(data.draw, conv.x_shape, dtype), uniform(data.draw, conv.w_shape, dtype)
    dy = uniform(data.draw, conv.y_shape, dtype)
    s, p = conv.stride, conv.padding
    (N, C, _, _), (F, _, KH, KW) = conv.x_shape, conv.w_shape
    OH, OW = conv.y_shape[2:]
    assert_close(numba_cpu.conv2d_forward(x, w, s, p), ref.conv2d_forward(x, w, s, p), C * KH * KW)
    dx = numba_cpu.conv2d_backward_input(dy, w, conv.x_shape, s, p)
    assert_close(dx, ref.conv2d_backward_input(dy, w, conv.x_shape, s, p), F * KH * KW)
    dw = numba_cpu.conv2d_backward_weight(dy, x, conv.w_shape, s, p)
    assert_close(dw, ref.conv2d_backward_weight(dy, x, conv.w_shape, s, p), N * OH * OW)


@given(conv=numba_convs(), dtype=DTYPES, bias=st.booleans(), data=st.data())
def test_filters_across_lanes_tile_agrees_with_reference(conv, dtype, bias, data):
    # numba_conv's second tile (LANES filters per vector, runs of RUN positions) forced on every
    # drawn geometry: F below, at and above a whole vector, strides, padding, dilation (backward-input).
    x, w = uniform(data.draw, conv.x_shape, dtype), uniform(data.draw, conv.w_shape, dtype)
    dy = uniform(data.draw, conv.y_shape, dtype)
    F, C, KH, KW = conv.w_shape
    b = uniform(data.draw, (F,), dtype) if bias else None
    s, p = conv.stride, conv.padding
    with mock.patch.object(numba_conv, "_lanes_pay", lambda *args: True):
        y = numba_cpu.conv2d_forward(x, w, s, p, b)
        dx = numba_cpu.conv2d_backward_input(dy, w, conv.x_shape, s, p)
    want = ref.conv2d_forward(x, w, s, p) + (0 if b is None else b.reshape(1, -1, 1, 1))
    assert_close(y, want, C * KH * KW + 1)
    assert_close(dx, ref.conv2d_backward_input(dy, w, conv.x_shape, s, p), F * KH * KW)


@given(conv=numba_convs(), dtype=DTYPES, data=st.data())
def test_weight_gradient_across_lanes_agrees_with_reference(conv, dtype, data):
    # numba_conv_grad's lanes tile forced wherever it applies (stride 1 along W): kernel rows cut
    # in runs of RUN = 5 taps (KW of 1, 2, 3 and 5: a partial run), ragged filter groups, padding.
    x, dy = uniform(data.draw, conv.x_shape, dtype), uniform(data.draw, conv.y_shape, dtype)
    s, p = conv.stride, conv.padding
    N, OH, OW = conv.y_shape[0], *conv.y_shape[2:]
    with mock.patch.object(numba_conv_grad, "_lanes_weight_pay", lambda F, KW, sw, *args: sw == 1):
        dw = numba_cpu.conv2d_backward_weight(dy, x, conv.w_shape, s, p)
    assert_close(dw, ref.conv2d_backward_weight(dy, x, conv.w_shape, s, p), N * OH * OW)


def test_weight_gradient_across_lanes_on_lenet_second_layer():
    rng = np.random.default_rng(2)
    x, dy = (
        rng.uniform(-1, 1, (7, 6, 14, 14)).astype(np.float32),
        rng.uniform(-1, 1, (7, 16, 10, 10)).astype(np.float32),
    )
    assert numba_conv_grad._lanes_weight_pay(16, 5, 1, 150, 140, 100, 4) == (VECTOR_REGISTERS >= 32)
    want = ref.conv2d_backward_weight(dy, x, (16, 6, 5, 5), (1, 1), (0, 0))
    assert_close(numba_cpu.conv2d_backward_weight(dy, x, (16, 6, 5, 5), (1, 1), (0, 0)), want, 700)
    # and not where the dot tiles are faster: LeNet's first layer (6 filters), long rows of 3×3 taps
    assert not numba_conv_grad._lanes_weight_pay(6, 5, 1, 75, 28 * 32, 28 * 28, 4)
    assert not numba_conv_grad._lanes_weight_pay(64, 3, 1, 288, 24 * 26, 24 * 24, 4)
    assert not numba_conv_grad._lanes_weight_pay(16, 5, 2, 150, 140, 100, 4)  # taps not neighbours


@pytest.mark.parametrize("F", [16, 32])
def test_filters_across_lanes_on_lenet_second_layer(F):
    # 100×6×14×14 → 16 filters 5×5 takes the lanes tile (F = 16 fills a vector on AVX-512, two on
    # AVX2), and so does 32. Output rows of 10 = two runs of RUN = 5. (Ragged groups: the test above.)
    rng = np.random.default_rng(F)
    x, w = rng.uniform(-1, 1, (5, 6, 14, 14)).astype(np.float32), rng.uniform(-1, 1, (F, 6, 5, 5)).astype(np.float32)
    b = rng.uniform(-1, 1, F).astype(np.float32)
    assert numba_conv._lanes_pay(F, 150, (10, 10), 14, 4)
    want = ref.conv2d_forward(x, w, (1, 1), (0, 0)) + b.reshape(1, -1, 1, 1)
    assert_close(numba_cpu.conv2d_forward(x, w, (1, 1), (0, 0), b), want, 151)


def test_lanes_tile_is_chosen_where_it_does_less_work():
    # LeNet's first layer (6 filters: a third of a 16-lane vector) and its second layer's
    # backward-input (6 output channels) stay on the MR × NR tile; with AVX-512 the second
    # layer's forward (16 filters, 40 % garbage columns on the canvas) goes across the lanes.
    assert not numba_conv._lanes_pay(6, 75, (28, 28), 32, 4)
    assert not numba_conv._lanes_pay(6, 400, (14, 14), 18, 4)
    if lanes(4) == 16:
        assert numba_conv._lanes_pay(16, 150, (10, 10), 14, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_on_larger_images_with_many_channels(dtype):
    # Backward-weight sums 20·20 = 400 pixels per image: two K slices (KC = 256) of the GEMM.
    # F = 64: eleven filter panels, the last one ragged; K = 16·3·3 = 144 taps per window.
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-1, 1, (2, 16, 22, 22)).astype(dtype), rng.uniform(-1, 1, (64, 16, 3, 3)).astype(dtype)
    dy = rng.uniform(-1, 1, (2, 64, 20, 20)).astype(dtype)
    s, p = (1, 1), (0, 0)
    assert_close(numba_cpu.conv2d_forward(x, w, s, p), ref.conv2d_forward(x, w, s, p), 144)
    assert_close(
        numba_cpu.conv2d_backward_input(dy, w, x.shape, s, p), ref.conv2d_backward_input(dy, w, x.shape, s, p), 576
    )
    assert_close(
        numba_cpu.conv2d_backward_weight(dy, x, w.shape, s, p), ref.conv2d_backward_weight(dy, x, w.shape, s, p), 800
    )


def test_conv_known_values():
    # A 3×3 image of 1..9 and a 2×2 filter of ones: every output is the sum of a 2×2 patch.
    x = np.arange(1.0, 10.0, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2), dtype=np.float32)
    np.testing.assert_array_equal(numba_cpu.conv2d_forward(x, w, (1, 1), (0, 0))[0, 0], [[12, 16], [24, 28]])
    # dx of a sum of all outputs: how many windows cover each pixel (corner 1, edge 2, centre 4).
    dx = numba_cpu.conv2d_backward_input(np.ones((1, 1, 2, 2), np.float32), w, x.shape, (1, 1), (0, 0))
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    # dw of the same sum: each filter tap sums the pixels it met, 1+2+4+5 for the top-left one.
    dw = numba_cpu.conv2d_backward_weight(np.ones((1, 1, 2, 2), np.float32), x, w.shape, (1, 1), (0, 0))
    np.testing.assert_array_equal(dw[0, 0], [[12, 16], [24, 28]])


@pytest.mark.parametrize("stride, padding", [((1, 1), (0, 0)), ((2, 2), (1, 1)), ((2, 3), (2, 0))])
def test_conv_matches_pytorch(stride, padding):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4, 11, 10)), rng.standard_normal((7, 4, 3, 5))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, stride=stride, padding=padding)
    dy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(numba_cpu.conv2d_forward(x, w, stride, padding), ty.detach().numpy(), atol=1e-12)
    dx = numba_cpu.conv2d_backward_input(dy, w, x.shape, stride, padding)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(
        numba_cpu.conv2d_backward_weight(dy, x, w.shape, stride, padding), tw.grad.numpy(), atol=1e-11
    )


# ---- pooling ----------------------------------------------------------------------------------------


def test_max_pool_indices_follow_the_plane_convention():
    # indices[n, c, i, j] = h·W + w of the winner in x's own (H, W) plane, padding excluded.
    x = np.arange(20.0, dtype=np.float32).reshape(1, 1, 4, 5)
    y, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (2, 2), (1, 1))
    np.testing.assert_array_equal(y[0, 0], [[0, 2, 4], [10, 12, 14], [15, 17, 19]])
    np.testing.assert_array_equal(indices[0, 0], [[0, 2, 4], [10, 12, 14], [15, 17, 19]])
    assert indices.dtype == np.int64


def test_max_pool_ties_go_to_the_first_and_nan_wins():
    x = np.array([[[[1.0, 1.0], [1.0, 1.0]], [[1.0, np.nan], [5.0, 2.0]]]], dtype=np.float32)
    y, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert indices[0, 0, 0, 0] == 0  # all equal: the first in (kh, kw) order
    assert np.isnan(y[0, 1, 0, 0]) and indices[0, 1, 0, 0] == 1
    np.testing.assert_array_equal(indices, ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))[1])


def test_max_pool_backward_sums_overlapping_windows_and_refuses_bad_indices():
    x = np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]], dtype=np.float64)  # 9 wins both 2×2 windows
    _, indices = numba_cpu.max_pool2d_forward(x, (2, 2), (1, 1), (0, 0))
    dx = numba_cpu.max_pool2d_backward(np.array([[[[1.0, 2.0]]]]), indices, x.shape)
    np.testing.assert_array_equal(dx[0, 0], [[0, 3, 0], [0, 0, 0]])
    with pytest.raises(IndexError, match="outside"):
        numba_cpu.max_pool2d_backward(np.ones((1, 1, 1, 2)), indices + 100, x.shape)


@given(dtype=DTYPES, data=st.data())
def test_avg_pool_counts_padding_in_the_divisor(dtype, data):
    x = uniform(data.draw, (2, 3, 5, 6), dtype)
    y = numba_cpu.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1))
    assert y.dtype == dtype
    np.testing.assert_allclose(y[0, 0, 0, 0], x[0, 0, :2, :2].sum() / 9, rtol=10 * np.finfo(dtype).eps)
    dy = uniform(data.draw, y.shape, dtype)
    dx = numba_cpu.avg_pool2d_backward(dy, x.shape, (3, 3), (2, 2), (1, 1))
    assert_close(dx, ref.avg_pool2d_backward(dy, x.shape, (3, 3), (2, 2), (1, 1)), 9)


# ---- gradcheck through the ops, on the Numba paths of a LeNet ---------------------------------------


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding",
    [
        ((2, 3, 8, 8), (2, 3, 5, 5), (1, 1), (0, 0)),  # fewer filters than MR: the one-filter kernel
        ((1, 2, 7, 6), (7, 2, 3, 3), (2, 1), (1, 2)),  # two filter panels, stride phases, padding
    ],
)
def test_conv_gradcheck_through_numba(x_shape, w_shape, stride, padding):
    rng = np.random.default_rng(2)
    x, w = (
        tge.tensor(rng.standard_normal(x_shape), requires_grad=True),
        tge.tensor(rng.standard_normal(w_shape), requires_grad=True),
    )
    with tge.kernels.use("numba"):
        assert tge.gradcheck(lambda x, w: conv2d(x, w, None, stride, padding), [x, w])


def test_pool_gradcheck_through_numba():
    rng = np.random.default_rng(3)
    x = tge.tensor(rng.permutation(60).reshape(2, 2, 3, 5) * 0.01, requires_grad=True)  # no ties
    with tge.kernels.use("numba"):
        assert tge.gradcheck(lambda x: max_pool2d(x, 2, 2, 1), [x])
        assert tge.gradcheck(lambda x: avg_pool2d(x, 3, 2, 1), [x])

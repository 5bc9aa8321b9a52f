"""conv2d, max_pool2d, avg_pool2d: gradcheck through every CPU kernel backend, PyTorch, known values, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.strategies_conv import convs, distinct, pools, uniform
from tinygrad_edu import kernels
from tinygrad_edu.ops.conv import avg_pool2d, conv2d, max_pool2d

# Finite differences cost two forwards per input element: keep gradcheck's images small.
GRADCHECK_CONVS = convs(max_batch=2, max_channels=3, max_filters=3, max_kernel=3, max_side=7)
GRADCHECK_POOLS = pools(max_batch=2, max_channels=2, max_side=7)


@pytest.fixture(scope="module", params=[name for name in kernels.NAMES if kernels.DEVICE[name] == "cpu"])
def backend(request):
    """The name of a CPU kernel backend that runs here (others are skipped with their reason)."""
    try:
        kernels.get(request.param)
    except kernels.KernelUnavailable as e:
        pytest.skip(f"kernel backend {request.param!r} is not available here: {e}")
    return request.param


def leaf(array) -> tge.Tensor:
    return tge.tensor(array, requires_grad=True)


# ---- gradcheck (float64) through every CPU backend ---------------------------------------------------


@given(conv=GRADCHECK_CONVS, with_bias=st.booleans(), data=st.data())
def test_conv2d_backward_matches_gradcheck(backend, conv, with_bias, data):
    x, w = leaf(uniform(data.draw, conv.x_shape)), leaf(uniform(data.draw, conv.w_shape))
    b = leaf(uniform(data.draw, conv.w_shape[:1])) if with_bias else None
    with tge.kernels.use(backend):
        assert tge.gradcheck(lambda x, w, b: conv2d(x, w, b, conv.stride, conv.padding), [x, w, b])


@given(pool=GRADCHECK_POOLS, data=st.data())
def test_max_pool2d_backward_matches_gradcheck(backend, pool, data):
    x = leaf(distinct(data.draw, pool.x_shape))  # values 0.01 apart: no ties, so max is differentiable
    with tge.kernels.use(backend):
        assert tge.gradcheck(lambda x: max_pool2d(x, pool.kernel, pool.stride, pool.padding), [x])


@given(pool=GRADCHECK_POOLS, data=st.data())
def test_avg_pool2d_backward_matches_gradcheck(backend, pool, data):
    x = leaf(uniform(data.draw, pool.x_shape))
    with tge.kernels.use(backend):
        assert tge.gradcheck(lambda x: avg_pool2d(x, pool.kernel, pool.stride, pool.padding), [x])


# ---- PyTorch gives the same values and gradients ----------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    """PyTorch on one thread: on a shared, busy machine its thread pool spins for ~0.1 s per tiny conv."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def _torch_pair(torch, array):
    return leaf(array), torch.tensor(array, requires_grad=True)


def _close(ours: tge.Tensor, theirs, dtype) -> None:
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


@given(conv=convs(), dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_conv2d_matches_torch(torch, conv, dtype, data):
    (x, xt), (w, wt), (b, bt) = (
        _torch_pair(torch, uniform(data.draw, shape, dtype)) for shape in (conv.x_shape, conv.w_shape, conv.w_shape[:1])
    )
    dy = uniform(data.draw, conv.y_shape, dtype)
    y = conv2d(x, w, b, stride=conv.stride, padding=conv.padding)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=conv.stride, padding=conv.padding)
    y.backward(tge.tensor(dy))
    yt.backward(torch.tensor(dy))
    for ours, theirs in ((y, yt), (x.grad, xt.grad), (w.grad, wt.grad), (b.grad, bt.grad)):
        _close(ours, theirs, dtype)


@given(pool=pools(), dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_pools_match_torch(torch, pool, dtype, data):
    dy = uniform(data.draw, pool.y_shape, dtype)
    for ours_fn, theirs_fn, values in (
        (max_pool2d, torch.nn.functional.max_pool2d, distinct),
        (avg_pool2d, torch.nn.functional.avg_pool2d, uniform),
    ):
        x, xt = _torch_pair(torch, values(data.draw, pool.x_shape, dtype))
        y = ours_fn(x, pool.kernel, pool.stride, pool.padding)
        yt = theirs_fn(xt, pool.kernel, pool.stride, pool.padding)
        y.backward(tge.tensor(dy))
        yt.backward(torch.tensor(dy))
        _close(y, yt, dtype)
        _close(x.grad, xt.grad, dtype)


# ---- known values from the equations -----------------------------------------------------------------


def test_a_1x1_conv_is_a_matmul_at_every_pixel():
    x, w, b = tge.randn(2, 3, 4, 5), tge.randn(6, 3, 1, 1), tge.randn(6)
    y = conv2d(x, w, b).numpy()
    # y[n, :, h, w] = W @ x[n, :, h, w] + b with W = w[:, :, 0, 0]
    want = np.einsum("fc,nchw->nfhw", w.numpy()[:, :, 0, 0], x.numpy()) + b.numpy()[:, None, None]
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_a_delta_kernel_copies_the_image_and_an_offset_delta_shifts_it():
    x = tge.randn(2, 1, 5, 6)
    delta = np.zeros((1, 1, 3, 3), dtype=np.float32)
    delta[0, 0, 1, 1] = 1.0
    np.testing.assert_array_equal(conv2d(x, tge.tensor(delta), padding=1).numpy(), x.numpy())
    right = np.zeros((1, 1, 1, 2), dtype=np.float32)
    right[0, 0, 0, 1] = 1.0  # y[h, w] = x[h, w + 1]: cross-correlation reads forward, no flip
    np.testing.assert_array_equal(conv2d(x, tge.tensor(right)).numpy(), x.numpy()[..., 1:])


def test_padding_counts_as_zeros_in_a_conv():
    y = conv2d(tge.ones(1, 1, 4, 4), tge.ones(1, 1, 3, 3), padding=1).numpy()[0, 0]
    # each output counts the real pixels under its 3×3 window: 4 at corners, 6 on edges, 9 inside
    np.testing.assert_array_equal(y, [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])


def test_stride_two_skips_every_other_window():
    x = tge.arange(25.0).reshape(1, 1, 5, 5)
    y = conv2d(x, tge.ones(1, 1, 1, 1), stride=2)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[0, 2, 4], [10, 12, 14], [20, 22, 24]])


def test_average_pool_of_a_constant_is_that_constant():
    y = avg_pool2d(tge.full((2, 3, 6, 4), 7.5), 2)
    assert y.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(y.numpy(), 7.5)


def test_avg_pool_divides_by_the_whole_window_even_over_padding():
    y = avg_pool2d(tge.ones(1, 1, 2, 2), 2, stride=1, padding=1).numpy()[0, 0]
    np.testing.assert_array_equal(y, [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def test_max_pool_known_values_and_stride_defaults_to_the_kernel():
    x = tge.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(max_pool2d(x, 2).numpy()[0, 0], [[5, 7], [13, 15]])
    assert max_pool2d(x, 2, stride=1).shape == (1, 1, 3, 3)


def test_max_pool_gradient_collects_from_every_window_a_pixel_wins():
    x = tge.tensor([[[[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]]], requires_grad=True)
    max_pool2d(x, 2, stride=1).sum().backward()  # 9 wins all four overlapping windows
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_bias_gradient_sums_dy_over_batch_and_pixels():
    x, w, b = tge.randn(3, 2, 5, 5), tge.randn(4, 2, 3, 3), tge.zeros(4, requires_grad=True)
    conv2d(x, w, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), 3 * 3 * 3)  # N·OH·OW ones per filter


def test_float32_stays_float32_and_non_contiguous_input_works():
    x = tge.randn(2, 5, 6, 3).permute(0, 3, 1, 2)  # (2, 3, 5, 6), not contiguous
    w = tge.randn(4, 3, 3, 3, requires_grad=True)
    y = conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == np.float32 and w.grad.dtype == np.float32
    want = conv2d(tge.tensor(np.ascontiguousarray(x.numpy())), w.detach(), padding=1)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


# ---- errors that teach ------------------------------------------------------------------------------


def test_a_single_image_without_batch_dim_says_to_unsqueeze():
    with pytest.raises(
        ValueError,
        match=r"conv2d: expected input of shape \(N, C, H, W\), got \(3, 32, 32\); "
        r"add a batch dim with x.unsqueeze\(0\)",
    ):
        conv2d(tge.randn(3, 32, 32), tge.randn(6, 3, 5, 5))
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of shape \(N, C, H, W\)"):
        max_pool2d(tge.randn(3, 8, 8), 2)


def test_channel_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"input \(8, 3, 32, 32\) has 3 channels but weight \(6, 1, 5, 5\) expects 1"):
        conv2d(tge.randn(8, 3, 32, 32), tge.randn(6, 1, 5, 5))


def test_kernel_bigger_than_padded_input():
    with pytest.raises(ValueError, match=r"conv2d: the 5×5 kernel is bigger than the padded input 4×4"):
        conv2d(tge.randn(1, 1, 2, 2), tge.randn(1, 1, 5, 5), padding=1)
    with pytest.raises(ValueError, match=r"avg_pool2d: the 3×3 kernel is bigger than the padded input 2×2"):
        avg_pool2d(tge.randn(1, 1, 2, 2), 3)


def test_dtype_mismatch_says_how_to_fix():
    with pytest.raises(TypeError, match=r"conv2d: input is float64 but weight is float32; .*x.float\(\)"):
        conv2d(tge.randn(1, 1, 4, 4).double(), tge.randn(1, 1, 3, 3))
    with pytest.raises(TypeError, match=r"conv2d: needs a floating-point input, got int64; call x.float\(\)"):
        conv2d(tge.ones(1, 1, 4, 4).long(), tge.randn(1, 1, 3, 3))


def test_bad_weight_bias_stride_padding():
    x = tge.randn(1, 2, 6, 6)
    with pytest.raises(ValueError, match=r"weight must have shape \(out_channels, in_channels, KH, KW\), got \(3, 2\)"):
        conv2d(x, tge.randn(3, 2))
    with pytest.raises(ValueError, match=r"bias of shape \(2,\) does not match weight \(3, 2, 3, 3\).*\(3,\)"):
        conv2d(x, tge.randn(3, 2, 3, 3), tge.randn(2))
    with pytest.raises(ValueError, match=r"conv2d: stride must be at least 1, got 0"):
        conv2d(x, tge.randn(3, 2, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"padding must be an int or a pair of ints, got 'same'.*padding=k // 2"):
        conv2d(x, tge.randn(3, 2, 3, 3), padding="same")
    with pytest.raises(ValueError, match=r"stride must be an int or a pair of ints \(along H, along W\), got 1.5"):
        conv2d(x, tge.randn(3, 2, 3, 3), stride=1.5)
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"):
        max_pool2d(x, 3, padding=2)


def test_kernels_and_tensors_on_different_devices_is_an_error_naming_both_knobs(monkeypatch):
    monkeypatch.setitem(kernels.DEVICE, "numpy", "cuda")  # pretend the current backend computes on a GPU
    with pytest.raises(RuntimeError, match=r"conv2d: the kernel backend is 'numpy'.*tensors are on 'cpu'"):
        conv2d(tge.randn(1, 1, 4, 4), tge.randn(1, 1, 3, 3))

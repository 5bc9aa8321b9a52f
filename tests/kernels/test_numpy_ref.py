"""The NumPy reference against the definitions, written as the plainest loops over output pixels.

Every other backend is checked against numpy_ref (test_agreement.py); this file checks numpy_ref
itself, so the chain ends at the equations: y[n,f,oh,ow] = Σ x_pad[n,c,oh·sh+kh, ow·sw+kw]·w[f,c,kh,kw].
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies_conv import convs, distinct, pools, uniform
from tinygrad_edu import kernels

ref = kernels.get("numpy")
SMALL_CONVS = convs(max_batch=2, max_side=8)
SMALL_POOLS = pools(max_batch=2, max_side=8)


def padded(x, padding, value=0.0):
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def window(a, oh, ow, kernel, stride):
    """a[..., oh·sh : oh·sh + KH, ow·sw : ow·sw + KW]: the patch output pixel (oh, ow) reads."""
    (KH, KW), (sh, sw) = kernel, stride
    return a[..., oh * sh : oh * sh + KH, ow * sw : ow * sw + KW]


def conv_by_definition(x, w, dy, stride, padding):
    """y, dx, dw by looping over output pixels: y is a sum of products, so each backward is a "+=" per pixel."""
    (N, _, H, W), (F, _, KH, KW) = x.shape, w.shape
    (ph, pw) = padding
    x_pad = padded(x, padding)
    OH, OW = dy.shape[2:]
    y, dx_pad, dw = np.zeros(dy.shape), np.zeros(x_pad.shape), np.zeros(w.shape)
    for n, f, oh, ow in np.ndindex(N, F, OH, OW):
        patch = window(x_pad[n], oh, ow, (KH, KW), stride)
        y[n, f, oh, ow] = np.sum(patch * w[f])
        window(dx_pad[n], oh, ow, (KH, KW), stride)[...] += dy[n, f, oh, ow] * w[f]
        dw[f] += dy[n, f, oh, ow] * patch
    return y, dx_pad[:, :, ph : ph + H, pw : pw + W], dw


@given(conv=SMALL_CONVS, data=st.data())
def test_conv2d_kernels_follow_the_definition(conv, data):
    x, w, dy = (uniform(data.draw, s) for s in (conv.x_shape, conv.w_shape, conv.y_shape))
    y, dx, dw = conv_by_definition(x, w, dy, conv.stride, conv.padding)
    np.testing.assert_allclose(ref.conv2d_forward(x, w, conv.stride, conv.padding), y, atol=1e-12)
    np.testing.assert_allclose(
        ref.conv2d_backward_input(dy, w, conv.x_shape, conv.stride, conv.padding), dx, atol=1e-12
    )
    np.testing.assert_allclose(
        ref.conv2d_backward_weight(dy, x, conv.w_shape, conv.stride, conv.padding), dw, atol=1e-12
    )


@given(conv=SMALL_CONVS, data=st.data())
def test_col2im_is_the_adjoint_of_im2col(conv, data):
    # ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for all x and c: col2im is im2col's transpose, hence its backward
    x = uniform(data.draw, conv.x_shape)
    cols = ref.im2col(x, conv.w_shape[2:], conv.stride, conv.padding)
    c = uniform(data.draw, cols.shape)
    back = ref.col2im(c, conv.x_shape, conv.stride, conv.padding)
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10, atol=1e-10)


def max_pool_by_definition(x, dy, kernel, stride, padding):
    N, C, H, W = x.shape
    (ph, pw), KW = padding, kernel[1]
    x_pad = padded(x, padding, -np.inf)
    OH, OW = dy.shape[2:]
    y, indices, dx = np.zeros(dy.shape), np.zeros(dy.shape, dtype=np.int64), np.zeros(x.shape)
    for n, c, oh, ow in np.ndindex(N, C, OH, OW):
        patch = window(x_pad[n, c], oh, ow, kernel, stride)
        kh, kw = divmod(int(np.argmax(patch)), KW)  # np.argmax: the first maximum wins
        h, w = oh * stride[0] + kh - ph, ow * stride[1] + kw - pw
        y[n, c, oh, ow], indices[n, c, oh, ow] = patch[kh, kw], h * W + w
        dx[n, c, h, w] += dy[n, c, oh, ow]
    return y, indices, dx


@given(pool=SMALL_POOLS, ties=st.booleans(), data=st.data())
def test_max_pool2d_kernels_follow_the_definition(pool, ties, data):
    x = np.round(uniform(data.draw, pool.x_shape) * 2) if ties else distinct(data.draw, pool.x_shape)
    dy = uniform(data.draw, pool.y_shape)
    y, indices, dx = max_pool_by_definition(x, dy, pool.kernel, pool.stride, pool.padding)
    got_y, got_indices = ref.max_pool2d_forward(x, pool.kernel, pool.stride, pool.padding)
    np.testing.assert_array_equal(got_y, y)
    np.testing.assert_array_equal(got_indices, indices)
    assert got_indices.dtype == np.int64
    np.testing.assert_allclose(ref.max_pool2d_backward(dy, got_indices, pool.x_shape), dx, atol=1e-12)


@given(pool=SMALL_POOLS, data=st.data())
def test_avg_pool2d_kernels_follow_the_definition(pool, data):
    x, dy = uniform(data.draw, pool.x_shape), uniform(data.draw, pool.y_shape)
    (ph, pw), (KH, KW) = pool.padding, pool.kernel
    x_pad = padded(x, pool.padding)
    y, dx_pad = np.zeros(pool.y_shape), np.zeros(x_pad.shape)
    for n, c, oh, ow in np.ndindex(*pool.y_shape):
        y[n, c, oh, ow] = np.sum(window(x_pad[n, c], oh, ow, pool.kernel, pool.stride)) / (KH * KW)
        window(dx_pad[n, c], oh, ow, pool.kernel, pool.stride)[...] += dy[n, c, oh, ow] / (KH * KW)
    H, W = pool.x_shape[2:]
    np.testing.assert_allclose(ref.avg_pool2d_forward(x, pool.kernel, pool.stride, pool.padding), y, atol=1e-12)
    got = ref.avg_pool2d_backward(dy, pool.x_shape, pool.kernel, pool.stride, pool.padding)
    np.testing.assert_allclose(got, dx_pad[:, :, ph : ph + H, pw : pw + W], atol=1e-12)


@given(conv=SMALL_CONVS, pool=SMALL_POOLS, data=st.data())
def test_float32_in_float32_out(conv, pool, data):
    x, w, dy = (uniform(data.draw, s, np.float32) for s in (conv.x_shape, conv.w_shape, conv.y_shape))
    assert ref.conv2d_forward(x, w, conv.stride, conv.padding).dtype == np.float32
    assert ref.conv2d_backward_input(dy, w, conv.x_shape, conv.stride, conv.padding).dtype == np.float32
    assert ref.conv2d_backward_weight(dy, x, conv.w_shape, conv.stride, conv.padding).dtype == np.float32
    x, dy = uniform(data.draw, pool.x_shape, np.float32), uniform(data.draw, pool.y_shape, np.float32)
    y, indices = ref.max_pool2d_forward(x, pool.kernel, pool.stride, pool.padding)
    assert y.dtype == np.float32 and ref.max_pool2d_backward(dy, indices, pool.x_shape).dtype == np.float32
    assert ref.avg_pool2d_forward(x, pool.kernel, pool.stride, pool.padding).dtype == np.float32
    assert ref.avg_pool2d_backward(dy, pool.x_shape, pool.kernel, pool.stride, pool.padding).dtype == np.float32


def test_max_pool2d_propagates_nan_and_handles_minus_infinity():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    y, indices = ref.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert np.isnan(y[0, 0, 0, 0]) and indices[0, 0, 0, 0] == 1  # like PyTorch: a NaN is never hidden
    x = np.full((1, 1, 2, 2), -np.inf)
    y, indices = ref.max_pool2d_forward(x, (2, 2), (1, 1), (1, 1))  # windows of padding and −inf only
    assert np.all(y == -np.inf)
    np.testing.assert_array_equal(indices[0, 0], [[0, 0, 1], [0, 0, 1], [2, 2, 3]])  # each window's first pixel


def test_relu_kernels_follow_the_definition():
    x = np.array([-2.0, -0.0, 0.0, 0.5, np.inf, -np.inf, np.nan], dtype=np.float32)
    y = ref.relu(x)
    np.testing.assert_array_equal(y, [0, 0, 0, 0.5, np.inf, 0, np.nan])  # NaN stays NaN, as torch.relu
    dy = np.full_like(x, np.nan)
    dx = ref.relu_backward(dy, y)
    np.testing.assert_array_equal(dx, np.nan)  # NaN · 0 and NaN · 1 are NaN: a NaN gradient stays, as in NumPy
    dx = ref.relu_backward(np.full_like(x, 3.0), y)
    np.testing.assert_array_equal(dx, [0, 0, 0, 3, 3, 0, 0])  # the gradient passes where y > 0 only
    assert dx.dtype == np.float32

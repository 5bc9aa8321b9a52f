"""Affine quantization: the equations on known values, and PyTorch's integers and qparams bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu import quantization as tq


def test_known_values_from_the_equations():
    # q = clamp(round(x/s) + z, 0, 255) with s = 0.1, z = 128: −1 → 118, 0 → 128, 0.26 → 131, 30 → clipped to 255
    q = tq.quantize_per_tensor(tge.tensor([-1.0, 0.0, 0.26, 30.0, -30.0]), 0.1, 128, tq.quint8)
    assert q.int_repr().numpy().tolist() == [118, 128, 131, 255, 0]
    assert q.q_scale() == pytest.approx(0.1) and q.q_zero_point() == 128 and q.qscheme() == "per_tensor_affine"
    # x̂ = s(q − z)
    np.testing.assert_allclose(q.dequantize().numpy(), [-1.0, 0.0, 0.3, 12.7, -12.8], atol=1e-6)
    assert tq.dequantize(q).dtype == tge.float32


def test_round_half_to_even_and_the_error_bound():
    q = tq.quantize_per_tensor(tge.tensor([0.5, 1.5, 2.5, -0.5]), 1.0, 0, tq.qint8)
    assert q.int_repr().numpy().tolist() == [0, 2, 2, 0]
    x = np.random.default_rng(0).uniform(-1, 1, 1000).astype(np.float32)
    s = 2 / 255
    error = tq.quantize_per_tensor(x, s, 0, tq.qint8).dequantize().numpy() - x
    assert np.abs(error).max() <= s / 2 + 1e-7  # inside the range the error is at most half a step


def test_per_channel_each_slice_its_own_scale():
    w = np.array([[0.1, -0.2], [10.0, -20.0]], dtype=np.float32)
    q = tq.quantize_per_channel(w, np.array([0.2 / 127, 20 / 127]), np.zeros(2), axis=0, dtype=tq.qint8)
    assert q.int_repr().numpy().tolist() == [[64, -127], [64, -127]]
    assert q.q_per_channel_axis() == 0 and q.qscheme() == "per_channel_affine"
    np.testing.assert_allclose(q.dequantize().numpy(), w, rtol=0.01)
    with pytest.raises(RuntimeError, match="per channel"):
        q.q_scale()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scale must be positive"):
        tq.quantize_per_tensor(tge.ones(2), 0.0, 0, tq.quint8)
    with pytest.raises(ValueError, match="outside quint8"):
        tq.quantize_per_tensor(tge.ones(2), 0.1, 300, tq.quint8)
    with pytest.raises(TypeError, match="not a quantized dtype"):
        tq.quantize_per_tensor(tge.ones(2), 0.1, 0, "float16")
    with pytest.raises(ValueError, match="3 scales"):
        tq.quantize_per_channel(tge.ones(2, 2), np.ones(3), np.zeros(3), 0, tq.qint8)
    with pytest.raises(AttributeError, match="Dequantize first"):
        tq.quantize_per_tensor(tge.ones(2), 0.1, 0, tq.quint8).sigmoid()


def test_reshape_and_flatten_keep_the_parameters():
    q = tq.quantize_per_tensor(tge.randn(2, 3, 4), 0.05, 100, tq.quint8)
    f = q.flatten(1)
    assert f.shape == (2, 12) and f.q_scale() == q.q_scale() and f.q_zero_point() == 100
    assert q.reshape(6, 4).shape == (6, 4)


@given(
    values=st.lists(st.floats(-100, 100, width=32), min_size=1, max_size=40),
    scale=st.floats(1e-3, 2.0),
    zero_point=st.integers(0, 255),
    signed=st.booleans(),
)
def test_quantize_per_tensor_agrees_with_torch(values, scale, zero_point, signed):
    torch = pytest.importorskip("torch")
    x = np.array(values, dtype=np.float32)
    dtype, tdtype = (tq.qint8, torch.qint8) if signed else (tq.quint8, torch.quint8)
    zero_point = zero_point - 128 if signed else zero_point
    ours = tq.quantize_per_tensor(x, scale, zero_point, dtype)
    theirs = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero_point, tdtype)
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())


@given(seed=st.integers(0, 2**32 - 1), axis=st.integers(0, 1))
def test_quantize_per_channel_agrees_with_torch(seed, axis):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5)).astype(np.float32) * 3
    scales = rng.uniform(0.01, 0.1, x.shape[axis])
    zero_points = rng.integers(-10, 10, x.shape[axis])
    ours = tq.quantize_per_channel(x, scales, zero_points, axis, tq.qint8)
    theirs = torch.quantize_per_channel(
        torch.from_numpy(x), torch.from_numpy(scales), torch.from_numpy(zero_points), axis, torch.qint8
    )
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_allclose(ours.dequantize().numpy(), theirs.dequantize().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: tq.MinMaxObserver(), lambda t: t.MinMaxObserver()),
        (
            lambda: tq.MinMaxObserver(dtype=tq.qint8, qscheme="per_tensor_symmetric"),
            lambda t: t.MinMaxObserver(
                dtype=__import__("torch").qint8, qscheme=__import__("torch").per_tensor_symmetric
            ),
        ),
        (lambda: tq.MinMaxObserver(reduce_range=True), lambda t: t.MinMaxObserver(reduce_range=True)),
        (lambda: tq.PerChannelMinMaxObserver(), lambda t: t.default_per_channel_weight_observer()),
        (lambda: tq.MovingAverageMinMaxObserver(), lambda t: t.MovingAverageMinMaxObserver()),
    ],
)
def test_observers_agree_with_torch(ours, theirs):
    torch = pytest.importorskip("torch")
    tao = pytest.importorskip("torch.ao.quantization")
    rng = np.random.default_rng(0)
    o, t = ours(), theirs(tao)
    for shift in (0.0, 2.0, -1.0):
        x = (rng.standard_normal((6, 7)) + shift).astype(np.float32)
        o(tge.tensor(x))
        t(torch.from_numpy(x))
    (s, z), (ts, tz) = o.calculate_qparams(), t.calculate_qparams()
    np.testing.assert_allclose(s.numpy(), ts.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(z.numpy(), tz.numpy())


def test_observer_without_data_says_calibrate():
    with pytest.raises(RuntimeError, match="calibration"):
        tq.MinMaxObserver().calculate_qparams()

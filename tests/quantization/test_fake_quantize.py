"""Fake quantization: forward on the int8 grid, the straight-through gradient, and PyTorch's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu import quantization as tq

S, Z, QMIN, QMAX = 0.1, 10, 0, 255  # the grid: s(q − z) for q in 0..255, so [−1.0, 24.5]


def _between_steps(rng, n):
    """Points a quarter step away from the grid (finite differences never cross a rounding jump)."""
    k = rng.integers(QMIN - Z - 20, QMAX - Z + 20, n)  # also some beyond both ends (clipped)
    return (k + rng.choice([0.25, 0.75], n)) * S


def test_forward_is_the_dequantized_quantization():
    x = tge.tensor(_between_steps(np.random.default_rng(0), 50).astype(np.float32))
    y = tq.fake_quantize_per_tensor_affine(x, S, Z, QMIN, QMAX)
    want = tq.quantize_per_tensor(x, S, Z, tq.quint8).dequantize()
    np.testing.assert_allclose(y.numpy(), want.numpy(), atol=1e-6)


def test_straight_through_gradient_is_one_inside_and_zero_where_clipped():
    x = tge.tensor([-5.0, -0.96, 0.0, 3.33, 24.4, 30.0], requires_grad=True)
    tq.fake_quantize_per_tensor_affine(x, S, Z, QMIN, QMAX).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_ste_is_gradchecked_as_the_clipped_identity_away_from_the_jumps():
    # the STE's backward is the exact derivative of clamp(x, s(qmin − z), s(qmax − z)): gradcheck that
    # surrogate, and check that fake quant's backward gives the very same numbers at the same points.
    x = tge.tensor(_between_steps(np.random.default_rng(1), 40), dtype=tge.float64, requires_grad=True)
    lo, hi = S * (QMIN - Z), S * (QMAX - Z)
    assert tge.gradcheck(lambda x: x.clamp(lo, hi) * 1.0, [x])
    w = tge.tensor(np.random.default_rng(2).standard_normal(40), dtype=tge.float64)
    (tq.fake_quantize_per_tensor_affine(x, S, Z, QMIN, QMAX) * w).sum().backward()
    ste = x.grad.numpy().copy()
    x.grad = None
    (x.clamp(lo, hi) * w).sum().backward()
    np.testing.assert_array_equal(ste, x.grad.numpy())


def test_per_channel_gradcheck_surrogate_and_values():
    rng = np.random.default_rng(3)
    scales, zeros = np.array([0.1, 0.5]), np.array([0, 3])
    x = np.stack([(rng.integers(-140, 140, 7) + 0.25) * s for s in scales], axis=1)  # (7, 2): channels on axis 1
    t = tge.tensor(x, dtype=tge.float64, requires_grad=True)
    y = tq.fake_quantize_per_channel_affine(t, scales, zeros, 1, -128, 127)
    want = tq.quantize_per_channel(x, scales, zeros, 1, tq.qint8).dequantize().numpy()
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-6)
    y.sum().backward()
    inside = (x / scales + zeros >= -128) & (x / scales + zeros <= 127)
    np.testing.assert_array_equal(t.grad.numpy(), inside.astype(np.float64))


@given(seed=st.integers(0, 2**32 - 1))
def test_forward_and_backward_agree_with_torch(seed):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(seed).uniform(-3, 30, 64).astype(np.float32)
    ours = tge.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = tq.fake_quantize_per_tensor_affine(ours, S, Z, QMIN, QMAX)
    ty = torch.fake_quantize_per_tensor_affine(theirs, S, Z, QMIN, QMAX)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=0, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_fake_quantize_module_observes_then_rounds():
    fq = tq.FakeQuantize()
    x = tge.tensor(np.linspace(0, 2.55, 30, dtype=np.float32), requires_grad=True)
    y = fq(x)
    scale, zero_point = fq.calculate_qparams()
    assert scale.item() == pytest.approx(0.01) and zero_point.item() == 0
    np.testing.assert_allclose(y.numpy(), np.round(x.numpy() / 0.01) * 0.01, atol=1e-6)
    y.sum().backward()
    assert np.all(x.grad.numpy() == 1)
    fq.disable_fake_quant()
    assert fq(x) is x

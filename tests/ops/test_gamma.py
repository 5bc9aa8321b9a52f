"""lgamma and digamma (ops/gamma.py): known values, the poles, PyTorch agreement, and gradcheck of both
(lgamma's derivative is digamma, digamma's is trigamma)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.strategies import arrays, shapes
from tinygrad_edu.ops.gamma import digamma, lgamma, trigamma

EULER_GAMMA = 0.5772156649015329


def test_known_values():
    x = np.array([1.0, 2.0, 0.5, 5.0, 101.0])
    np.testing.assert_allclose(lgamma(x), [0, 0, math.log(math.sqrt(math.pi)), math.log(24), math.lgamma(101)])
    np.testing.assert_allclose(digamma(np.array([1.0, 0.5, 2.0])), [-EULER_GAMMA, -EULER_GAMMA - 2 * math.log(2),
                               1 - EULER_GAMMA], rtol=1e-13)  # fmt: skip
    np.testing.assert_allclose(trigamma(np.array([1.0, 0.5])), [math.pi**2 / 6, math.pi**2 / 2], rtol=1e-12)


def test_poles_and_infinities_as_pytorch():
    x = np.array([0.0, -1.0, -4.0, np.inf, np.nan])
    assert np.all(np.isinf(lgamma(x)[:4])) and np.isnan(lgamma(x)[4])
    d = digamma(x)
    assert d[0] == -np.inf and np.isnan(d[1]) and np.isnan(d[2]) and d[3] == np.inf and np.isnan(d[4])
    assert np.all(trigamma(x[:3]) == np.inf) and trigamma(x[3:4])[0] == 0


def test_float32_in_float32_out():
    y = tge.tensor([0.5, 3.0]).lgamma()
    assert y.dtype == np.float32 and tge.tensor([1, 2]).digamma().dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(x=arrays((7,), elements=st.floats(-8.9, 40.0).filter(lambda v: abs(v - round(v)) > 0.05 or v > 0.05)))
def test_agrees_with_torch(x):
    torch = pytest.importorskip("torch")
    t = torch.tensor(x)
    np.testing.assert_allclose(lgamma(x), torch.lgamma(t).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(digamma(x), torch.digamma(t).numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(trigamma(x), torch.polygamma(1, t).numpy(), rtol=1e-8, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_gradcheck_lgamma_and_digamma(data):
    shape = data.draw(shapes(max_dims=2))
    away = st.floats(-4.8, 8.0).filter(lambda v: abs(v - round(v)) > 0.1 or v > 0.1)
    x = tge.tensor(data.draw(arrays(shape, elements=away)), requires_grad=True)
    assert tge.gradcheck(lambda x: x.lgamma(), [x])
    assert tge.gradcheck(lambda x: tge.digamma(x), [x])


def test_gradient_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.3, 1.7, 4.0, -2.5, 12.0])
    ours = tge.tensor(x, requires_grad=True)
    (ours.lgamma() * ours.digamma()).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    (theirs.lgamma() * theirs.digamma()).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9)

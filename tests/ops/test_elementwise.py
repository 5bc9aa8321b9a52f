"""Elementwise ops: backward against gradcheck on drawn shapes, known derivatives, stability."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.strategies import arrays, broadcast_pairs, tensors, values
from tinygrad_edu.ops.activation import GELU, LeakyReLU
from tinygrad_edu.ops.elementwise import unbroadcast

# ---- gradcheck on drawn inputs ------------------------------------------------------------------

UNARY = {
    "exp": (lambda x: x.exp(), values()),
    "log": (lambda x: x.log(), values(0.1, 5)),
    "sqrt": (lambda x: x.sqrt(), values(0.1, 5)),
    "abs": (lambda x: x.abs(), values(away_from=0.0)),
    "sin": (lambda x: x.sin(), values()),
    "cos": (lambda x: x.cos(), values()),
    "tanh": (lambda x: x.tanh(), values()),
    "sigmoid": (lambda x: x.sigmoid(), values(-8, 8)),
    "relu": (lambda x: x.relu(), values(away_from=0.0)),
    "neg": (lambda x: -x, values()),
    "square": (lambda x: x.square(), values()),
    "pow_scalar": (lambda x: x**2.5, values(0.1, 3)),
    "pow_negative": (lambda x: x**-1.5, values(0.2, 3)),
    "clamp": (
        lambda x: x.clamp(-1.0, 0.5),
        st.one_of(values(-3, -1.05), values(-0.95, 0.45), values(0.55, 3)),
    ),
    "clamp_min_only": (lambda x: x.clamp(min=0.5), values(away_from=0.5)),
    "leaky_relu": (lambda x: LeakyReLU.apply(x, 0.1), values(away_from=0.0)),
    "gelu": (lambda x: GELU.apply(x, "none"), values()),
    "gelu_tanh": (lambda x: GELU.apply(x, "tanh"), values()),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_unary_backward_matches_gradcheck(name, data):
    fn, elements = UNARY[name]
    x = data.draw(tensors(elements=elements))
    assert tge.gradcheck(fn, [x])


BINARY = {
    "add": (lambda x, y: x + y, values(), values()),
    "sub": (lambda x, y: x - y, values(), values()),
    "mul": (lambda x, y: x * y, values(), values()),
    "div": (lambda x, y: x / y, values(), values(away_from=0.0, gap=0.5)),
    "pow": (lambda x, y: x**y, values(0.2, 3), values(-2, 2)),
    "maximum": (lambda x, y: x.maximum(y), values(), values()),
    "minimum": (lambda x, y: x.minimum(y), values(), values()),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
def test_binary_backward_matches_gradcheck_with_broadcasting(name, data):
    fn, x_values, y_values = BINARY[name]
    x_shape, y_shape = data.draw(broadcast_pairs())
    x = tge.tensor(data.draw(arrays(x_shape, x_values)), requires_grad=True)
    y = tge.tensor(data.draw(arrays(y_shape, y_values)), requires_grad=True)
    if name in ("maximum", "minimum"):  # keep x and y apart: at a tie the derivative jumps
        y = tge.tensor(np.where(np.abs(x.numpy() - y.numpy()) < 0.05, y.numpy() + 0.5, y.numpy()), requires_grad=True)
    assert tge.gradcheck(fn, [x, y])


@pytest.mark.parametrize(
    ("op", "ufunc"),
    [
        ("__eq__", np.equal),
        ("__ne__", np.not_equal),
        ("__lt__", np.less),
        ("__le__", np.less_equal),
        ("__gt__", np.greater),
        ("__ge__", np.greater_equal),
    ],
)
@given(data=st.data())
def test_comparisons_broadcast_and_carry_no_gradient(op, ufunc, data):
    x_shape, y_shape = data.draw(broadcast_pairs())
    grid = st.integers(-3, 3).map(float)  # a coarse grid, so that equal values do occur
    x = tge.tensor(data.draw(arrays(x_shape, grid)), requires_grad=True)
    y = tge.tensor(data.draw(arrays(y_shape, grid)))
    z = getattr(x, op)(y)
    assert z.dtype == np.bool_ and not z.requires_grad
    np.testing.assert_array_equal(z.numpy(), ufunc(x.numpy(), y.numpy()))
    np.testing.assert_array_equal(getattr(x, op)(1.0).numpy(), ufunc(x.numpy(), 1.0))


@given(data=st.data())
def test_scalars_on_either_side(data):
    x = data.draw(tensors(elements=values(0.5, 3)))
    assert tge.gradcheck(lambda x: (2.0 - x) * 3 + 1 / x + 2**x - x / 4, [x])


# ---- unbroadcast, the named helper --------------------------------------------------------------


@given(data=st.data())
def test_unbroadcast_sums_exactly_the_stretched_axes(data):
    x_shape, y_shape = data.draw(broadcast_pairs())
    out_shape = np.broadcast_shapes(x_shape, y_shape)
    dz = data.draw(arrays(out_shape))
    dx = unbroadcast(dz, x_shape)
    assert dx.shape == x_shape
    # the total gradient is conserved: every copy's gradient lands on exactly one element
    np.testing.assert_allclose(dx.sum(), dz.sum(), atol=1e-9)


def test_unbroadcast_example_from_its_docstring():
    dz = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(unbroadcast(dz, (3, 1)), dz.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(unbroadcast(dz, (4,)), dz.sum(axis=0))
    assert unbroadcast(dz, (3, 4)) is dz


# ---- known values from the equations ------------------------------------------------------------


def grad_at(fn, x0: float) -> float:
    x = tge.tensor(x0, requires_grad=True)
    fn(x).backward()
    return x.grad.item()


def test_known_derivatives():
    assert grad_at(lambda x: x.sigmoid(), 0.0) == pytest.approx(0.25)  # σ'(0) = σ(0)(1 − σ(0)) = ¼
    assert grad_at(lambda x: x.tanh(), 0.0) == pytest.approx(1.0)
    assert grad_at(lambda x: x**3, 2.0) == pytest.approx(12.0)  # 3x²
    assert grad_at(lambda x: x.exp(), 1.0) == pytest.approx(math.e)
    assert grad_at(lambda x: x.log(), 4.0) == pytest.approx(0.25)
    assert grad_at(lambda x: x.sqrt(), 4.0) == pytest.approx(0.25)
    assert grad_at(lambda x: x.relu(), -1.0) == 0.0
    assert grad_at(lambda x: x.relu(), 2.0) == 1.0
    assert grad_at(lambda x: x.abs(), 0.0) == 0.0  # sign(0) = 0, as in PyTorch
    assert grad_at(lambda x: GELU.apply(x, "none"), 0.0) == pytest.approx(0.5)  # Φ(0) + 0·φ(0)
    assert grad_at(lambda x: x.clamp(0.0, 1.0), 1.0) == 1.0  # the boundary is inside, as in PyTorch


def test_maximum_splits_the_gradient_at_a_tie():
    x = tge.tensor(1.0, requires_grad=True)
    y = tge.tensor(1.0, requires_grad=True)
    x.maximum(y).backward()
    assert (x.grad.item(), y.grad.item()) == (0.5, 0.5)


def test_chain_rule_by_hand():
    # L = (w·x + b)², with w = 3, x = 2, b = 1: L = 49, dL/dw = 2(wx + b)·x = 28, dL/db = 14
    w = tge.tensor(3.0, requires_grad=True)
    b = tge.tensor(1.0, requires_grad=True)
    loss = (w * 2.0 + b) ** 2
    loss.backward()
    assert loss.item() == 49.0
    assert (w.grad.item(), b.grad.item()) == (28.0, 14.0)


# ---- dtypes ---------------------------------------------------------------------------------------


def test_python_scalars_keep_float32():
    x = tge.ones(3)
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3, x**2, 2**x, x - 1.5):
        assert y.dtype == np.float32


def test_int_tensor_times_float_is_float32_like_pytorch():
    assert (tge.arange(3) * 0.5).dtype == np.float32
    assert (tge.arange(3) * 2).dtype == np.int64


def test_float32_gradients_stay_float32_when_mixed_with_float64():
    w = tge.ones(3, requires_grad=True)
    (w * tge.tensor(np.ones(3))).sum().backward()  # float32 · float64 -> float64
    assert w.grad.dtype == np.float32


# ---- stability: extreme inputs give finite results and no NumPy warnings --------------------------


@pytest.mark.parametrize("big", [1e4, -1e4, 88.0, -104.0, 1e30])
def test_sigmoid_is_stable_at_extremes(big):
    x = tge.tensor([big, -big, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid()
        y.sum().backward()
    assert np.all(np.isfinite(y.numpy())) and np.all((y.numpy() >= 0) & (y.numpy() <= 1))
    assert np.all(np.isfinite(x.grad.numpy()))


def test_exp_log_div_follow_pytorch_at_the_edges_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tge.tensor(1000.0).exp().item() == math.inf
        assert tge.tensor(0.0).log().item() == -math.inf
        assert (tge.tensor(1.0) / 0.0).item() == math.inf

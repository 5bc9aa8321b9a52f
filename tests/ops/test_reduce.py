"""Reductions and the softmax family: forward against NumPy and backward against gradcheck on
drawn shapes and dims (negative, tuples, keepdim, 0-d), known values, ties, stability, errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.strategies import arrays, dims_of, shapes, values

# Values on a 0.1 grid, drawn without repeats: no ties for max/min, and a variance well above 0.
GRID = st.integers(-40, 40).map(lambda k: k / 10)


def np_axis(dim, ndim):
    """The NumPy ``axis`` for a tinygrad_edu ``dim`` (a 0-d tensor accepts dim 0 / -1; NumPy wants None)."""
    return None if ndim == 0 else dim


def reduced_count(shape, dim) -> int:
    if dim is None or len(shape) == 0:
        return math.prod(shape)
    dims = dim if isinstance(dim, tuple) else (dim,)
    return math.prod(shape[d] for d in dims)


@st.composite
def tensor_and_dim(draw, unique=False, single_dim=False):
    shape = draw(shapes())
    x = tge.tensor(draw(arrays(shape, GRID if unique else values(), unique=unique)), requires_grad=True)
    if single_dim:
        dim = draw(st.integers(-1, 0) if x.ndim == 0 else st.integers(-x.ndim, x.ndim - 1))
    else:
        dim = draw(dims_of(x.ndim))
    return x, dim, draw(st.booleans())


# ---- sum mean var std amax amin logsumexp: forward vs NumPy, backward vs gradcheck ---------------

REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, k), lambda a, d, k: a.sum(axis=d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, k), lambda a, d, k: a.mean(axis=d, keepdims=k)),
    "var_biased": (lambda x, d, k: x.var(d, False, k), lambda a, d, k: a.var(axis=d, keepdims=k)),
    "amax": (lambda x, d, k: x.amax(d, k), lambda a, d, k: a.max(axis=d, keepdims=k)),
    "amin": (lambda x, d, k: x.amin(d, k), lambda a, d, k: a.min(axis=d, keepdims=k)),
    "logsumexp": (
        lambda x, d, k: x.logsumexp(d, k),
        lambda a, d, k: np.log(np.exp(a).sum(axis=d, keepdims=k)),
    ),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data())
def test_reduction_forward_and_backward(name, data):
    fn, ref = REDUCTIONS[name]
    x, dim, keepdim = data.draw(tensor_and_dim(unique=name in ("amax", "amin")))
    y = fn(x, dim, keepdim)
    expected = ref(x.numpy(), np_axis(dim, x.ndim), keepdim)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert tge.gradcheck(lambda x: fn(x, dim, keepdim), [x])


@pytest.mark.parametrize("op", ["var", "std"])
@given(data=st.data())
def test_unbiased_var_and_std(op, data):
    x, dim, keepdim = data.draw(tensor_and_dim(unique=True))
    n = reduced_count(x.shape, dim)
    if n < 2:  # n − 1 = 0: nothing to divide by (PyTorch gives nan)
        dim, n = None, x.numel()
    if n < 2:
        return
    y = getattr(x, op)(dim, True, keepdim)
    expected = getattr(np, op)(x.numpy(), axis=np_axis(dim, x.ndim), ddof=1, keepdims=keepdim)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10)
    assert tge.gradcheck(lambda x: getattr(x, op)(dim, True, keepdim), [x])


def test_var_correction_keyword():
    x = tge.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var(correction=0).item() == pytest.approx(1.25)
    assert x.var(correction=2).item() == pytest.approx(2.5)


# ---- max / min: 0-d without dim, (values, indices) with one dim -----------------------------------


@pytest.mark.parametrize("op", ["max", "min"])
@given(data=st.data())
def test_max_min_without_dim_is_a_0d_tensor(op, data):
    x, _, _ = data.draw(tensor_and_dim(unique=True))
    y = getattr(x, op)()
    assert y.shape == ()
    assert y.item() == getattr(np, op)(x.numpy())
    assert tge.gradcheck(lambda x: getattr(x, op)(), [x])


@pytest.mark.parametrize("op", ["max", "min"])
@given(data=st.data())
def test_max_min_with_dim_returns_values_and_indices(op, data):
    x, dim, keepdim = data.draw(tensor_and_dim(unique=True, single_dim=True))
    result = getattr(x, op)(dim, keepdim)
    values_, indices = result
    assert result.values is values_ and result.indices is indices
    a, axis = x.numpy(), np_axis(dim, x.ndim)
    np.testing.assert_array_equal(values_.numpy(), getattr(np, op)(a, axis=axis, keepdims=keepdim))
    np.testing.assert_array_equal(indices.numpy(), getattr(np, f"arg{op}")(a, axis=axis, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert tge.gradcheck(lambda x: getattr(x, op)(dim, keepdim).values, [x])


def test_max_as_a_module_function_and_elementwise_form():
    x = tge.tensor([[1.0, 5.0], [7.0, 2.0]])
    values_, indices = tge.max(x, 1)
    assert values_.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert tge.max(x).item() == 7.0
    assert x.max(tge.tensor([[3.0, 3.0], [3.0, 3.0]])).tolist() == [[3.0, 5.0], [7.0, 3.0]]
    assert tge.min(x, dim=0).values.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin(op, data):
    x, dim, keepdim = data.draw(tensor_and_dim(unique=True, single_dim=True))
    a = x.numpy()
    i = getattr(x, op)(dim, keepdim)
    assert i.dtype == np.int64 and not i.requires_grad
    np.testing.assert_array_equal(i.numpy(), getattr(np, op)(a, axis=np_axis(dim, x.ndim), keepdims=keepdim))
    flat = getattr(x, op)()  # no dim: the index into the flattened tensor
    assert flat.shape == () and flat.item() == getattr(np, op)(a)
    assert getattr(x, op)(keepdim=True).shape == (1,) * x.ndim


# ---- ties: amax shares the gradient, max(dim) gives it to the returned index only ------------------


def test_amax_ties_share_the_gradient():
    x = tge.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.amax().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    x = tge.tensor([[2.0, 2.0, 2.0, 1.0]], requires_grad=True)
    x.amin(dim=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0, 1.0]]
    x = tge.tensor([[1.0, 1.0], [1.0, 0.0]], requires_grad=True)
    x.amin(dim=(0, 1)).backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 1.0]]
    x = tge.tensor([4.0, 4.0, 4.0, 4.0], requires_grad=True)
    x.max().backward()  # no dim: like amax, as in PyTorch
    assert x.grad.tolist() == [0.25] * 4


def test_max_with_dim_gives_the_gradient_to_the_returned_index_only():
    x = tge.tensor([1.0, 3.0, 3.0], requires_grad=True)
    values_, indices = x.max(0)
    values_.backward()
    assert indices.item() == 1  # the first of the tied maxima, as PyTorch on the CPU
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    x = tge.tensor([[1.0, 1.0, 3.0]], requires_grad=True)
    values_, indices = x.min(dim=-1)
    values_.sum().backward()
    assert indices.tolist() == [0]
    assert x.grad.tolist() == [[1.0, 0.0, 0.0]]


def test_max_with_dim_on_a_0d_tensor():
    x = tge.tensor(3.0, requires_grad=True)
    values_, indices = x.max(0)
    assert values_.item() == 3.0 and indices.item() == 0 and indices.shape == ()
    values_.backward()
    assert x.grad.item() == 1.0


# ---- softmax / log_softmax -----------------------------------------------------------------------


def np_log_softmax(a, axis):
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax(op, data):
    x, dim, _ = data.draw(tensor_and_dim(single_dim=True))
    y = getattr(x, op)(dim)
    logp = np_log_softmax(x.numpy(), np_axis(dim, x.ndim))
    np.testing.assert_allclose(y.numpy(), np.exp(logp) if op == "softmax" else logp, rtol=1e-10, atol=1e-12)
    if op == "softmax":
        np.testing.assert_allclose(y.numpy().sum(axis=np_axis(dim, x.ndim)), 1.0)
    assert tge.gradcheck(lambda x: getattr(x, op)(dim), [x])
    assert tge.gradcheck(lambda x: getattr(tge, op)(x, dim), [x])


def test_softmax_gradient_of_a_sum_is_zero():
    # Σ softmax = 1 whatever x is, so its gradient vanishes
    x = tge.randn(2, 5, dtype=tge.float64, requires_grad=True)
    x.softmax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-15)


# ---- known values -----------------------------------------------------------------------------------


def test_known_values():
    np.testing.assert_allclose(tge.zeros(2, 4).softmax(dim=1).numpy(), 0.25)  # equal logits: uniform
    np.testing.assert_allclose(tge.full((3,), 7.0).log_softmax(0).numpy(), -math.log(3), rtol=1e-6)
    assert tge.tensor([0.0, 0.0]).logsumexp(0).item() == pytest.approx(math.log(2))
    assert tge.tensor([1.0, 2.0, 3.0, 4.0]).var().item() == pytest.approx(5 / 3)
    assert tge.tensor([1.0, 2.0, 3.0, 4.0]).var(unbiased=False).item() == pytest.approx(1.25)
    assert tge.tensor([1.0, 2.0, 3.0, 4.0]).std(unbiased=False).item() == pytest.approx(math.sqrt(1.25))
    assert tge.tensor([[1.0, 2.0], [3.0, 4.0]]).mean(dim=0).tolist() == [2.0, 3.0]
    assert tge.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=-1, keepdim=True).tolist() == [[3.0], [7.0]]


def test_known_gradients():
    x = tge.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x.mean().backward()
    assert x.grad.tolist() == [0.25] * 4  # dmean/dx = 1/n
    x = tge.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True, dtype=tge.float64)
    x.var().backward()  # dvar/dx = 2(x − mean)/(n − 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.array([1, 2, 3, 4]) - 2.5) / 3)
    x = tge.tensor([0.0, 0.0], requires_grad=True)
    x.logsumexp(0).backward()  # dlogsumexp/dx = softmax(x)
    assert x.grad.tolist() == [0.5, 0.5]


def test_reductions_of_0d_tensors():
    x = tge.tensor(2.0, requires_grad=True)
    for y in (x.sum(), x.sum(0), x.mean(-1), x.amax(0), x.logsumexp(0), x.sum(0, keepdim=True)):
        assert y.shape == () and y.item() == 2.0
    assert x.softmax(0).item() == 1.0 and x.log_softmax(-1).item() == 0.0


# ---- stability ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_extreme_logits_are_finite_without_warnings(op):
    x = tge.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = getattr(x, op)(1)
        (y * tge.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    if op == "softmax":
        np.testing.assert_allclose(y.numpy(), [[1, 0, 0], [1 / 3] * 3, [1 / 3] * 3], atol=1e-7)
    if op == "logsumexp":
        np.testing.assert_allclose(y.numpy(), [1e4, -1e4 + math.log(3), 1e4 + math.log(3)], rtol=1e-6)


# ---- errors ------------------------------------------------------------------------------------------


def test_dim_errors_name_the_op_and_the_range():
    x = tge.zeros(2, 3)
    with pytest.raises(IndexError, match=r"sum: dim 2 is out of range for a tensor with 2 dims \(use -2..1\)"):
        x.sum(2)
    with pytest.raises(ValueError, match="mean: dim .* names the same axis twice"):
        x.mean((1, -1))
    with pytest.raises(TypeError, match="max: dim must be a single int"):
        x.max((0, 1))
    with pytest.raises(TypeError, match="dim must be an int or a tuple of ints"):
        x.sum(1.5)

"""Losses: forward against NumPy references written from PyTorch's definitions, backward against
gradcheck on drawn inputs, known values, stability at extreme inputs, and the error messages.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tge
from tests.strategies import MAX_SIDE, arrays, shapes, tensors, values
from tinygrad_edu.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)

REDUCTIONS = ["mean", "sum", "none"]


# ---- cross_entropy and nll_loss ----------------------------------------------------------------------


def np_log_softmax(a, axis):
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, log_probs=None):
    """PyTorch's definition: per prediction (1 − ε)·(−w_t log p_t) + ε·(−Σ_c w_c log p_c / C)."""
    class_axis = 1 if x.ndim > 1 else 0
    logp = np_log_softmax(x, class_axis) if log_probs is None else log_probs
    rows = np.moveaxis(logp, class_axis, -1).reshape(-1, x.shape[class_axis])
    c = rows.shape[1]
    w = np.ones(c) if weight is None else weight
    tt = t.reshape(-1)
    keep = tt != ignore_index
    safe = np.where(keep, tt, 0)
    nll = -w[safe] * rows[np.arange(len(tt)), safe] * keep
    smooth = -(rows * w).sum(axis=1) / c * keep
    losses = (1 - label_smoothing) * nll + label_smoothing * smooth
    if reduction == "none":
        return losses.reshape(t.shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (w[safe] * keep).sum()


@st.composite
def classification(draw, allow_ignore=True):
    """Logits (C,), (N, C) or (N, C, d1[, d2]) and matching int targets (some set to ignore_index)."""
    c = draw(st.integers(1, MAX_SIDE))
    layout = draw(st.sampled_from(["C", "NC", "NCd"]))
    if layout == "C":
        shape, t_shape = (c,), ()
    else:
        n = draw(st.integers(1, MAX_SIDE))
        extra = draw(shapes(min_dims=1, max_dims=2, max_side=3)) if layout == "NCd" else ()
        shape, t_shape = (n, c, *extra), (n, *extra)
    x = tge.tensor(draw(arrays(shape, values(-5, 5))), requires_grad=True)
    t = draw(hnp.arrays(np.int64, t_shape, elements=st.integers(0, c - 1)))
    if allow_ignore and t.size > 1 and draw(st.booleans()):
        t.reshape(-1)[0] = -100  # one ignored prediction; the others still count
    return x, t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_cross_entropy(reduction, data):
    x, t = data.draw(classification())
    c = x.shape[1 if x.ndim > 1 else 0]
    smoothing = data.draw(st.sampled_from([0.0, 0.1, 1.0]))
    weight = data.draw(st.none() | hnp.arrays(np.float64, (c,), elements=st.floats(0.5, 2.0)))
    w = None if weight is None else tge.tensor(weight)
    target = tge.tensor(t)

    def fn(x):
        return cross_entropy(x, target, weight=w, reduction=reduction, label_smoothing=smoothing)

    expected = np_cross_entropy(x.numpy(), t, weight, reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(fn(x).numpy(), expected, rtol=1e-10, atol=1e-12)
    assert fn(x).shape == np.shape(expected)
    assert tge.gradcheck(fn, [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_nll_loss(reduction, data):
    x, t = data.draw(classification())
    c = x.shape[1 if x.ndim > 1 else 0]
    weight = data.draw(st.none() | hnp.arrays(np.float64, (c,), elements=st.floats(0.5, 2.0)))
    w = None if weight is None else tge.tensor(weight)
    target = tge.tensor(t)

    def fn(x):
        return nll_loss(x, target, weight=w, reduction=reduction)

    expected = np_cross_entropy(x.numpy(), t, weight, reduction=reduction, log_probs=x.numpy())
    np.testing.assert_allclose(fn(x).numpy(), expected, rtol=1e-10, atol=1e-12)
    assert tge.gradcheck(fn, [x])
    # cross_entropy is nll_loss after log_softmax, in one stable step
    ce = cross_entropy(x, target, weight=w, reduction=reduction)
    nll = nll_loss(x.log_softmax(1 if x.ndim > 1 else 0), target, weight=w, reduction=reduction)
    np.testing.assert_allclose(ce.numpy(), nll.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = tge.randn(4, 3, dtype=tge.float64, requires_grad=True)
    t = tge.tensor([0, 2, 1, 2])
    cross_entropy(x, t).backward()
    p = np.exp(np_log_softmax(x.numpy(), 1))
    np.testing.assert_allclose(x.grad.numpy(), (p - np.eye(3)[t.numpy()]) / 4, rtol=1e-12)
    x.grad = None
    cross_entropy(x, t, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), p - np.eye(3)[t.numpy()], rtol=1e-12)


def test_cross_entropy_known_values():
    # equal logits: p = 1/C for every class, so the loss is ln C
    assert cross_entropy(tge.zeros(2, 4), tge.tensor([1, 3])).item() == pytest.approx(math.log(4))
    # a (C,) input with a 0-d target
    assert cross_entropy(tge.zeros(5), tge.tensor(2)).item() == pytest.approx(math.log(5))
    # ignored rows neither count in the loss nor in the mean's denominator
    x = tge.tensor([[0.0, 0.0], [5.0, -5.0]])
    assert cross_entropy(x, tge.tensor([0, -100])).item() == pytest.approx(math.log(2))
    assert cross_entropy(x, tge.tensor([0, 7]), ignore_index=7).item() == pytest.approx(math.log(2))
    # full label smoothing (ε = 1) on equal logits is still ln C
    assert cross_entropy(tge.zeros(1, 3), tge.tensor([0]), label_smoothing=1.0).item() == pytest.approx(math.log(3))


def test_ignored_rows_get_no_gradient():
    x = tge.randn(3, 4, requires_grad=True)
    cross_entropy(x, tge.tensor([1, -100, 2])).backward()
    assert x.grad.numpy()[1].tolist() == [0.0] * 4


# ---- binary cross-entropy ---------------------------------------------------------------------------


def np_bce(p, y):
    return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))


def np_bce_with_logits(x, y, pos_weight=1.0):
    log_sig = -np.logaddexp(0, -x)  # log σ(x)
    log_one_minus_sig = -np.logaddexp(0, x)  # log(1 − σ(x))
    return -(pos_weight * y * log_sig + (1 - y) * log_one_minus_sig)


def reduce_np(losses, reduction):
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy(reduction, data):
    shape = data.draw(shapes())
    p = tge.tensor(data.draw(arrays(shape, values(0.05, 0.95))), requires_grad=True)
    y = tge.tensor(data.draw(arrays(shape, values(0.0, 1.0))))
    weight = data.draw(st.none() | arrays(shape, values(0.5, 2.0)))
    w = None if weight is None else tge.tensor(weight)

    def fn(p):
        return binary_cross_entropy(p, y, weight=w, reduction=reduction)

    losses = np_bce(p.numpy(), y.numpy()) * (1.0 if weight is None else weight)
    np.testing.assert_allclose(fn(p).numpy(), reduce_np(losses, reduction), rtol=1e-10)
    assert tge.gradcheck(fn, [p])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy_with_logits(reduction, data):
    shape = data.draw(shapes(min_dims=1))
    x = tge.tensor(data.draw(arrays(shape, values(-6, 6))), requires_grad=True)
    y = tge.tensor(data.draw(arrays(shape, values(0.0, 1.0))))
    pos_weight = data.draw(st.none() | arrays(shape[-1:], values(0.5, 3.0)))
    pw = None if pos_weight is None else tge.tensor(pos_weight)

    def fn(x):
        return binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pw)

    losses = np_bce_with_logits(x.numpy(), y.numpy(), 1.0 if pos_weight is None else pos_weight)
    np.testing.assert_allclose(fn(x).numpy(), reduce_np(losses, reduction), rtol=1e-10)
    assert tge.gradcheck(fn, [x])
    # the same loss as sigmoid followed by binary_cross_entropy (when pos_weight is 1)
    if pos_weight is None:
        np.testing.assert_allclose(
            fn(x).numpy(), binary_cross_entropy(x.sigmoid(), y, reduction=reduction).numpy(), rtol=1e-9
        )


def test_bce_known_values():
    half = tge.full((3,), 0.5)
    assert binary_cross_entropy(half, tge.tensor([0.0, 1.0, 1.0])).item() == pytest.approx(math.log(2))
    assert binary_cross_entropy_with_logits(tge.zeros(3), tge.tensor([0.0, 1.0, 0.5])).item() == pytest.approx(
        math.log(2)
    )
    # dL/dx = σ(x) − y for BCE with logits
    x = tge.tensor([0.0, 2.0], requires_grad=True, dtype=tge.float64)
    binary_cross_entropy_with_logits(x, tge.tensor([1.0, 0.0], dtype=tge.float64), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5 - 1.0, 1 / (1 + math.exp(-2.0))])
    # pos_weight multiplies the positive term: y = 1, x = 0 gives pos_weight · ln 2
    loss = binary_cross_entropy_with_logits(tge.zeros(1), tge.ones(1), pos_weight=tge.tensor([3.0]))
    assert loss.item() == pytest.approx(3 * math.log(2))


def test_bce_on_probabilities_of_exactly_0_and_1_is_finite():
    p = tge.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    y = tge.tensor([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = binary_cross_entropy(p, y, reduction="none")
        losses.sum().backward()
    assert losses.tolist() == [100.0, 100.0, 0.0, 0.0]  # −log 0 is clamped at 100, as in PyTorch
    assert np.all(np.isfinite(p.grad.numpy()))


# ---- mse_loss -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_loss(reduction, data):
    shape = data.draw(shapes())
    x, y = data.draw(tensors(shape=shape)), data.draw(tensors(shape=shape))
    expected = reduce_np((x.numpy() - y.numpy()) ** 2, reduction)
    np.testing.assert_allclose(mse_loss(x, y, reduction).numpy(), expected, rtol=1e-12)
    assert tge.gradcheck(lambda x, y: mse_loss(x, y, reduction=reduction), [x, y])


def test_mse_known_value():
    x = tge.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = mse_loss(x, tge.tensor([1.0, 0.0, 0.0]))
    assert loss.item() == pytest.approx(13 / 3)
    loss.backward()
    assert x.grad.numpy() == pytest.approx([0.0, 4 / 3, 2.0])  # 2(x − y)/n


# ---- stability --------------------------------------------------------------------------------------


def test_cross_entropy_with_huge_logits_is_finite_without_warnings():
    x = tge.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cross_entropy(x, tge.tensor([1, 0, 2]), reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [2e4, 2e4 + math.log(2), math.log(3)], rtol=1e-6)
    assert np.all(np.isfinite(x.grad.numpy()))


def test_bce_with_logits_with_huge_logits_is_finite_without_warnings():
    x = tge.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    y = tge.tensor([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=tge.tensor([2.0]))
        losses.sum().backward()
    np.testing.assert_allclose(losses.numpy(), [0.0, 0.0, 1e4, 2e4])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -2.0])


# ---- errors ----------------------------------------------------------------------------------------


def test_cross_entropy_refuses_float_targets_and_says_what_to_do():
    with pytest.raises(TypeError, match=r"target must hold class indices .*target\.long\(\).*argmax\(dim=1\)"):
        cross_entropy(tge.zeros(2, 3), tge.tensor([0.0, 1.0]))


def test_out_of_range_class_index():
    with pytest.raises(IndexError, match=r"target holds class 3, but the logits have 3 classes \(valid targets: 0..2"):
        cross_entropy(tge.zeros(2, 3), tge.tensor([0, 3]))
    with pytest.raises(IndexError, match="target holds class -1"):
        nll_loss(tge.zeros(2, 3), tge.tensor([-1, 0]))


def test_target_shape_must_fit_the_logits():
    with pytest.raises(ValueError, match=r"logits of shape \(2, 3\) need a target of shape \(2,\), got \(2, 1\)"):
        cross_entropy(tge.zeros(2, 3), tge.tensor([[0], [1]]))


@pytest.mark.parametrize("loss", [mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits])
def test_elementwise_losses_refuse_shape_mismatch_and_suggest_the_reshape(loss):
    with pytest.raises(ValueError, match=r"input shape \(4, 1\) and target shape \(4,\) differ.*target\.view\(4, 1\)"):
        loss(tge.full((4, 1), 0.5), tge.ones(4))


def test_bce_refuses_values_outside_0_1_and_points_to_the_logits_version():
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        binary_cross_entropy(tge.tensor([1.5, 0.2]), tge.tensor([1.0, 0.0]))


def test_unknown_reduction():
    with pytest.raises(ValueError, match=r"mse_loss: reduction must be one of \('mean', 'sum', 'none'\), got 'avg'"):
        mse_loss(tge.ones(2), tge.ones(2), reduction="avg")

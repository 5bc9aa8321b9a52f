"""Normalisation: the ops.norm Functions by gradcheck, and BatchNorm / LayerNorm equal to torch's,
step by step, in training and evaluation (outputs, gradients and running statistics).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tests.nn.helpers import load_torch, randn
from tests.strategies import shapes, tensors
from tinygrad_edu import nn
from tinygrad_edu.ops.norm import Normalize, standardize

# ---- the Function itself --------------------------------------------------------------------------


@given(data=st.data())
def test_normalize_backward_over_any_axes(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=2))
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    affine_shape = tuple(1 if i in axes else n for i, n in enumerate(shape))  # γ, β broadcast along the other axes
    x = data.draw(tensors(shape=shape))
    w = data.draw(tensors(shape=affine_shape))
    b = data.draw(tensors(shape=affine_shape))
    assert tge.gradcheck(lambda x, w, b: Normalize.apply(x, w, b, axes, 1e-5), [x, w, b])
    assert tge.gradcheck(lambda x: Normalize.apply(x, None, None, axes, 1e-5), [x])


def test_standardize_gives_mean_zero_and_variance_one():
    x = randn(4, 5, 6, dtype=np.float64) * 3 + 7
    x_hat, inv_std = standardize(x, (0, 2), 0.0)
    np.testing.assert_allclose(x_hat.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=(0, 2)), 1, rtol=1e-12)
    assert inv_std.shape == (1, 5, 1)


def test_standardize_is_stable_for_a_large_offset():
    x = np.array([1e4 + 1, 1e4 + 2, 1e4 + 3], dtype=np.float32)  # E[x²] − E[x]² would lose every digit
    x_hat, _ = standardize(x, (0,), 0.0)
    np.testing.assert_allclose(x_hat, [-1.2247449, 0, 1.2247449], rtol=1e-4)


def test_normalize_records_its_name():
    x = tge.randn(3, 4, requires_grad=True)
    assert type(F.layer_norm(x, 4).grad_fn).__name__ == "LayerNorm"
    assert type(F.batch_norm(x, None, None, training=True).grad_fn).__name__ == "BatchNorm"


# ---- BatchNorm against torch, over several steps -------------------------------------------------


def _bn_pair(torch, cls: str, c: int, **kwargs):
    ours, theirs = getattr(nn, cls)(c, **kwargs), getattr(torch.nn, cls)(c, **kwargs)
    if kwargs.get("affine", True):
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(0.5, 1.5, c))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.linspace(-0.2, 0.3, c))
    load_torch(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize(
    "cls, shape",
    [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 5, 5))],
)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.3, "affine": False}, {"bias": False}])
def test_batch_norm_matches_torch_in_training_and_evaluation(cls, shape, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _bn_pair(torch, cls, shape[1], **kwargs)
    for step in range(3):
        x = randn(*shape, seed=step) * (step + 1) + step  # statistics that move from step to step
        g = randn(*shape, seed=10 + step)
        xt = torch.tensor(x, requires_grad=True)
        xo = tge.tensor(x, requires_grad=True)
        yt, yo = theirs(xt), ours(xo)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        yt.backward(torch.tensor(g))
        yo.backward(g)
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5)
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == step + 1
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-5)
    ours.eval(), theirs.eval()
    x = randn(*shape, seed=99)
    y = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(tge.tensor(x)).numpy(), y, rtol=1e-4, atol=1e-6)
    assert ours.num_batches_tracked.item() == 3  # evaluation does not count batches


def test_batch_norm_without_running_stats_uses_batch_statistics_always():
    torch = pytest.importorskip("torch")
    ours, theirs = _bn_pair(torch, "BatchNorm2d", 2, track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    x = randn(3, 2, 4, 4)
    ours.eval(), theirs.eval()
    y = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(tge.tensor(x)).numpy(), y, rtol=1e-4, atol=1e-6)


def test_batch_norm_running_statistics_by_hand():
    """running = 0.9 · running + 0.1 · batch, with the unbiased variance; normalising uses the biased one."""
    bn = nn.BatchNorm1d(1)
    x = np.array([[1.0], [2.0], [3.0], [6.0]], dtype=np.float32)  # mean 3, biased var 3.5, unbiased 14/3
    y = bn(tge.tensor(x))
    np.testing.assert_allclose(y.numpy()[:, 0], (x[:, 0] - 3) / np.sqrt(3.5 + 1e-5), rtol=1e-6)
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.3], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.1 * 14 / 3], rtol=1e-6)
    bn.eval()
    np.testing.assert_allclose(
        bn(tge.tensor([[1.0]])).numpy(), [[(1 - 0.3) / np.sqrt(0.9 + 0.1 * 14 / 3 + 1e-5)]], rtol=1e-6
    )


def test_batch_norm_reset_running_stats():
    bn = nn.BatchNorm2d(2)
    bn(tge.randn(2, 2, 3, 3) + 5)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0, 0] and bn.running_var.tolist() == [1, 1]
    assert bn.num_batches_tracked.item() == 0


# ---- LayerNorm against torch ---------------------------------------------------------------------


@pytest.mark.parametrize("normalized_shape, shape", [(5, (3, 5)), ((4, 5), (2, 3, 4, 5)), (6, (6,))])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_layer_norm_matches_torch_with_gradients(normalized_shape, shape, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LayerNorm(normalized_shape, **kwargs), torch.nn.LayerNorm(normalized_shape, **kwargs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(randn(*p.shape, seed=3)))
    load_torch(ours, theirs)
    x, g = randn(*shape) * 2 + 1, randn(*shape, seed=1)
    xt, xo = torch.tensor(x, requires_grad=True), tge.tensor(x, requires_grad=True)
    yt, yo = theirs(xt), ours(xo)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    yt.backward(torch.tensor(g))
    yo.backward(g)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_layer_norm_is_the_same_in_training_and_evaluation():
    ln = nn.LayerNorm(4)
    x = tge.randn(3, 4)
    a = ln(x).numpy()
    np.testing.assert_array_equal(ln.eval()(x).numpy(), a)
    np.testing.assert_allclose(a.mean(axis=1), 0, atol=1e-6)


def test_layer_norm_shape_errors():
    with pytest.raises(ValueError, match=r"input of shape \(3, 5\) does not end with normalized_shape \(4,\)"):
        nn.LayerNorm(4)(tge.zeros(3, 5))
    with pytest.raises(ValueError, match="weight has shape"):
        F.layer_norm(tge.zeros(3, 4), 4, weight=tge.ones(3))
    with pytest.raises(ValueError, match="running_mean has shape"):
        F.batch_norm(tge.zeros(3, 4), tge.zeros(3), tge.ones(4))

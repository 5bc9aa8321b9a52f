"""Numerics at the edges: −inf logits, ignore_index rows, huge float32 values, pow/var edge cases, and
the error messages for shapes, against PyTorch where it is installed and known values otherwise."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F


def test_cross_entropy_finite_with_minus_inf_logits_ignored_rows_and_huge_spread():
    x = tge.tensor([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [3e38, -3e38, 0.0]], requires_grad=True)
    t = tge.tensor([0, -100, 0])
    loss = F.cross_entropy(x, t)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    nll = F.nll_loss(x.log_softmax(1), t)
    assert np.isfinite(nll.item())


def test_layer_norm_of_huge_row_is_exact():
    y = F.layer_norm(tge.tensor([[1e30, -1e30, 0.0]]), 3).numpy()
    np.testing.assert_allclose(y, [[1.2247449, -1.2247449, 0.0]], rtol=1e-6, atol=1e-6)


def test_var_std_edge_cases():
    assert np.isinf(tge.tensor([1.0, 2.0]).var(correction=2).item())
    assert np.isnan(tge.tensor([1.0]).var().item())
    assert tge.tensor([3e38, -3e38, 0.0]).std().item() == pytest.approx(3e38, rel=1e-6)


def test_against_torch_on_extreme_values():
    torch = pytest.importorskip("torch")
    v = np.array([0, 1, -1, 88, -89, 1e20, -1e30, 3.4e38, -3.4e38, 1e-45], dtype=np.float32)
    for f in [lambda t: t * t, lambda t: t / 1e-3, lambda t: t.exp(), lambda t: t.sigmoid(), lambda t: t.tanh()]:
        a, b = tge.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        ya, yb = f(a), f(b)
        ya.sum().backward()
        yb.sum().backward()
        np.testing.assert_allclose(ya.numpy(), yb.detach().numpy(), rtol=1e-5, atol=1e-30)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-20)


def test_pow_gradients_at_edges_match_torch():
    torch = pytest.importorskip("torch")
    grid = np.array([0.0, -1.0, 2.0, -0.5, 0.5], dtype=np.float64)
    xs, ys = np.meshgrid(grid, grid)
    xs, ys = xs.ravel(), ys.ravel()
    a, b = tge.tensor(xs, requires_grad=True), tge.tensor(ys, requires_grad=True)
    (a**b).sum().backward()
    ta, tb = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
    (ta**tb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), equal_nan=True)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), equal_nan=True)


def test_errors_name_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add: The size of tensor a \(3\) must match the size of tensor b \(5\)"):
        tge.ones(2, 3) + tge.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"cross_entropy: weight tensor should be defined .* 4 classes"):
        F.cross_entropy(tge.zeros(3, 4), tge.tensor([0, 1, 2]), weight=tge.ones(5))
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\): row \[1\]"):
        tge.tensor([[1, 2], [3]])

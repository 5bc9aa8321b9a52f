"""F.kl_div / nn.KLDivLoss against PyTorch (order, reductions, log_target, zeros, gradients); distillation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu import nn
from tinygrad_edu.distillation import distillation_loss

F = nn.functional
REDUCTIONS = ["none", "sum", "mean", "batchmean"]


def test_known_value_and_zero_targets():
    p = np.array([[0.5, 0.5, 0.0]])
    q = np.array([[0.25, 0.25, 0.5]])
    # KL(p ‖ q) = Σ p log(p/q) = 2 · 0.5 · log 2 (the zero entry adds nothing)
    loss = F.kl_div(tge.tensor(np.log(q)), tge.tensor(p), reduction="batchmean")
    assert loss.item() == pytest.approx(np.log(2))
    assert nn.KLDivLoss(reduction="sum")(tge.tensor(np.log(p + 1e-30)), tge.tensor(p)).item() == pytest.approx(
        0, abs=1e-6
    )


@given(
    seed=st.integers(0, 2**32 - 1),
    reduction=st.sampled_from(REDUCTIONS),
    log_target=st.booleans(),
    shape=st.sampled_from([(3, 5), (1, 4), (2, 3, 4)]),
)
def test_agrees_with_torch_values_and_gradients(seed, reduction, log_target, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x = np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1]))
    t = rng.dirichlet(np.ones(shape[-1]), shape[:-1])
    t[..., 0] = 0.0 if not log_target else t[..., 0]  # zeros in the target are allowed (0 log 0 = 0)
    t = np.log(t) if log_target else t
    ours_x, ours_t = tge.tensor(x, requires_grad=True), tge.tensor(t, requires_grad=True)
    theirs_x, theirs_t = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    ours = F.kl_div(ours_x, ours_t, reduction=reduction, log_target=log_target)
    theirs = torch.nn.functional.kl_div(theirs_x, theirs_t, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10, atol=1e-12)
    if log_target:  # the target's gradient too (without log_target torch's is undefined at t = 0)
        np.testing.assert_allclose(ours_t.grad.numpy(), theirs_t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_in_both_arguments():
    rng = np.random.default_rng(0)
    x = tge.tensor(np.log(rng.dirichlet(np.ones(4), 3)), requires_grad=True)
    t = tge.tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
    assert tge.gradcheck(lambda x, t: F.kl_div(x, t, reduction="batchmean"), [x, t])
    assert tge.gradcheck(lambda x, t: F.kl_div(x, t.log(), reduction="sum", log_target=True), [x, t])


def test_kldivloss_rejects_unknown_reductions():
    with pytest.raises(ValueError, match="batchmean"):
        nn.KLDivLoss(reduction="average")


def test_distillation_loss_is_t_squared_kl_plus_ce():
    rng = np.random.default_rng(1)
    s, t = tge.tensor(rng.standard_normal((6, 10))), tge.tensor(rng.standard_normal((6, 10)))
    y = tge.tensor(rng.integers(0, 10, 6))
    T, alpha = 3.0, 0.7
    kl = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
    want = alpha * T * T * kl + (1 - alpha) * F.cross_entropy(s, y)
    assert distillation_loss(s, t, y, T=T, alpha=alpha).item() == pytest.approx(want.item(), rel=1e-6)
    assert distillation_loss(t, t, T=T).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(s, t, y, T=0)


def test_t_squared_keeps_the_soft_gradient_size_across_temperatures():
    # ∂KL/∂u ≈ (u − v)/(N T²) for large T: the T² factor makes the gradient (nearly) independent of T
    rng = np.random.default_rng(2)
    v = rng.standard_normal((8, 10))
    norms = []
    u0 = v + rng.standard_normal((8, 10)) * 0.5
    for T in (4.0, 8.0, 16.0, 32.0):
        u = tge.tensor(u0, requires_grad=True)
        distillation_loss(u, tge.tensor(v), T=T).backward()
        norms.append(np.linalg.norm(u.grad.numpy()))
    assert max(norms) / min(norms) < 1.1

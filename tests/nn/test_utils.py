"""nn.utils: gradient clipping equal to torch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.nn.helpers import randn
from tinygrad_edu import nn


def _params_with_grads(scale: float):
    grads = [randn(3, 4) * scale, randn(5, seed=1) * scale]
    params = [nn.Parameter(np.zeros(g.shape, dtype=np.float32)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = tge.tensor(g)
    return params, grads


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3])
@pytest.mark.parametrize("scale", [0.1, 10.0])
def test_clip_grad_norm_matches_torch(norm_type, scale):
    torch = pytest.importorskip("torch")
    params, grads = _params_with_grads(scale)
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, g in zip(theirs, grads):
        p.grad = torch.tensor(g)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type)
    total_o = nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert total_o.item() == pytest.approx(total_t.item(), rel=1e-5)
    for p, t in zip(params, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-5)


def test_clip_grad_norm_caps_the_norm_and_keeps_the_direction():
    params, grads = _params_with_grads(10.0)
    total = nn.utils.clip_grad_norm_(params, max_norm=2.0)
    assert total.item() == pytest.approx(math.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)), rel=1e-5)
    clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
    assert np.linalg.norm(clipped) == pytest.approx(2.0, rel=1e-4)
    original = np.concatenate([g.ravel() for g in grads])
    np.testing.assert_allclose(clipped / np.linalg.norm(clipped), original / np.linalg.norm(original), rtol=1e-5)


def test_clip_grad_norm_skips_parameters_without_grads_and_checks_finiteness():
    p = nn.Parameter(tge.zeros(2))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    p.grad = tge.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    params, grads = _params_with_grads(2.0)
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, g in zip(theirs, grads):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    nn.utils.clip_grad_value_(params, 0.5)
    for p, t in zip(params, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
    assert max(np.abs(p.grad.numpy()).max() for p in params) == 0.5

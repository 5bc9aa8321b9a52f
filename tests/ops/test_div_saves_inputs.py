"""Div saves its inputs, not its output (as PyTorch's DivBackward does), so writing into the quotient afterwards
(d2l's masked softmax: scores = q·k / √d, then scores[~mask] = −1e6) keeps its gradient."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_edu as tge
from tests.strategies import arrays, shapes


def test_writing_into_the_quotient_afterwards_keeps_the_gradient():
    x = tge.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    z = (x * 1.0) / 2.0
    z[z > 2.0] = -1e6  # in place on Div's output
    z.softmax(-1).sum().backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad.numpy()))


def test_it_matches_torch_on_the_masked_softmax_pattern():
    torch = pytest.importorskip("torch")
    q = np.random.default_rng(0).standard_normal((2, 3, 4))
    grads = []
    for lib in (tge, torch):
        x = lib.tensor(q, requires_grad=True)
        scores = lib.matmul(x, x.transpose(1, 2)) / 2.0
        flat = scores.reshape(-1, 3)
        flat[lib.tensor([[False, False, True]] * 6)] = -1e6
        (lib.softmax(flat.reshape(2, 3, 3), dim=-1) * lib.arange(3.0)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(data=shapes(min_dims=1).flatmap(lambda s: arrays(s).flatmap(lambda a: arrays(s).map(lambda b: (a, b)))))
def test_div_gradcheck_in_both_arguments(data):
    a, b = data
    x = tge.tensor(a, requires_grad=True)
    y = tge.tensor(np.where(np.abs(b) < 0.5, 0.5 + np.abs(b), b), requires_grad=True)  # away from y = 0
    assert tge.gradcheck(lambda x, y: x / y, [x, y])

"""Hypothesis: every op on any finite float32 input gives PyTorch's forward and backward, with no NumPy warning.

The values are drawn from the whole float32 range, with the edges on purpose: 0, the smallest subnormal,
±1e±30, ±3.4e38 (where x·x, exp(x) and Σx overflow). PyTorch returns inf or 0 there silently; so must we
(pyproject turns every RuntimeWarning into an error, so a NumPy overflow warning fails the test too).
Forward results and gradients are compared with PyTorch's, inf and nan included at the same places.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

EDGES = [
    float(np.float32(v))
    for v in (0.0, -0.0, 1e-45, -1e-45, 1e-30, -1e-30, 1, -1, 88.7, -103, 1e30, -1e30, 3.4e38, -3.4e38)
]
FLOAT32 = st.one_of(
    st.sampled_from(EDGES),
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.floats(-10, 10, width=32, allow_subnormal=False),
)


def matrices(min_side: int = 1) -> st.SearchStrategy:
    """float32 arrays of 1–2 dims (up to 4 per side) with values from anywhere in float32's range."""
    shape = hnp.array_shapes(min_dims=1, max_dims=2, min_side=min_side, max_side=4)
    return shape.flatmap(lambda s: hnp.arrays(np.float32, s, elements=FLOAT32))


# (name, ours, theirs): each takes one tensor of its own library and returns one tensor
UNARY = [
    ("exp", lambda t: t.exp(), lambda t: t.exp()),
    ("sigmoid", lambda t: t.sigmoid(), lambda t: t.sigmoid()),
    ("tanh", lambda t: t.tanh(), lambda t: t.tanh()),
    ("relu", lambda t: t.relu(), lambda t: t.relu()),
    ("square", lambda t: t * t, lambda t: t * t),
    ("scale", lambda t: t * 10.0, lambda t: t * 10.0),
    ("divide", lambda t: t / 1e-3, lambda t: t / 1e-3),
    ("abs", lambda t: t.abs(), lambda t: t.abs()),
    ("gelu", lambda t: F.gelu(t), lambda t: TF.gelu(t)),
    ("silu", lambda t: F.silu(t), lambda t: TF.silu(t)),
    ("softplus", lambda t: F.softplus(t), lambda t: TF.softplus(t)),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.01), lambda t: TF.leaky_relu(t, 0.01)),
    ("softmax", lambda t: F.softmax(t, -1), lambda t: TF.softmax(t, -1)),
    ("log_softmax", lambda t: F.log_softmax(t, -1), lambda t: TF.log_softmax(t, -1)),
    ("logsumexp", lambda t: t.logsumexp(-1), lambda t: t.logsumexp(-1)),
    ("sum", lambda t: t.sum(), lambda t: t.sum()),
    ("mean", lambda t: t.mean(-1), lambda t: t.mean(-1)),
    ("amax", lambda t: t.amax(-1), lambda t: t.amax(-1)),
    ("mse_to_zero", lambda t: F.mse_loss(t, tge.zeros(*t.shape)), lambda t: TF.mse_loss(t, torch.zeros(t.shape))),
    (
        "bce_logits",
        lambda t: F.binary_cross_entropy_with_logits(t, tge.ones(*t.shape)),
        lambda t: TF.binary_cross_entropy_with_logits(t, torch.ones(t.shape)),
    ),  # fmt: skip
]


# sums cancel: [3.4e38, −3.4e38, 1, 1, 1, 1] sums to 4 in one order and 2 in another, both within float32's
# rounding of the terms; their error bound is relative to Σ|x|, not to the result
CANCELLING = {
    "sum": lambda x: np.abs(x.astype(np.float64)).sum(),
    "mean": lambda x: np.abs(x.astype(np.float64)).mean(-1),
}


def _same(ours: np.ndarray, theirs: np.ndarray, what: str, atol: Any = 0.0) -> None:
    """Equal up to float32 rounding, with inf/nan at the same places (a tiny atol for subnormal noise)."""
    assert ours.shape == theirs.shape, what
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: nan in different places")
    finite = np.isfinite(theirs) & np.isfinite(ours)
    np.testing.assert_array_equal(ours[~finite & ~np.isnan(theirs)], theirs[~finite & ~np.isnan(theirs)], err_msg=what)
    scale = np.maximum(np.abs(theirs[finite]), 1.0)
    atol = np.broadcast_to(np.asarray(atol, dtype=np.float64), ours.shape)[finite]
    assert np.all(np.abs(ours[finite] - theirs[finite]) <= 1e-4 * scale + 1e-6 * atol + 1e-30), (
        f"{what}: ours {ours[finite]} vs torch {theirs[finite]}"
    )


@pytest.mark.parametrize("name,ours,theirs", UNARY, ids=[u[0] for u in UNARY])
@settings(max_examples=60, deadline=None)
@given(x=matrices())
@example(x=np.array([[3.4e38, -3.4e38, 1.0], [1.0, 1.0, 1.0]], dtype=np.float32))  # a sum that cancels: 4 or 2
def test_unary_ops_on_any_float32_match_pytorch_without_warnings(name, ours, theirs, x):
    a, b = tge.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    bound = CANCELLING[name](x) if name in CANCELLING else 0.0
    _same(ya.numpy(), yb.detach().numpy(), f"{name} forward on {x!r}", atol=bound)
    # a fixed upstream gradient of ones (Σy), the way a loss would start backward
    ya.sum().backward()
    yb.sum().backward()
    _same(a.grad.numpy(), b.grad.numpy(), f"{name} backward on {x!r}")


@settings(max_examples=80, deadline=None)
@given(x=matrices(min_side=2), data=st.data())
def test_cross_entropy_matches_pytorch_and_layer_norm_is_exact_on_any_float32(x, data):
    x2 = np.atleast_2d(x)
    classes = x2.shape[1]
    target = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=len(x2), max_size=len(x2))))
    a, b = tge.tensor(x2, requires_grad=True), torch.tensor(x2, requires_grad=True)
    la, lb = F.cross_entropy(a, tge.tensor(target)), TF.cross_entropy(b, torch.tensor(target))
    _same(la.numpy(), lb.detach().numpy(), f"cross_entropy on {x2!r}, {target}")
    la.backward()
    lb.backward()
    _same(a.grad.numpy(), b.grad.numpy(), f"cross_entropy backward on {x2!r}")

    # layer_norm against the exact answer (float64), not PyTorch: PyTorch's float32 kernel overflows on rows
    # like [1e30, 1e30] (nan) where the answer, 0, is representable; ours must get it
    x64 = x2.astype(np.float64)
    d = x64 - x64.mean(1, keepdims=True)
    exact = (d / np.sqrt((d * d).mean(1, keepdims=True) + 1e-5)).astype(np.float32)
    _same(F.layer_norm(tge.tensor(x2), (classes,)).numpy(), exact, f"layer_norm on {x2!r}")

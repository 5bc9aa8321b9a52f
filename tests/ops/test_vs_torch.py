"""Every op of API.md's Tensor section (and the losses and activations of issue 2) against PyTorch:
the same code runs on both libraries in float64; forward values and gradients must agree.

Each case is ``fn(lib, F, *tensors)``: ``lib`` is ``tinygrad_edu`` or ``torch``, ``F`` the functional
namespace (``torch.nn.functional`` or ours). Inputs are float64 arrays (they get requires_grad) or
``Const`` arrays (targets, masks, indices).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu.ops import loss as L
from tinygrad_edu.ops.activation import GELU, LeakyReLU

torch = pytest.importorskip("torch")
TF = torch.nn.functional

OURS_F = SimpleNamespace(
    cross_entropy=L.cross_entropy,
    nll_loss=L.nll_loss,
    binary_cross_entropy=L.binary_cross_entropy,
    binary_cross_entropy_with_logits=L.binary_cross_entropy_with_logits,
    mse_loss=L.mse_loss,
    leaky_relu=lambda x, negative_slope=0.01: LeakyReLU.apply(x, negative_slope),
    gelu=lambda x, approximate="none": GELU.apply(x, approximate),
)

rng = np.random.default_rng(2024)


@dataclass
class Const:
    """An input that is not differentiated (class targets, masks, indices, loss targets)."""

    value: np.ndarray


@dataclass
class Case:
    name: str
    fn: Any
    inputs: list


def r(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def distinct(*shape):
    """Values 0.1 apart in random order: no ties for max / min / sorting."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape)


def away_from_zero(*shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)


def labels(high, *shape, ignore=False):
    t = rng.integers(0, high, size=shape)
    if ignore and t.size > 1:
        t.reshape(-1)[1] = -100
    return Const(t)


def mask(*shape):
    return Const(rng.random(shape) < 0.5)


CASES = [
    # ---- elementwise ----
    Case("exp", lambda lib, F, x: x.exp(), [r(2, 3)]),
    Case("log", lambda lib, F, x: x.log(), [pos(2, 3)]),
    Case("sqrt", lambda lib, F, x: x.sqrt(), [pos(2, 3)]),
    Case("abs", lambda lib, F, x: x.abs(), [away_from_zero(2, 3)]),
    Case("sin", lambda lib, F, x: x.sin(), [r(2, 3)]),
    Case("cos", lambda lib, F, x: x.cos(), [r(2, 3)]),
    Case("tanh", lambda lib, F, x: x.tanh(), [r(2, 3)]),
    Case("sigmoid", lambda lib, F, x: x.sigmoid(), [r(2, 3, lo=-8, hi=8)]),
    Case("relu", lambda lib, F, x: x.relu(), [away_from_zero(2, 3)]),
    Case("neg", lambda lib, F, x: -x, [r(2, 3)]),
    Case("square", lambda lib, F, x: x.square(), [r(2, 3)]),
    Case("pow_scalar", lambda lib, F, x: x.pow(2.5), [pos(2, 3)]),
    Case("pow_int", lambda lib, F, x: x**3, [r(2, 3)]),
    Case("pow_tensor", lambda lib, F, x, y: x.pow(y), [pos(2, 3), r(3)]),
    Case("rpow", lambda lib, F, x: 2.0**x, [r(2, 3)]),
    Case("clamp", lambda lib, F, x: x.clamp(-1.0, 1.0), [r(3, 4, lo=-3, hi=3)]),
    Case("clamp_min", lambda lib, F, x: x.clamp(min=0.5), [r(3, 4)]),
    Case("clamp_max", lambda lib, F, x: x.clamp(max=0.5), [r(3, 4)]),
    Case("maximum", lambda lib, F, x, y: x.maximum(y), [r(2, 3), r(3)]),
    Case("minimum", lambda lib, F, x, y: x.minimum(y), [r(2, 1), r(4)]),
    Case("leaky_relu", lambda lib, F, x: F.leaky_relu(x, 0.1), [away_from_zero(2, 3)]),
    Case("gelu", lambda lib, F, x: F.gelu(x), [r(2, 3)]),
    Case("gelu_tanh", lambda lib, F, x: F.gelu(x, approximate="tanh"), [r(2, 3)]),
    # ---- operators with broadcasting and Python numbers on either side ----
    Case("add", lambda lib, F, x, y: x + y, [r(2, 3), r(3)]),
    Case("sub", lambda lib, F, x, y: x - y, [r(4, 1), r(1, 3)]),
    Case("mul", lambda lib, F, x, y: x * y, [r(2, 1, 3), r(4, 1)]),
    Case("div", lambda lib, F, x, y: x / y, [r(2, 3), away_from_zero(2, 3)]),
    Case("scalars", lambda lib, F, x: (2.0 - x) * 3 + 1 / x - x / 4 + 1, [pos(3)]),
    Case("add_sub_mul_div_methods", lambda lib, F, x, y: x.add(y).mul(x).sub(y, alpha=2).div(2.0), [r(3), r(3)]),
    Case("compare", lambda lib, F, x, y: (x > y, x <= y, x == x, x != y, x < 0.5, x >= 0), [r(2, 3), r(3)]),
    # ---- matmul ----
    Case("matmul_1d_1d", lambda lib, F, x, y: x @ y, [r(3), r(3)]),
    Case("matmul_1d_2d", lambda lib, F, x, y: x @ y, [r(3), r(3, 4)]),
    Case("matmul_2d_1d", lambda lib, F, x, y: x.matmul(y), [r(2, 3), r(3)]),
    Case("matmul_2d", lambda lib, F, x, y: lib.matmul(x, y), [r(2, 3), r(3, 4)]),
    Case("matmul_batched_broadcast", lambda lib, F, x, y: x @ y, [r(2, 1, 3, 4), r(5, 4, 6)]),
    Case("matmul_batched_2d", lambda lib, F, x, y: x @ y, [r(2, 5, 3, 4), r(4, 6)]),
    Case("matmul_1d_batched", lambda lib, F, x, y: x @ y, [r(4), r(2, 4, 3)]),
    Case("matmul_batched_1d", lambda lib, F, x, y: x @ y, [r(2, 3, 4), r(4)]),
    Case("matmul_transposed", lambda lib, F, x, y: x.T @ y.mT, [r(4, 3), r(2, 4)]),
    # ---- reductions ----
    Case("sum_all", lambda lib, F, x: x.sum(), [r(2, 3)]),
    Case("sum_dim", lambda lib, F, x: x.sum(dim=-1, keepdim=True), [r(2, 3, 4)]),
    Case("sum_tuple", lambda lib, F, x: lib.sum(x, dim=(0, 2)), [r(2, 3, 4)]),
    Case("sum_0d", lambda lib, F, x: x.sum(0), [r()]),
    Case("mean", lambda lib, F, x: (x.mean(), x.mean(1), x.mean((0, 1), keepdim=True)), [r(2, 3, 4)]),
    Case("var", lambda lib, F, x: (x.var(), x.var(1), x.var(dim=(0, 2), keepdim=True)), [r(2, 3, 4)]),
    Case("var_biased", lambda lib, F, x: (x.var(unbiased=False), x.var(0, unbiased=False)), [r(3, 4)]),
    Case("var_correction", lambda lib, F, x: x.var(1, correction=0), [r(3, 4)]),
    Case("std", lambda lib, F, x: (x.std(), x.std(1, keepdim=True), x.std(0, unbiased=False)), [r(3, 4)]),
    Case("max_all", lambda lib, F, x: (x.max(), lib.max(x)), [distinct(3, 4)]),
    Case("max_dim", lambda lib, F, x: x.max(1), [distinct(3, 4)]),
    Case("max_dim_keepdim", lambda lib, F, x: lib.max(x, -1, keepdim=True), [distinct(2, 3, 4)]),
    Case("max_0d", lambda lib, F, x: x.max(0), [r()]),
    Case("min_all", lambda lib, F, x: x.min(), [distinct(3, 4)]),
    Case("min_dim", lambda lib, F, x: x.min(0), [distinct(3, 4)]),
    Case(
        "max_ties",
        lambda lib, F, x: (x.max(), x.amax(1), x.max(1).values),
        [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])],
    ),
    Case("min_ties", lambda lib, F, x: (x.min(), x.amin(0), x.min(0).values), [np.array([[1.0, 1.0], [1.0, 4.0]])]),
    Case(
        "maximum_ties", lambda lib, F, x, y: x.maximum(y) + x.minimum(y), [np.array([1.0, 2.0]), np.array([1.0, 3.0])]
    ),
    Case("amax", lambda lib, F, x: (x.amax(), x.amax(dim=(0, 2)), x.amax(-1, keepdim=True)), [distinct(2, 3, 4)]),
    Case("amin", lambda lib, F, x: (x.amin(), x.amin(dim=1)), [distinct(2, 3, 4)]),
    Case("argmax", lambda lib, F, x: (x.argmax(), x.argmax(1), x.argmax(0, keepdim=True)), [distinct(3, 4)]),
    Case("argmin", lambda lib, F, x: (x.argmin(), lib.argmin(x, dim=-1)), [distinct(3, 4)]),
    Case("logsumexp", lambda lib, F, x: (x.logsumexp(1), x.logsumexp((0, 1), keepdim=True)), [r(3, 4)]),
    Case("softmax", lambda lib, F, x: (x.softmax(1), x.softmax(dim=0), lib.softmax(x, -1)), [r(3, 4)]),
    Case("log_softmax", lambda lib, F, x: (x.log_softmax(1), x.log_softmax(0)), [r(2, 3, 4)]),
    Case("softmax_0d", lambda lib, F, x: (x.softmax(0), x.log_softmax(0)), [r()]),
    Case("softmax_extreme", lambda lib, F, x: (x.softmax(1), x.log_softmax(1)), [np.array([[1e4, -1e4, 0.0]])]),
    # ---- movement ----
    Case("reshape", lambda lib, F, x: (x.reshape(4, 3), x.reshape(-1), x.reshape((2, -1))), [r(3, 4)]),
    Case("view", lambda lib, F, x: x.view(2, 6), [r(3, 4)]),
    Case("flatten", lambda lib, F, x: (x.flatten(), x.flatten(1), x.flatten(0, 1)), [r(2, 3, 4)]),
    Case("squeeze", lambda lib, F, x: (x.squeeze(), x.squeeze(1), x.squeeze(0)), [r(2, 1, 3, 1)]),
    Case("unsqueeze", lambda lib, F, x: (x.unsqueeze(0), x.unsqueeze(-1), x.unsqueeze(1)), [r(2, 3)]),
    Case("transpose", lambda lib, F, x: (x.transpose(0, 2), lib.transpose(x, -1, 1)), [r(2, 3, 4)]),
    Case("permute", lambda lib, F, x: (x.permute(2, 0, 1), x.permute((1, 2, 0))), [r(2, 3, 4)]),
    Case("movedim", lambda lib, F, x: x.movedim(0, -1), [r(2, 3, 4)]),
    Case("T_mT", lambda lib, F, x, y: (x.T, y.mT), [r(2, 3), r(2, 3, 4)]),
    Case("expand", lambda lib, F, x: (x.expand(2, 3, 4), x.expand(-1, 4)), [r(3, 1)]),
    Case("expand_as", lambda lib, F, x, y: x.expand_as(y) * y, [r(1, 4), r(3, 4)]),
    Case("getitem_int_slice", lambda lib, F, x: (x[1], x[:, 1:3], x[0, -1], x[::2, 1::2]), [r(4, 5)]),
    Case("getitem_none_ellipsis", lambda lib, F, x: (x[None], x[..., 0], x[:, None, 1:]), [r(2, 3, 4)]),
    Case("getitem_list_repeats", lambda lib, F, x: x[[0, 0, 2, 0]], [r(3, 2)]),
    Case("getitem_tensor_index", lambda lib, F, x, i: x[i], [r(4, 2), Const(np.array([[3, 3], [0, 3]]))]),
    Case(
        "getitem_two_arrays",
        lambda lib, F, x, i, j: x[i, j],
        [r(3, 4), Const(np.array([0, 2, 0])), Const(np.array([1, 1, 1]))],
    ),
    Case("getitem_mixed", lambda lib, F, x, i: x[1:, i], [r(3, 4), Const(np.array([3, 0, 3]))]),
    Case("getitem_mask", lambda lib, F, x, m: x[m], [r(3, 4), mask(3, 4)]),
    Case("getitem_row_mask", lambda lib, F, x, m: x[m], [r(4, 2), Const(np.array([True, False, True, True]))]),
    Case("gather", lambda lib, F, x, i: x.gather(1, i), [r(3, 4), Const(np.array([[0, 0], [3, 1], [2, 2]]))]),
    Case("gather_dim0", lambda lib, F, x, i: lib.gather(x, 0, i), [r(3, 2), Const(np.array([[2, 0], [2, 2]]))]),
    Case("cat", lambda lib, F, x, y: (lib.cat([x, y], 1), lib.cat([x, x, y], dim=-1)), [r(2, 3), r(2, 1)]),
    Case("stack", lambda lib, F, x, y: (lib.stack([x, y]), lib.stack([x, y], dim=-1)), [r(2, 3), r(2, 3)]),
    Case("where", lambda lib, F, c, x, y: lib.where(c, x, y), [mask(2, 3), r(3), r(2, 1)]),
    Case("where_scalar", lambda lib, F, x: lib.where(x > 0, x, 0.0), [away_from_zero(2, 3)]),
    Case("masked_fill", lambda lib, F, x, m: x.masked_fill(m, -1.5), [r(2, 3), mask(3)]),
    Case("split", lambda lib, F, x: (x.split(2), x.split(2, dim=1), x.split([1, 2], 1)), [r(5, 3)]),
    Case("chunk", lambda lib, F, x: (x.chunk(2), x.chunk(3, dim=1)), [r(5, 3)]),
    Case("clone", lambda lib, F, x: x.clone() * 2, [r(2, 3)]),
    Case("casts", lambda lib, F, x: x.float().double() * 2, [r(2, 3)]),
    Case("iterate", lambda lib, F, x: [row * (i + 1) for i, row in enumerate(x)], [r(3, 2)]),
    # ---- losses ----
    Case("cross_entropy", lambda lib, F, x, t: F.cross_entropy(x, t), [r(4, 3), labels(3, 4)]),
    Case("cross_entropy_sum", lambda lib, F, x, t: F.cross_entropy(x, t, reduction="sum"), [r(4, 3), labels(3, 4)]),
    Case("cross_entropy_none", lambda lib, F, x, t: F.cross_entropy(x, t, reduction="none"), [r(4, 3), labels(3, 4)]),
    Case(
        "cross_entropy_smoothing",
        lambda lib, F, x, t: (
            F.cross_entropy(x, t, label_smoothing=0.2),
            F.cross_entropy(x, t, label_smoothing=0.2, reduction="none"),
        ),
        [r(4, 3), labels(3, 4)],
    ),
    Case(
        "cross_entropy_weight_ignore",
        lambda lib, F, x, t, w: (F.cross_entropy(x, t, weight=w), F.cross_entropy(x, t, weight=w, reduction="sum")),
        [r(5, 3), labels(3, 5, ignore=True), Const(pos(3))],
    ),
    Case(
        "cross_entropy_everything",
        lambda lib, F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.3, ignore_index=1),
        [r(6, 4), labels(4, 6), Const(pos(4))],
    ),
    Case(
        "cross_entropy_NCd",
        lambda lib, F, x, t: F.cross_entropy(x, t),
        [r(2, 3, 4, 2), labels(3, 2, 4, 2, ignore=True)],
    ),
    Case("cross_entropy_C", lambda lib, F, x, t: F.cross_entropy(x, t), [r(5), labels(5)]),
    Case(
        "cross_entropy_extreme",
        lambda lib, F, x, t: F.cross_entropy(x, t),
        [np.array([[1e4, -1e4], [-1e4, 1e4]]), Const(np.array([1, 1]))],
    ),
    Case(
        "nll_loss",
        lambda lib, F, x, t, w: (
            F.nll_loss(x.log_softmax(1), t),
            F.nll_loss(x.log_softmax(1), t, weight=w, reduction="none"),
        ),
        [r(5, 3), labels(3, 5, ignore=True), Const(pos(3))],
    ),
    Case("nll_loss_sum", lambda lib, F, x, t: F.nll_loss(x, t, reduction="sum"), [r(4, 3), labels(3, 4)]),
    Case(
        "binary_cross_entropy",
        lambda lib, F, p, y, w: (
            F.binary_cross_entropy(p, y),
            F.binary_cross_entropy(p, y, weight=w, reduction="none"),
        ),
        [rng.uniform(0.05, 0.95, (3, 4)), Const(rng.random((3, 4))), Const(pos(3, 4))],
    ),
    Case(
        "binary_cross_entropy_edges",
        lambda lib, F, p, y: F.binary_cross_entropy(p, y, reduction="sum"),
        [np.array([0.0, 1.0, 0.0, 1.0, 0.5]), Const(np.array([1.0, 0.0, 0.0, 1.0, 1.0]))],
    ),
    Case(
        "bce_with_logits",
        lambda lib, F, x, y: (
            F.binary_cross_entropy_with_logits(x, y),
            F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
        ),
        [r(3, 4, lo=-5, hi=5), Const(rng.random((3, 4)))],
    ),
    Case(
        "bce_with_logits_pos_weight",
        lambda lib, F, x, y, pw, w: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction="none"),
        [r(3, 4, lo=-5, hi=5), Const(rng.random((3, 4))), Const(pos(4)), Const(pos(3, 4))],
    ),
    Case(
        "bce_with_logits_extreme",
        lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
        [np.array([1e4, -1e4, 1e4, -1e4]), Const(np.array([1.0, 0.0, 0.0, 1.0]))],
    ),
    Case("mse_loss", lambda lib, F, x, y: (F.mse_loss(x, y), F.mse_loss(x, y, reduction="none")), [r(3, 4), r(3, 4)]),
    Case("mse_loss_sum", lambda lib, F, x, y: F.mse_loss(x, y, reduction="sum"), [r(5), Const(r(5))]),
]


def _flatten(out: Any) -> list:
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _run(lib: Any, F: Any, case: Case) -> tuple[list, list]:
    """Outputs and input gradients of one case on one library."""
    leaves, args = [], []
    for a in case.inputs:
        if isinstance(a, Const):
            args.append(lib.tensor(a.value))
        else:
            leaf = lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
            leaves.append(leaf)
            args.append(leaf)
    outs = _flatten(case.fn(lib, F, *args))
    differentiable = [o for o in outs if o.requires_grad]
    if differentiable:
        directions = np.random.default_rng(7)
        loss = sum((o * lib.tensor(directions.standard_normal(tuple(o.shape)))).sum() for o in differentiable)
        loss.backward()
    grads = [None if leaf.grad is None else leaf.grad.numpy() for leaf in leaves]
    return [np.asarray(o.detach().numpy()) for o in outs], grads


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_forward_and_gradients_match_torch(case):
    ours, our_grads = _run(tge, OURS_F, case)
    theirs, their_grads = _run(torch, TF, case)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"output {i}: shape {a.shape} vs torch {b.shape}"
        assert a.dtype == b.dtype, f"output {i}: dtype {a.dtype} vs torch {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=f"output {i}")
    for i, (g, h) in enumerate(zip(our_grads, their_grads)):
        if h is None:
            assert g is None or not np.any(g), f"input {i}: we have a gradient, torch has none"
            continue
        assert g is not None, f"input {i}: torch has a gradient, we have none"
        np.testing.assert_allclose(g, h, rtol=1e-6, atol=1e-9, err_msg=f"gradient of input {i}")


def test_every_case_name_is_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))

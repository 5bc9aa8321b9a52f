"""The everyday-surface names against PyTorch: the same call on both libraries, float64, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge

torch = pytest.importorskip("torch")
rng = np.random.default_rng(7)
A = rng.uniform(-2, 2, (3, 4))
B = rng.uniform(-2, 2, (4, 5))
P = rng.uniform(0.2, 2, (3, 4))
U = rng.uniform(-0.9, 0.9, (3, 4))

CASES = {
    "sinh": (lambda m, x: x.sinh(), [A]),
    "cosh": (lambda m, x: m.cosh(x), [A]),
    "tan": (lambda m, x: x.tan(), [U]),
    "asin": (lambda m, x: x.asin(), [U]),
    "acos": (lambda m, x: x.acos(), [U]),
    "atan": (lambda m, x: x.atan(), [A]),
    "asinh": (lambda m, x: x.asinh(), [A]),
    "acosh": (lambda m, x: (x + 2).acosh(), [P]),
    "atanh": (lambda m, x: x.atanh(), [U]),
    "erf": (lambda m, x: m.erf(x), [A]),
    "log2": (lambda m, x: x.log2(), [P]),
    "log10": (lambda m, x: m.log10(x), [P]),
    "log1p": (lambda m, x: x.log1p(), [P]),
    "expm1": (lambda m, x: x.expm1(), [A]),
    "exp2": (lambda m, x: x.exp2(), [A]),
    "rsqrt": (lambda m, x: x.rsqrt(), [P]),
    "reciprocal": (lambda m, x: x.reciprocal(), [P]),
    "square": (lambda m, x: x.square(), [A]),
    "frac": (lambda m, x: x.frac(), [A]),
    "floor_ceil_round_trunc_sign": (lambda m, x: x.floor() + x.ceil() + x.round() + x.trunc() + x.sign(), [A]),
    "round_decimals": (lambda m, x: x.round(decimals=1), [A]),
    "atan2": (lambda m, x, y: m.atan2(x, y), [A, P]),
    "fmod": (lambda m, x, y: m.fmod(x, y), [A, P]),
    "remainder": (lambda m, x, y: x % y, [A, P]),
    "floor_divide": (lambda m, x, y: x.detach() // y.detach(), [A, P]),
    "div_trunc": (lambda m, x, y: x.div(y, rounding_mode="trunc"), [A, P]),
    "div_floor": (lambda m, x, y: m.div(x, y, rounding_mode="floor"), [A, P]),
    "logaddexp": (lambda m, x, y: m.logaddexp(x, y), [A, P]),
    "lerp": (lambda m, x, y: m.lerp(x, y, 0.25), [A, P]),
    "prod": (lambda m, x: x.prod(1), [A]),
    "cumsum": (lambda m, x: m.cumsum(x, dim=1), [A]),
    "cumprod": (lambda m, x: x.cumprod(0), [A]),
    "cummax": (lambda m, x: x.cummax(1).values, [A]),
    "cummin": (lambda m, x: m.cummin(x, 0).values, [A]),
    "logcumsumexp": (lambda m, x: x.logcumsumexp(1), [A]),
    "sort": (lambda m, x: x.sort(1, descending=True).values, [A]),
    "topk": (lambda m, x: x.topk(2, dim=1).values, [A]),
    "flip": (lambda m, x: x.flip(0, 1), [A]),
    "roll": (lambda m, x: x.roll(2, 1), [A]),
    "roll_flat": (lambda m, x: x.roll(3), [A]),
    "repeat": (lambda m, x: x.repeat(2, 1, 3), [A]),
    "repeat_interleave": (lambda m, x: x.repeat_interleave(2, dim=1), [A]),
    "repeat_interleave_flat": (lambda m, x: m.repeat_interleave(x, 3), [A]),
    "tril_triu": (lambda m, x: x.tril(1) * 2 + x.triu(-1), [A]),
    "diag": (lambda m, x: m.diag(x), [A]),
    "diag_vector": (lambda m, x: m.diag(x[0], -1), [A]),
    "diagonal": (lambda m, x: x.diagonal(1), [A]),
    "narrow": (lambda m, x: x.narrow(1, 1, 2), [A]),
    "unflatten": (lambda m, x: x.unflatten(1, (2, 2)), [A]),
    "unfold": (lambda m, x: x.unfold(1, 2, 1), [A]),
    "chunk_split": (lambda m, x: x.chunk(2, 1)[1] + x.split([1, 3], 1)[1][:, :2], [A]),
    "t": (lambda m, x: x.t(), [A]),
    "mm": (lambda m, x, y: m.mm(x, y), [A, B]),
    "bmm": (lambda m, x, y: m.bmm(x.reshape(1, 3, 4), y.reshape(1, 4, 5)), [A, B]),
    "mv": (lambda m, x, y: x.mv(y[:, 0]), [A, B]),
    "dot": (lambda m, x, y: m.dot(x[0], y[:, 0]), [A, B]),
    "outer": (lambda m, x, y: m.outer(x[0], y[0]), [A, B]),
    "einsum": (lambda m, x, y: m.einsum("ij,jk->ik", x, y), [A, B]),
    "einsum_trace": (lambda m, x: m.einsum("ii", x[:, :3]), [A]),
    "norm": (lambda m, x: x.norm(), [A]),
    "norm_dim": (lambda m, x: x.norm(p=1, dim=1), [A]),
    "norm_3": (lambda m, x: m.norm(x, p=3, dim=0, keepdim=True), [A]),
    "std_mean": (lambda m, x: m.std_mean(x, 1)[0] + m.var_mean(x, 1)[1], [A]),
    "scatter": (lambda m, x, y: x.scatter(0, m.tensor([[0, 1, 2, 0]]), y[:1, :4]), [A, B]),
    "scatter_add": (lambda m, x, y: x.scatter_add(1, m.tensor([[0, 1], [3, 3], [2, 2]]), y[:3, :2]), [A, B]),
    "scatter_reduce": (
        lambda m, x, y: x.scatter_reduce(1, m.tensor([[0, 1], [3, 3], [2, 2]]), y[:3, :2], "amax", include_self=False),
        [A, B],
    ),
    "index_select": (lambda m, x: x.index_select(1, m.tensor([3, 0, 3])), [A]),
    "masked_select": (lambda m, x: x.masked_select(x > 0), [A]),
    "meshgrid_ij": (
        lambda m, x, y: sum(g.sum() * (i + 1) for i, g in enumerate(m.meshgrid(x[0], y[0], indexing="ij"))),
        [A, B],
    ),
    "meshgrid_xy": (
        lambda m, x, y: m.meshgrid(x[0], y[0], indexing="xy")[0] * 2 + m.meshgrid(x[0], y[0], indexing="xy")[1],
        [A, B],
    ),
    "view_as_expand_as": (lambda m, x, y: x.view_as(y[:3, :4].reshape(4, 3)) + x[0, :3].expand_as(y[:4, :3]), [A, B]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_value_and_gradient_agree_with_pytorch(name):
    fn, arrays = CASES[name]
    ours = [tge.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_ref = fn(tge, *ours), fn(torch, *theirs)
    np.testing.assert_allclose(y.numpy(), y_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert tuple(y.shape) == tuple(y_ref.shape)
    if y.requires_grad:
        w = rng.standard_normal(y.shape)
        (y * tge.tensor(w)).sum().backward()
        (y_ref * torch.tensor(w)).sum().backward()
        for t, r in zip(ours, theirs):
            g = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
            r_grad = np.zeros(t.shape) if r.grad is None else r.grad.numpy()
            np.testing.assert_allclose(g, r_grad, rtol=1e-9, atol=1e-12)


INT_CASES = {
    "argsort": lambda m, x: x.argsort(dim=1, descending=True, stable=True),
    "sort_int": lambda m, x: x.sort(0).values,
    "nonzero": lambda m, x: x.nonzero(),
    "any_all_dim": lambda m, x: m.stack([x.any(1), x.all(dim=1), x.any(0, keepdim=True)[0, :3]]),
    "eq_ne_lt": lambda m, x: m.stack([x.eq(1), x.ne(0), x.lt(2), x.le(1), x.gt(0), x.ge(2)]),
    "isclose": lambda m, x: m.isclose(x.double(), x.double() + 1e-9),
    "isnan_isinf_isfinite": lambda m, x: m.stack([(x / 0.0).isnan(), (x / 0.0).isinf(), (x / 0.0).isfinite()]),
    "int_remainder_floordiv": lambda m, x: m.stack([(x - 1) % 2, (x - 1) // 2, m.remainder(x - 3, -2)]),
    "int_div_trunc": lambda m, x: (x - 2).div(3, rounding_mode="trunc"),
    "sum_dtype": lambda m, x: x.sum(dtype=m.float64),
    "int_sum_prod_cumsum_dtype": lambda m, x: m.stack([x.int().sum(0), x.int().prod(0), x.int().cumsum(1)[0]]),
    "count_nonzero": lambda m, x: m.count_nonzero(x, dim=0),
    "bitwise": lambda m, x: m.stack([x & 1, x | 2, x ^ 3, ~x, x << 1, x >> 1, 5 & x]),
    "logical": lambda m, x: m.stack(
        [m.logical_and(x, x - 1), m.logical_or(x, m.zeros_like(x)), m.logical_not(x), m.logical_xor(x, m.ones_like(x))]
    ),
    "uint8_int8_promotion": lambda m, x: x.to(m.uint8) + x.to(m.int8),
    "int16": lambda m, x: x.to(m.int16) * 3,
}


@pytest.mark.parametrize("name", list(INT_CASES))
def test_integer_and_bool_results_agree_with_pytorch(name):
    a = np.array([[0, 1, 2], [2, 0, 3], [1, 1, 0]])
    y, y_ref = INT_CASES[name](tge, tge.tensor(a)), INT_CASES[name](torch, torch.tensor(a))
    np.testing.assert_array_equal(y.numpy(), y_ref.numpy())
    assert str(y.dtype) == str(y_ref.dtype).removeprefix("torch.")


def test_histogram_and_histc_agree_with_pytorch():
    a = rng.uniform(-1, 1, 50).astype(np.float32)
    h, edges = tge.histogram(tge.tensor(a), 5)
    h_ref, edges_ref = torch.histogram(torch.tensor(a), 5)
    np.testing.assert_allclose(h.numpy(), h_ref.numpy())
    np.testing.assert_allclose(edges.numpy(), edges_ref.numpy(), rtol=1e-6)
    np.testing.assert_allclose(tge.tensor(a).histc(4, -1, 1).numpy(), torch.tensor(a).histc(4, -1, 1).numpy())


def test_cummax_indices_and_topk_indices_agree_with_pytorch():
    a = np.array([1, 1, 0, 2, 2, 1])
    assert tge.tensor(a).cummax(0).indices.tolist() == torch.tensor(a).cummax(0).indices.tolist()
    assert tge.tensor(a).cummin(0).indices.tolist() == torch.tensor(a).cummin(0).indices.tolist()
    b = np.array([3.0, 1.0, 4.0, 1.5])
    assert tge.tensor(b).topk(3).indices.tolist() == torch.tensor(b).topk(3).indices.tolist()

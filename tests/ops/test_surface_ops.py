"""The everyday-surface ops (API.md): each new Function against gradcheck on drawn inputs, and every
name against PyTorch (values, dtypes and gradients) when torch is installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
from tests.strategies import shapes, tensors, values

# ---- gradcheck of each new Function on drawn shapes ---------------------------------------------

UNARY = {
    "tan": (lambda x: x.tan(), values(-1.2, 1.2)),
    "asin": (lambda x: x.asin(), values(-0.9, 0.9)),
    "acos": (lambda x: x.acos(), values(-0.9, 0.9)),
    "atan": (lambda x: x.atan(), values()),
    "sinh": (lambda x: x.sinh(), values()),
    "cosh": (lambda x: x.cosh(), values()),
    "asinh": (lambda x: x.asinh(), values()),
    "acosh": (lambda x: x.acosh(), values(1.1, 4)),
    "atanh": (lambda x: x.atanh(), values(-0.9, 0.9)),
    "erf": (lambda x: x.erf(), values()),
    "log2": (lambda x: x.log2(), values(0.1, 5)),
    "log10": (lambda x: x.log10(), values(0.1, 5)),
    "log1p": (lambda x: x.log1p(), values(-0.9, 5)),
    "expm1": (lambda x: x.expm1(), values()),
    "exp2": (lambda x: x.exp2(), values()),
    "reciprocal": (lambda x: x.reciprocal(), values(0.2, 3)),
    "rsqrt": (lambda x: x.rsqrt(), values(0.2, 3)),
    "frac": (lambda x: x.frac(), values(0.05, 0.95)),
    "prod": (lambda x: x.prod(), values()),
    "prod_dim": (lambda x: x.prod(-1) if x.ndim else x.prod(), values()),
    "cumsum": (lambda x: x.cumsum(-1), values()),
    "cumprod": (lambda x: x.cumprod(-1), values()),
    "logcumsumexp": (lambda x: x.logcumsumexp(-1), values()),
    "norm": (lambda x: x.norm(), values(away_from=0.0)),
    "norm3": (lambda x: x.norm(p=3), values(away_from=0.0)),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
@settings(max_examples=15, deadline=None)
def test_new_unary_backward_matches_gradcheck(name, data):
    fn, elements = UNARY[name]
    x = data.draw(tensors(elements=elements))
    assert tge.gradcheck(fn, [x])


@given(st.integers(1, 4), st.integers(0, 3))
@settings(max_examples=15, deadline=None)
def test_prod_and_cumprod_gradients_at_zeros(n, zero_at):
    a = np.linspace(0.5, 2.0, n + 1)
    a[min(zero_at, n)] = 0.0
    x = tge.tensor(a, requires_grad=True)
    assert tge.gradcheck(lambda x: x.prod(), [x])
    assert tge.gradcheck(lambda x: x.cumprod(0), [x])
    a[0] = 0.0
    x2 = tge.tensor(a, requires_grad=True)
    assert tge.gradcheck(lambda x: x.prod(), [x2])
    assert tge.gradcheck(lambda x: x.cumprod(0), [x2])


BINARY = {
    "atan2": (lambda y, x: y.atan2(x), values(), values(0.3, 3)),
    "fmod": (lambda x, y: x.fmod(y), values(0.1, 0.9), values(1.2, 2)),
    "remainder": (lambda x, y: x % y, values(0.1, 0.9), values(1.2, 2)),
    "logaddexp": (lambda x, y: x.logaddexp(y), values(), values()),
    "lerp": (lambda x, y: x.lerp(y, 0.3), values(), values()),
}


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
@settings(max_examples=15, deadline=None)
def test_new_binary_backward_matches_gradcheck(name, data):
    fn, ex, ey = BINARY[name]
    shape = data.draw(shapes())
    x, y = data.draw(tensors(shape, ex)), data.draw(tensors(shape, ey))
    assert tge.gradcheck(fn, [x, y])


@given(data=st.data())
@settings(max_examples=15, deadline=None)
def test_einsum_backward_matches_gradcheck(data):
    eq, sa, sb = data.draw(
        st.sampled_from(
            [
                ("ij,jk->ik", (2, 3), (3, 4)),
                ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
                ("i,j->ij", (3,), (2,)),
                ("ii->i", (3, 3), None),
                ("ij->", (2, 3), None),
                ("...ij,jk", (2, 2, 3), (3, 2)),
                ("ij,ij->i", (2, 3), (2, 3)),
            ]
        )
    )
    a = data.draw(tensors(sa))
    if sb is None:
        assert tge.gradcheck(lambda a: tge.einsum(eq, a), [a])
    else:
        b = data.draw(tensors(sb))
        assert tge.gradcheck(lambda a, b: tge.einsum(eq, a, b), [a, b])


@given(data=st.data())
@settings(max_examples=15, deadline=None)
def test_scatter_family_backward_matches_gradcheck(data):
    x = data.draw(tensors((3, 4), values(0.5, 2)))  # away from 0: a product of subnormals underflows
    src = data.draw(tensors((2, 4), values(0.5, 2), unique=True))
    index = tge.tensor(np.array([[0, 1, 2, 0], [2, 2, 1, 1]]))
    unique_index = tge.tensor(np.array([[0, 1, 2, 0], [2, 2, 1, 1]]))
    assert tge.gradcheck(lambda x, s: x.scatter_add(0, index, s), [x, src])
    assert tge.gradcheck(lambda x, s: x.scatter(0, unique_index, s), [x, src])
    for reduce in ("sum", "mean", "prod"):
        for include_self in (True, False):

            def fn(x, s, reduce=reduce, include_self=include_self):
                return x.scatter_reduce(0, index, s, reduce, include_self=include_self)

            assert tge.gradcheck(fn, [x, src])


def test_sort_topk_cummax_gradients_go_to_the_picked_elements():
    x = tge.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]], requires_grad=True)
    assert tge.gradcheck(lambda x: x.sort(1).values, [x])
    assert tge.gradcheck(lambda x: x.topk(2).values, [x])
    assert tge.gradcheck(lambda x: x.cummax(1).values, [x])
    assert tge.gradcheck(lambda x: x.cummin(1).values, [x])
    assert tge.gradcheck(lambda x: x.diagonal(), [x])
    assert tge.gradcheck(lambda x: x.repeat(2, 3), [x])
    assert tge.gradcheck(lambda x: x.repeat_interleave(tge.tensor([1, 0, 2]), dim=1), [x])
    assert tge.gradcheck(lambda x: x.unfold(1, 2, 1), [x])
    assert tge.gradcheck(lambda x: x.roll(1, 1).tril(), [x])


# ---- the fixes ----------------------------------------------------------------------------------


def test_int32_argmin_and_min_do_not_overflow():
    x = tge.tensor([0, -(2**31)], dtype=tge.int32)
    assert x.argmin().item() == 1 and x.min().item() == -(2**31)
    assert x.min(0).indices.item() == 1 and x.amin().item() == -(2**31)


def test_min_and_max_of_bool():
    x = tge.tensor([True, False])
    assert x.min().item() is False and x.max().item() is True


def test_empty_matmul_is_zeros_and_has_gradients():
    a, b = tge.zeros(4, 0, requires_grad=True), tge.zeros(0, 8, requires_grad=True)
    z = a @ b
    assert z.shape == (4, 8) and not z.numpy().any()
    z.sum().backward()
    assert a.grad.shape == (4, 0) and b.grad.shape == (0, 8)


def test_integers_are_applied_before_index_tensors():
    x = tge.zeros(4, 3, 5)
    idx = tge.tensor([0, 1])
    assert x[0, :, idx].shape == (3, 2)
    assert x[idx, :, 0].shape == (2, 3)
    assert x[..., 0, idx].shape == (4, 2)


def test_bitwise_on_ints_logical_on_bools_error_on_floats():
    a = tge.tensor([6, 3, 5])
    assert (a & 3).tolist() == [2, 3, 1] and (3 & a).tolist() == [2, 3, 1]
    assert (a | 8).tolist() == [14, 11, 13] and (a ^ 1).tolist() == [7, 2, 4]
    assert (~a).tolist() == [-7, -4, -6] and (a << 1).tolist() == [12, 6, 10] and (a >> 1).tolist() == [3, 1, 2]
    m = tge.tensor([True, False])
    assert (m & True).tolist() == [True, False] and (~m).tolist() == [False, True]
    with pytest.raises(RuntimeError, match="integer and bool"):
        tge.tensor([1.0]) & tge.tensor([1.0])


def test_axis_and_keepdims_aliases():
    x = tge.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    assert x.argmax(axis=0).tolist() == [1, 0]
    assert x.mean(axis=0).tolist() == [2.0, 3.5]
    assert x.max(axis=1).values.tolist() == [5.0, 3.0]
    assert tge.sum(x, axis=0).tolist() == [4.0, 7.0]
    with pytest.raises(TypeError, match="alias"):
        x.sum(dim=0, axis=0)


def test_format_spec():
    assert f"{tge.tensor(3.14159):.2f}" == "3.14"
    with pytest.raises(TypeError):
        format(tge.tensor([1.0, 2.0]), ".2f")

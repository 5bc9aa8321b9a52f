"""Tensor.view never copies: on a layout that cannot be read in the new shape without a copy (after a transpose,
a permute, a strided slice, an expand) it raises PyTorch's RuntimeError; stride(), is_contiguous() and
contiguous() describe and fix the layout as PyTorch's do."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge

VIEW_ERROR = "view size is not compatible with input tensor's size and stride"


def test_view_of_a_transpose_raises_pytorchs_error_and_reshape_copies():
    x = tge.arange(12.0).reshape(3, 4).t()
    assert x.stride() == (1, 4) and not x.is_contiguous()
    with pytest.raises(RuntimeError, match=r"view size is not compatible .* Use \.reshape\(\.\.\.\) instead"):
        x.view(12)
    with pytest.raises(RuntimeError, match=VIEW_ERROR):
        x.view(-1)
    np.testing.assert_array_equal(x.reshape(12).numpy(), np.arange(12.0).reshape(3, 4).T.ravel())
    np.testing.assert_array_equal(x.contiguous().view(12).numpy(), x.reshape(12).numpy())
    assert x.view(4, 3, 1).shape == (4, 3, 1) and x.view(2, 2, 3).stride() == (2, 1, 4)  # within one chunk


def test_views_that_need_no_copy_share_memory():
    x = tge.zeros(2, 3, 4)
    y = x.permute(1, 0, 2).view(3, 2, 2, 2)  # splitting the last dim never crosses a chunk
    y[0, 0, 0, 0] = 5.0
    assert x[0, 0, 0].item() == 5.0
    assert tge.ones(3).expand(4, 3).view(2, 2, 3).stride() == (0, 0, 1)


def test_contiguous_returns_itself_or_a_row_major_copy_in_the_graph():
    x = tge.arange(6.0).reshape(2, 3)
    assert x.contiguous() is x
    w = tge.randn(3, 2, requires_grad=True)
    y = w.t().contiguous()
    assert y.is_contiguous() and y.stride() == (3, 1)
    (y * tge.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.arange(6.0).reshape(2, 3).T)


def test_flip_is_a_copy_in_pytorch_so_it_views_freely():
    x = tge.arange(6.0).reshape(2, 3).flip(0)  # a negative-stride view here: no PyTorch layout to refuse
    np.testing.assert_array_equal(x.view(6).numpy(), [3, 4, 5, 0, 1, 2])


@st.composite
def layouts(draw):
    """A recipe for a (maybe) non-contiguous tensor: a shape, then a permutation, a strided slice or an expand."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    kind = draw(st.sampled_from(["fresh", "permute", "slice", "expand"]))
    arg = None
    if kind == "permute":
        arg = draw(st.permutations(range(len(shape))))
    elif kind == "slice":
        arg = (draw(st.integers(0, len(shape) - 1)), draw(st.integers(1, 2)))
    elif kind == "expand":
        arg = (draw(st.integers(0, len(shape) - 1)), draw(st.integers(2, 3)))
    return shape, kind, arg


def _build(lib, shape, kind, arg):
    x = lib.arange(float(math.prod(shape))).reshape(*shape)
    if kind == "permute":
        return x.permute(*arg)
    if kind == "slice":
        dim, step = arg
        return x[(slice(None),) * dim + (slice(None, None, step),)]
    if kind == "expand":
        dim, n = arg
        x = x.narrow(dim, 0, 1)
        return x.expand(*[n if d == dim else s for d, s in enumerate(x.shape)])
    return x


def _strides(x) -> tuple[int | None, ...]:
    """The strides that matter: a dim of size 1 has none (PyTorch and NumPy pick different numbers for it)."""
    return tuple(s if n > 1 else None for n, s in zip(x.shape, x.stride()))


def _targets(n: int) -> list[tuple[int, ...]]:
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    pairs = [(d, n // d) for d in divisors]
    triples = [(a, b, n // (a * b)) for a in divisors for b in divisors if n % (a * b) == 0]
    return [(n,), (-1,)] + pairs + [(a, -1) for a, _ in pairs] + triples


@settings(max_examples=60, deadline=None)
@given(layout=layouts(), data=st.data())
def test_view_agrees_with_torch_on_strides_contiguity_and_when_it_refuses(layout, data):
    torch = pytest.importorskip("torch")
    ours, theirs = _build(tge, *layout), _build(torch, *layout)
    assert _strides(ours) == _strides(theirs) and ours.is_contiguous() == theirs.is_contiguous()
    target = data.draw(st.sampled_from(_targets(theirs.numel())))
    try:
        want = theirs.view(*target)
    except RuntimeError as e:
        assert VIEW_ERROR in str(e)
        with pytest.raises(RuntimeError, match=VIEW_ERROR):
            ours.view(*target)
        return
    got = ours.view(*target)
    assert _strides(got) == _strides(want)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_bad_size_is_still_a_shape_error_not_the_layout_error():
    with pytest.raises(RuntimeError) as e:
        tge.arange(12.0).reshape(3, 4).t().view(5)
    assert VIEW_ERROR not in str(e.value)

"""Movement ops: forward against NumPy and backward against gradcheck on drawn shapes (non-contiguous
inputs included), scatter-add for repeated indices, and the error messages.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tge
from tests.strategies import MAX_SIDE, arrays, broadcast_pairs, shapes, tensors


def same(y: tge.Tensor, expected) -> None:
    assert y.shape == np.shape(expected)
    np.testing.assert_array_equal(y.numpy(), expected)


@st.composite
def tensor_with_shape(draw, min_dims=0, max_dims=3):
    return draw(tensors(shape=draw(shapes(min_dims=min_dims, max_dims=max_dims))))


# ---- reshape family ------------------------------------------------------------------------------


@st.composite
def reshape_targets(draw, shape):
    n = math.prod(shape)
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    a = draw(st.sampled_from(divisors))
    return draw(st.sampled_from([(n,), (-1,), (a, n // a), (a, -1), (1, n, 1), (n // a, 1, a)]))


@given(data=st.data())
def test_reshape_and_view(data):
    x = data.draw(tensor_with_shape())
    target = data.draw(reshape_targets(x.shape))
    for fn in (lambda x: x.reshape(*target), lambda x: x.reshape(target), lambda x: x.view(*target)):
        same(fn(x), x.numpy().reshape(target))
        assert tge.gradcheck(fn, [x])
    assert tge.gradcheck(lambda x: tge.reshape(x, target), [x])


@given(data=st.data())
def test_flatten(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    start = data.draw(st.integers(-x.ndim, x.ndim - 1))
    end = data.draw(st.integers(start % x.ndim, x.ndim - 1))
    s = start % x.ndim
    expected = x.numpy().reshape(*x.shape[:s], -1, *x.shape[end + 1 :])
    same(x.flatten(start, end), expected)
    same(x.flatten(), x.numpy().reshape(-1))
    assert tge.gradcheck(lambda x: x.flatten(start, end), [x])


def test_flatten_of_a_0d_tensor_is_1d():
    assert tge.tensor(3.0).flatten().shape == (1,)


@given(data=st.data())
def test_squeeze_and_unsqueeze(data):
    x = data.draw(tensors(shape=data.draw(shapes(min_side=1, max_side=2))))
    dim = data.draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.sampled_from([0, -1])))
    expected = x.numpy().squeeze() if dim is None else x.numpy()
    if dim is not None and x.ndim and x.shape[dim] == 1:
        expected = x.numpy().squeeze(dim)
    same(x.squeeze(dim), expected)
    assert tge.gradcheck(lambda x: x.squeeze(dim), [x])
    where = data.draw(st.integers(-x.ndim - 1, x.ndim))
    same(x.unsqueeze(where), np.expand_dims(x.numpy(), where))
    assert tge.gradcheck(lambda x: x.unsqueeze(where), [x])


def test_squeeze_with_a_tuple_of_dims():
    x = tge.zeros(1, 3, 1, 1)
    assert x.squeeze((0, 2)).shape == (3, 1)
    assert x.squeeze(1).shape == (1, 3, 1, 1)  # size 3: left alone, as in PyTorch


# ---- permutations --------------------------------------------------------------------------------


@given(data=st.data())
def test_permute_transpose_movedim(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    perm = data.draw(st.permutations(range(x.ndim)))
    same(x.permute(*perm), x.numpy().transpose(perm))
    same(x.permute(perm), x.numpy().transpose(perm))
    assert tge.gradcheck(lambda x: x.permute(*perm), [x])
    d0, d1, src, dst = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(4))
    same(x.transpose(d0, d1), np.swapaxes(x.numpy(), d0, d1))
    assert tge.gradcheck(lambda x: x.transpose(d0, d1), [x])
    same(x.movedim(src, dst), np.moveaxis(x.numpy(), src, dst))
    assert tge.gradcheck(lambda x: x.movedim(src, dst), [x])


@given(data=st.data())
def test_T_and_mT(data):
    x = data.draw(tensor_with_shape(min_dims=2))
    same(x.T, x.numpy().T)
    same(x.mT, np.swapaxes(x.numpy(), -1, -2))
    assert tge.gradcheck(lambda x: x.T, [x])
    assert tge.gradcheck(lambda x: x.mT, [x])


# ---- expand ----------------------------------------------------------------------------------------


@st.composite
def expansions(draw, shape):
    lead = draw(st.lists(st.integers(1, MAX_SIDE), max_size=2))
    rest = [draw(st.integers(1, MAX_SIDE)) if n == 1 else draw(st.sampled_from([n, -1])) for n in shape]
    return (*lead, *rest)


@given(data=st.data())
def test_expand_and_expand_as(data):
    x = data.draw(tensor_with_shape())
    sizes = data.draw(expansions(x.shape))
    target = tuple(x.shape[i - (len(sizes) - x.ndim)] if n == -1 else n for i, n in enumerate(sizes))
    same(x.expand(*sizes), np.broadcast_to(x.numpy(), target))
    same(x.expand(sizes), np.broadcast_to(x.numpy(), target))
    same(x.expand_as(tge.zeros(target)), np.broadcast_to(x.numpy(), target))
    assert tge.gradcheck(lambda x: x.expand(*sizes), [x])


def test_expand_backward_sums_the_copies():
    x = tge.tensor([[1.0], [2.0]], requires_grad=True)
    x.expand(3, 2, 4).sum().backward()
    assert x.grad.tolist() == [[12.0], [12.0]]


# ---- indexing --------------------------------------------------------------------------------------


@given(data=st.data())
def test_basic_indexing_ints_slices_steps_none_ellipsis(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    if x.ndim == 1:
        index = data.draw(st.integers(-x.shape[0], x.shape[0] - 1) | st.slices(x.shape[0]))
    else:
        index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    same(x[index], x.numpy()[index])
    assert tge.gradcheck(lambda x: x[index], [x])


@given(data=st.data())
def test_integer_array_indexing_scatter_adds_repeats(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=shapes(min_dims=1, max_dims=2)))
    same(x[index], x.numpy()[index])
    assert tge.gradcheck(lambda x: x[index], [x])
    # the gradient counts how often each element was picked
    x.grad = None
    x[index].sum().backward()
    counts = np.zeros(x.shape)
    np.add.at(counts, index, 1.0)
    np.testing.assert_array_equal(x.grad.numpy(), counts)


@given(data=st.data())
def test_index_tensors_and_lists_mixed_with_slices(data):
    x = data.draw(tensors(shape=data.draw(shapes(min_dims=2, max_dims=3))))
    rows = data.draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=1, max_size=5))
    last = data.draw(st.lists(st.integers(-x.shape[-1], x.shape[-1] - 1), min_size=1, max_size=5))
    r, c = np.asarray(rows), np.asarray(last)
    cases = [
        (tge.tensor(rows), r),
        (rows, r),
        ((tge.tensor(rows), slice(None, None, 2)), (r, slice(None, None, 2))),
        ((Ellipsis, last), (Ellipsis, c)),
        ((None, slice(1, None), tge.tensor(last)), (None, slice(1, None), c)) if x.ndim == 2 else (rows, r),
    ]
    for index, np_index in cases:
        same(x[index], x.numpy()[np_index])
        assert tge.gradcheck(lambda x, index=index: x[index], [x])


def test_repeated_index_by_hand():
    x = tge.tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[tge.tensor([0, 0, 2, 0])]
    assert y.tolist() == [10.0, 10.0, 30.0, 10.0]
    (y * tge.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [7.0, 0.0, 3.0]  # 1 + 2 + 4 for the three picks of x[0]


@given(data=st.data())
def test_boolean_masks(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    lead = data.draw(st.integers(1, x.ndim))
    mask = data.draw(hnp.arrays(np.bool_, x.shape[:lead]))
    for m in (mask, tge.tensor(mask)):
        same(x[m], x.numpy()[mask])
        assert tge.gradcheck(lambda x, m=m: x[m], [x])
    same(x[x > 0], x.numpy()[x.numpy() > 0])


def test_float_index_is_refused():
    with pytest.raises(IndexError, match="indices must be integer or bool"):
        tge.zeros(3)[tge.tensor([0.0, 1.0])]


# ---- gather -----------------------------------------------------------------------------------------


@given(data=st.data())
def test_gather(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    axis = dim % x.ndim
    index_shape = tuple(
        data.draw(st.integers(1, MAX_SIDE)) if a == axis else data.draw(st.integers(1, n))
        for a, n in enumerate(x.shape)
    )
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, x.shape[axis] - 1)))
    y = x.gather(dim, tge.tensor(index))
    leading = tuple(slice(None) if a == axis else slice(0, k) for a, k in enumerate(index_shape))
    same(y, np.take_along_axis(x.numpy()[leading], index, axis=axis))
    assert tge.gradcheck(lambda x: x.gather(dim, tge.tensor(index)), [x])
    assert tge.gradcheck(lambda x: tge.gather(x, dim, index), [x])


def test_gather_picks_one_entry_per_row_and_scatter_adds():
    x = tge.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x.gather(1, tge.tensor([[2, 2], [0, 1]]))
    assert y.tolist() == [[3.0, 3.0], [4.0, 5.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 2.0], [1.0, 1.0, 0.0]]


# ---- cat / stack / split / chunk ---------------------------------------------------------------------


@given(data=st.data())
def test_cat(data):
    base = data.draw(shapes(min_dims=1))
    dim = data.draw(st.integers(-len(base), len(base) - 1))
    sizes = data.draw(st.lists(st.integers(1, MAX_SIDE), min_size=1, max_size=3))
    xs = []
    for n in sizes:
        shape = list(base)
        shape[dim] = n
        xs.append(data.draw(tensors(shape=tuple(shape))))
    same(tge.cat(xs, dim), np.concatenate([x.numpy() for x in xs], axis=dim))
    assert tge.gradcheck(lambda *xs: tge.cat(xs, dim=dim), xs)


@given(data=st.data())
def test_stack(data):
    shape = data.draw(shapes())
    xs = [data.draw(tensors(shape=shape)) for _ in range(data.draw(st.integers(1, 3)))]
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    same(tge.stack(xs, dim), np.stack([x.numpy() for x in xs], axis=dim))
    assert tge.gradcheck(lambda *xs: tge.stack(xs, dim), xs)


@given(data=st.data())
def test_split_and_chunk(data):
    x = data.draw(tensor_with_shape(min_dims=1))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    size = data.draw(st.integers(1, MAX_SIDE))
    pieces = x.split(size, dim)
    assert [p.shape[dim] for p in pieces] == [min(size, n - i) for i in range(0, n, size)]
    same(tge.cat(pieces, dim), x.numpy())
    assert tge.gradcheck(lambda x: x.split(size, dim), [x])
    chunks = data.draw(st.integers(1, MAX_SIDE))
    parts = x.chunk(chunks, dim)
    assert len(parts) <= chunks and sum(p.shape[dim] for p in parts) == n
    assert tge.gradcheck(lambda x: x.chunk(chunks, dim), [x])
    cut = data.draw(st.integers(0, n))
    a, b = x.split([cut, n - cut], dim)
    assert a.shape[dim] == cut and b.shape[dim] == n - cut


def test_chunk_like_pytorch():
    assert [p.tolist() for p in tge.arange(5).chunk(3)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in tge.arange(6).chunk(4)] == [[0, 1], [2, 3], [4, 5]]  # 3 pieces, as PyTorch
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] add up to 4, but dim 0 has size 5"):
        tge.arange(5).split([2, 2])


# ---- where / masked_fill / clone ----------------------------------------------------------------------


@given(data=st.data())
def test_where(data):
    x_shape, y_shape = data.draw(broadcast_pairs())
    cond_shape = data.draw(st.sampled_from([x_shape, y_shape, np.broadcast_shapes(x_shape, y_shape)]))
    cond = data.draw(hnp.arrays(np.bool_, cond_shape))
    x = tge.tensor(data.draw(arrays(x_shape)), requires_grad=True)
    y = tge.tensor(data.draw(arrays(y_shape)), requires_grad=True)
    c = tge.tensor(cond)
    same(tge.where(c, x, y), np.where(cond, x.numpy(), y.numpy()))
    assert tge.gradcheck(lambda x, y: tge.where(c, x, y), [x, y])
    assert tge.gradcheck(lambda x: tge.where(c, x, 0.5), [x])
    assert tge.gradcheck(lambda y: tge.where(c, -1.0, y), [y])


@given(data=st.data())
def test_masked_fill(data):
    x_shape, m_shape = data.draw(broadcast_pairs())
    if np.broadcast_shapes(x_shape, m_shape) != x_shape:
        m_shape = x_shape
    x = tge.tensor(data.draw(arrays(x_shape)), requires_grad=True)
    mask = data.draw(hnp.arrays(np.bool_, m_shape))
    same(x.masked_fill(tge.tensor(mask), -2.0), np.where(mask, -2.0, x.numpy()))
    assert tge.gradcheck(lambda x: x.masked_fill(tge.tensor(mask), -2.0), [x])


def test_masked_fill_sends_no_gradient_to_the_filled_places():
    x = tge.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.masked_fill(x > 1.5, float("-inf"))
    assert y.tolist() == [1.0, float("-inf"), float("-inf")]
    assert y.dtype == np.float32
    y.softmax(0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@given(data=st.data())
def test_clone(data):
    x = data.draw(tensor_with_shape())
    y = x.clone()
    same(y, x.numpy())
    assert tge.gradcheck(lambda x: x.clone(), [x])
    with tge.no_grad():
        y.fill_(7.0)
    assert not np.any(x.numpy() == 7.0)  # a real copy: x is untouched


# ---- errors -----------------------------------------------------------------------------------------


def test_errors_name_the_op_and_the_shapes():
    x = tge.zeros(2, 3)
    with pytest.raises(ValueError, match=r"reshape: cannot view a tensor of shape \(2, 3\) \(6 elements\) as \(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\) to \(2, 4\)"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match=r"permute: \(0, 2\) is not a permutation of the 2 dims"):
        x.permute(0, 2)
    with pytest.raises(ValueError, match=r"permute: \(0,\) is not a permutation"):
        x.permute(0)
    with pytest.raises(ValueError, match=r"cat: tensors must match in every dim except dim 0; got \(2, 3\) and \(2, 4"):
        tge.cat([x, tge.zeros(2, 4)])
    with pytest.raises(ValueError, match="cat: 0-d tensors"):
        tge.cat([tge.tensor(1.0), tge.tensor(2.0)])
    with pytest.raises(ValueError, match=r"stack: expects equal shapes, got \(2, 3\) at entry 0 and \(3, 2\) at"):
        tge.stack([x, tge.zeros(3, 2)])
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        tge.where(tge.ones(3), tge.ones(3), tge.zeros(3))
    with pytest.raises(ValueError, match=r"gather: index of shape \(3, 1\) does not fit input of shape \(2, 3\)"):
        x.gather(1, tge.tensor([[0], [1], [2]]))
    with pytest.raises(IndexError, match="unsqueeze: dim 4 is out of range"):
        x.unsqueeze(4)
    with pytest.raises(ValueError, match=r"expand: \(-1, 2, 3\) puts -1 in a new leading dim"):
        x.expand(-1, 2, 3)
    with pytest.raises(ValueError, match=r"flatten: start_dim 1 comes after end_dim 0"):
        x.flatten(1, 0)

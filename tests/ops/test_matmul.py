"""matmul with torch.matmul's rules (1-D, 2-D, batched with broadcasting): forward against NumPy,
backward against gradcheck, the gradient equations, and the error messages.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tge
from tests.strategies import MAX_SIDE, arrays, tensors

side = st.integers(1, MAX_SIDE)


@st.composite
def matmul_shapes(draw):
    """Two shapes that matmul accepts: each 1-D, 2-D or batched, batch dims broadcasting."""
    m, k, n = draw(side), draw(side), draw(side)
    batch_x, batch_y = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    x_kind, y_kind = draw(st.sampled_from(["1d", "2d", "batched"])), draw(st.sampled_from(["1d", "2d", "batched"]))
    x_shape = {"1d": (k,), "2d": (m, k), "batched": (*batch_x, m, k)}[x_kind]
    y_shape = {"1d": (k,), "2d": (k, n), "batched": (*batch_y, k, n)}[y_kind]
    return x_shape, y_shape


@given(data=st.data())
def test_matmul_matches_numpy_and_gradcheck(data):
    x_shape, y_shape = data.draw(matmul_shapes())
    x, y = data.draw(tensors(shape=x_shape)), data.draw(tensors(shape=y_shape))
    z = x @ y
    expected = np.matmul(x.numpy(), y.numpy())
    assert z.shape == np.shape(expected)
    np.testing.assert_allclose(z.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert tge.gradcheck(lambda x, y: x @ y, [x, y])
    assert tge.gradcheck(lambda x, y: x.matmul(y), [x, y])
    assert tge.gradcheck(lambda x, y: tge.matmul(x, y), [x, y])


@pytest.mark.parametrize(
    ("x_shape", "y_shape", "z_shape"),
    [
        ((3,), (3,), ()),  # dot product
        ((3,), (3, 4), (4,)),  # row vector times matrix
        ((2, 3), (3,), (2,)),  # matrix times column vector
        ((2, 3), (3, 4), (2, 4)),
        ((2, 1, 3, 4), (5, 4, 6), (2, 5, 3, 6)),  # batch dims broadcast
        ((2, 5, 3, 4), (4, 6), (2, 5, 3, 6)),  # (…, M, K) @ (K, N): a Linear layer on a batch of sequences
        ((4,), (2, 4, 3), (2, 3)),
        ((2, 3, 4), (4,), (2, 3)),
    ],
)
def test_matmul_shapes_like_torch(x_shape, y_shape, z_shape):
    x = tge.randn(*x_shape, dtype=tge.float64, requires_grad=True)
    y = tge.randn(*y_shape, dtype=tge.float64, requires_grad=True)
    z = x @ y
    assert z.shape == z_shape
    np.testing.assert_allclose(z.numpy(), np.matmul(x.numpy(), y.numpy()), rtol=1e-12)
    assert tge.gradcheck(lambda x, y: x @ y, [x, y])


def test_the_gradient_equations():
    # dX = dZ @ Yᵀ and dY = Xᵀ @ dZ, checked with dZ = ones
    x = tge.randn(2, 3, dtype=tge.float64, requires_grad=True)
    y = tge.randn(3, 4, dtype=tge.float64, requires_grad=True)
    (x @ y).sum().backward()
    ones = np.ones((2, 4))
    np.testing.assert_allclose(x.grad.numpy(), ones @ y.numpy().T)
    np.testing.assert_allclose(y.grad.numpy(), x.numpy().T @ ones)


def test_shared_weight_gets_the_sum_over_the_batch():
    x = tge.randn(5, 2, 3, dtype=tge.float64, requires_grad=True)
    w = tge.randn(3, 4, dtype=tge.float64, requires_grad=True)
    (x @ w).sum().backward()
    expected = sum(x.numpy()[b].T @ np.ones((2, 4)) for b in range(5))
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_non_contiguous_operands():
    a = tge.randn(4, 3, dtype=tge.float64, requires_grad=True)
    b = tge.randn(5, 4, dtype=tge.float64, requires_grad=True)
    z = a.T @ b.T
    np.testing.assert_allclose(z.numpy(), a.numpy().T @ b.numpy().T)
    assert tge.gradcheck(lambda a, b: a.T @ b.T, [a, b])


def test_float32_in_float32_out():
    z = tge.ones(2, 3) @ tge.ones(3, 2)
    assert z.dtype == np.float32 and z.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_matmul_with_a_numpy_array_on_either_side():
    x = tge.ones(2, 3)
    w = np.ones((3, 2), dtype=np.float32)
    assert (x @ w).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert (w.T @ x.T).shape == (2, 2)


# ---- errors that say what is wrong and how to fix it ------------------------------------------------


def test_inner_dimension_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"^matmul: \(3, 4\) @ \(5, 2\): inner dimensions 4 and 5 differ$"):
        tge.ones(3, 4) @ tge.ones(5, 2)
    with pytest.raises(ValueError, match=r"matmul: \(3,\) @ \(4,\): inner dimensions 3 and 4 differ"):
        tge.ones(3) @ tge.ones(4)


def test_batch_dims_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\) do not broadcast"):
        tge.ones(2, 3, 4) @ tge.ones(3, 4, 5)


def test_dtype_mismatch_says_how_to_fix():
    with pytest.raises(
        TypeError, match=r"matmul: dtypes differ: float32 @ float64\. Convert one side first, e\.g\. x\.float"
    ):
        tge.ones(2, 3) @ tge.ones(3, 2, dtype=tge.float64)
    with pytest.raises(TypeError, match=r"needs floating-point tensors, got int64; call \.float\(\) first"):
        tge.arange(3) @ tge.arange(3)


def test_0d_operands_are_refused():
    with pytest.raises(ValueError, match=r"matmul: both arguments need at least 1 dim, got shapes \(\) and \(3,\)"):
        tge.tensor(2.0) @ tge.ones(3)
    with pytest.raises(ValueError, match="at least 1 dim"):
        tge.ones(3).matmul(tge.tensor(2.0))


# ---- Linear: y = x Wᵀ + b as one op -----------------------------------------------------------------


@given(data=st.data())
def test_linear_backward_matches_gradcheck(data):
    from tinygrad_edu.ops.matmul import Linear

    lead = data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple))
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x = tge.tensor(data.draw(arrays(lead + (n_in,))), requires_grad=True)
    w = tge.tensor(data.draw(arrays((n_out, n_in))), requires_grad=True)
    b = tge.tensor(data.draw(arrays((n_out,))), requires_grad=True)
    assert tge.gradcheck(lambda x, w, b: Linear.apply(x, w, b), [x, w, b])
    assert tge.gradcheck(lambda x, w: Linear.apply(x, w, None), [x, w])


def test_linear_weight_gradient_is_dy_transposed_times_x():
    from tinygrad_edu.ops.matmul import Linear

    x = tge.tensor(np.arange(6.0).reshape(3, 2))
    w = tge.tensor(np.ones((4, 2)), requires_grad=True)
    dy = np.arange(12.0).reshape(3, 4)
    Linear.apply(x, w, None).backward(dy)
    np.testing.assert_array_equal(w.grad.numpy(), dy.T @ x.numpy())
    assert w.grad.array.flags.c_contiguous  # laid out like W: no copy before the optimizer reads it

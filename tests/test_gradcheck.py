"""tge.gradcheck: True for correct backwards, a GradcheckError that names the input, the index and
both values for a wrong one. This file is also the example of checking an op you wrote yourself.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import Function, GradcheckError


class Square(Function):
    """y = x²            dx = dy · 2x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * 2 * x


class SquareForgotTheTwo(Function):
    """y = x², with a classic mistake in backward: dx = dy · x (the 2 is missing)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * x


class MulSwapped(Function):
    """z = x · y with the partial derivatives swapped: dx = dz · x (wrong), dy = dz · y (wrong)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        return dz * x, dz * y


def test_gradcheck_passes_a_correct_user_op():
    x = tge.randn(2, 3, requires_grad=True)
    assert tge.gradcheck(Square.apply, [x]) is True
    assert tge.gradcheck(lambda x: Square.apply(x).sum(), x) is True  # one tensor is fine too


def test_gradcheck_catches_a_wrong_backward_and_names_input_index_and_values():
    x = tge.tensor([[1.5, -2.0], [0.5, 3.0]], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tge.gradcheck(SquareForgotTheTwo.apply, [x])
    message = str(info.value)
    assert "input 0, index (0, 0)" in message
    # backward gives v·x, finite differences give v·2x for the random projection v: both are printed
    analytic, numeric = (
        float(v) for v in re.search(r"backward gives (\S+) but finite differences give (\S+?) ", message).groups()
    )
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)
    assert isinstance(info.value, AssertionError)  # so it reads as a test failure under pytest


def test_gradcheck_names_the_second_input_when_only_it_is_wrong():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    y = tge.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0, index \(0,\)"):
        tge.gradcheck(MulSwapped.apply, [x, y])
    constant = tge.tensor([5.0, 7.0])  # x needs no grad: only y is checked
    with pytest.raises(GradcheckError, match=r"input 1, index \(0,\)"):
        tge.gradcheck(MulSwapped.apply, [constant, y])


def test_gradcheck_on_composite_functions_with_several_inputs_and_outputs():
    a = tge.randn(3, 4, requires_grad=True)
    b = tge.randn(4, requires_grad=True)

    def fn(a, b, scale):
        h = (a @ b).tanh() * scale
        return h, h.softmax(0), (a - b).abs().amax(dim=1)

    assert tge.gradcheck(fn, [a, b, 2.0])


def test_gradcheck_works_in_float64_and_leaves_the_inputs_alone():
    x = tge.tensor([0.1, 0.2], requires_grad=True)
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return t.exp()

    assert tge.gradcheck(fn, [x])
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32 and x.grad is None and x.tolist() == pytest.approx([0.1, 0.2])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        tge.gradcheck(lambda x: x * 2, [tge.ones(2)])


def test_gradcheck_tolerances_are_respected():
    x = tge.tensor([1.0], requires_grad=True)
    with pytest.raises(GradcheckError):
        tge.gradcheck(SquareForgotTheTwo.apply, [x])
    assert tge.gradcheck(SquareForgotTheTwo.apply, [x], atol=10.0)  # a loose enough tolerance passes anything

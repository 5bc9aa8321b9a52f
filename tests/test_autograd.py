"""The autograd engine: accumulation, retain_graph, freed graphs, non-scalar roots, the iterative walk,
grad modes, detach, retain_grad, in-place rules, grad_fn / is_leaf, and a user-written Function.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import Function


def test_gradients_accumulate_over_two_backward_calls():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    (3 * x).sum().backward()  # a new graph: its gradient is added, as in PyTorch
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (3 * x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_zeroing_the_gradient_in_place():
    x = tge.tensor(2.0, requires_grad=True)  # 0-d: its gradient array must still be writable
    (x * x).backward()
    x.grad.zero_()
    (x * x).backward()
    assert x.grad.item() == 4.0


def test_retain_graph_allows_a_second_backward():
    x = tge.tensor([1.0, -2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_second_backward_through_a_freed_graph_raises_clearly():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = tge.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(3,\).*loss\.sum\(\).*gradient="):
        y.backward()
    y.backward(gradient=tge.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -6.0]
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but the tensor has \(3,\)"):
        (x * 2).backward(gradient=tge.ones(2))


def test_backward_on_a_tensor_without_grad_says_why():
    with pytest.raises(RuntimeError, match="does not require grad.*requires_grad=True"):
        tge.ones(3).sum().backward()


def test_a_one_element_non_scalar_root_is_fine():
    x = tge.tensor([3.0], requires_grad=True)
    (x * x).backward()  # numel 1, as in PyTorch
    assert x.grad.tolist() == [6.0]


def test_chain_of_100000_ops_has_no_recursion_limit():
    x = tge.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y  # the cheapest op: the test is about the walk, not the arithmetic
    y.backward()
    assert x.grad.item() == 1.0  # (−1)^100000


def test_diamond_graph_sums_both_paths():
    x = tge.tensor(3.0, requires_grad=True)
    a = x * 2  # da/dx = 2
    b = x * x  # db/dx = 2x = 6
    (a + b).backward()
    assert x.grad.item() == 8.0
    x.grad = None
    y = x.exp()
    (y * y).backward()  # d(e^2x)/dx = 2e^2x, through y used twice
    assert x.grad.item() == pytest.approx(2 * np.exp(6.0), rel=1e-6)


def test_no_grad_as_context_manager_and_decorator_builds_no_graph():
    x = tge.ones(3, requires_grad=True)
    with tge.no_grad():
        y = x * 2
        assert not tge.is_grad_enabled()
    assert tge.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @tge.no_grad()
    def double(t):
        return t * 2

    @tge.no_grad
    def triple(t):
        return t * 3

    assert not double(x).requires_grad and not triple(x).requires_grad
    assert double.__name__ == "double"
    assert (x * 2).requires_grad  # grad mode is back after each call


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError), tge.no_grad():
        raise ValueError
    assert tge.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = tge.ones(2, requires_grad=True)
    with tge.no_grad():
        with tge.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_detach_cuts_the_graph_and_shares_storage():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    (x * d).sum().backward()  # d is a constant: dx = d
    assert x.grad.tolist() == [3.0, 6.0]
    with tge.no_grad():
        x.detach().fill_(0.0)
    assert x.tolist() == [0.0, 0.0]  # shares storage, as in PyTorch
    assert not x.data.requires_grad


def test_retain_grad_on_a_non_leaf():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    y = h * h
    (y.sum()).backward()
    assert h.grad.tolist() == [4.0, 8.0]  # 2h
    assert y.grad is None  # not retained
    assert x.grad.tolist() == [8.0, 16.0]


def test_in_place_update_of_a_leaf_that_requires_grad():
    w = tge.ones(3, requires_grad=True)
    for update in (lambda: w.add_(1.0), lambda: w.mul_(2.0), lambda: w.zero_(), lambda: w.copy_(tge.zeros(3))):
        with pytest.raises(
            RuntimeError, match=r"a leaf Variable that requires grad is being used in an in-place operation"
        ):
            update()
    with pytest.raises(RuntimeError, match="in-place operation"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="in-place operation"):
        w[0] = 5.0
    with tge.no_grad():  # what optimizers do
        w -= 0.5 * tge.ones(3)
        w.mul_(2.0)
        w[0] = 5.0
    assert w.tolist() == [5.0, 1.0, 1.0]
    assert w.requires_grad and w.is_leaf
    t = tge.ones(2)  # needs no grad: in-place is always fine
    t.add_(1.0)
    assert t.tolist() == [2.0, 2.0]


def test_grad_fn_and_is_leaf():
    x = tge.ones(2, requires_grad=True)
    c = tge.ones(2)
    y = x * c
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None and y.grad_fn.name == "Mul"
    assert repr(y.grad_fn) == "<MulBackward>"
    assert (c * 2).is_leaf  # nothing to differentiate: no graph is recorded
    assert (x + 1).sum().grad_fn.name == "Sum"
    with pytest.raises(RuntimeError, match="only change requires_grad of leaf tensors"):
        y.requires_grad = False


def test_requires_grad_on_an_integer_tensor_raises_with_advice():
    with pytest.raises(RuntimeError, match=r"only floating-point tensors can require gradients.*\.float\(\)"):
        tge.tensor([1, 2], requires_grad=True)
    x = tge.tensor([1, 2]).float().requires_grad_()
    assert x.requires_grad


def test_gradient_keeps_the_leaf_dtype():
    w = tge.ones(2, requires_grad=True)
    (w.double() * 3).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [3.0, 3.0]


def test_gradient_does_not_flow_into_constants_or_integer_inputs():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    idx = tge.tensor([1, 0])
    y = x[idx] * tge.tensor([5.0, 7.0])
    y.sum().backward()
    assert x.grad.tolist() == [7.0, 5.0]
    assert idx.grad is None


class Cube(Function):
    """y = x³            dx = dy · 3x²    (a user-written op, PyTorch's autograd.Function shape)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * 3 * x**2


class ScaleBy(Function):
    """y = a · x (a a plain number)      dx = a · dy, and no gradient for the number"""

    @staticmethod
    def forward(ctx, x, a):
        ctx.a = a
        return a * x

    @staticmethod
    def backward(ctx, dy):
        return ctx.a * dy, None


def test_user_written_functions():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    y = ScaleBy.apply(Cube.apply(x), 2.0)
    assert y.tolist() == [2.0, 16.0]
    assert y.grad_fn.name == "ScaleBy"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]  # 2 · 3x²
    assert tge.gradcheck(lambda x: ScaleBy.apply(Cube.apply(x), 2.0), [tge.randn(3, requires_grad=True)])


class WrongShape(Function):
    """A broken backward: returns a gradient of the wrong shape."""

    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, dy):
        return dy  # should be broadcast back to x's shape


def test_a_backward_returning_the_wrong_shape_is_caught():
    x = tge.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\) for an input"):
        WrongShape.apply(x).backward()


def test_mixing_devices_is_refused_with_advice(monkeypatch):
    from types import SimpleNamespace

    from tinygrad_edu.autograd import _common_device

    on_cpu, on_gpu = SimpleNamespace(device="cpu"), SimpleNamespace(device="cuda")
    assert _common_device("Add", [on_cpu, on_cpu]) == "cpu"
    assert _common_device("Add", []) == "cpu"
    with pytest.raises(
        RuntimeError, match=r"Mul: expected all tensors on one device, but found \['cpu', 'cuda'\]. Move"
    ):
        _common_device("Mul", [on_cpu, on_gpu])
    # and through a real op: pretend one tensor lives on the GPU
    a, b = tge.ones(2), tge.ones(2)
    monkeypatch.setattr(type(b), "device", property(lambda t: "cuda" if t is b else "cpu"))
    with pytest.raises(RuntimeError, match="Add: expected all tensors on one device"):
        a + b


# ---- gradient arrays are never shared between tensors (a leaf may keep the array backward made) ----


def test_two_leaves_fed_the_same_gradient_array_do_not_share_it():
    a, b = tge.ones(3, requires_grad=True), tge.ones(3, requires_grad=True)
    (a + b).sum().backward()  # Add hands one array to both inputs
    a.grad.array += 10
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_a_broadcast_gradient_becomes_a_private_writable_array():
    w = tge.ones(2, 3, requires_grad=True)
    w.sum().backward()  # Sum's backward returns a read-only broadcast view
    assert w.grad.array.flags.writeable
    w.grad.zero_()
    assert w.grad.tolist() == [[0.0] * 3] * 2


def test_a_gradient_passed_to_backward_is_never_aliased():
    g = np.ones(3, dtype=np.float32)
    x = tge.ones(3, requires_grad=True)
    x.backward(g)
    x.grad.array += 1
    assert g.tolist() == [1.0, 1.0, 1.0]


def test_a_retained_grad_and_a_leaf_grad_are_separate_arrays():
    x = tge.ones(3, requires_grad=True)
    y = x + 0.0
    y.retain_grad()
    y.sum().backward()  # Add hands y's gradient straight on to x
    x.grad.array *= 5
    assert y.grad.tolist() == [1.0, 1.0, 1.0]

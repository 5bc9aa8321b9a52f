"""In-place ops inside the graph (rebasing the history) give PyTorch's gradients; leaves are protected;
after backward a graph keeps almost nothing (the ``total = total + loss`` misuse grows slowly)."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn


def test_y_plus_equals_x_on_a_computed_tensor():
    x = tge.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    y += x  # a ResNet block's `out += identity`
    assert y.grad_fn.name == "Add" and not y.is_leaf
    y.sum().backward()
    assert x.grad.tolist() == [3.0, -3.0, 7.0]  # 2x + 1


def test_a_resnet_block_with_in_place_residual_and_relu_matches_pytorch():
    """out = conv(x); out += x; out.relu_() (every ResNet block), with a write in between: x's and the
    weights' gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 3, 5, 5))
    w0, b0 = rng.standard_normal((3, 3, 3, 3)) * 0.3, rng.standard_normal(3)
    grads = []
    for lib, conv2d in ((tge, F.conv2d), (torch, torch.nn.functional.conv2d)):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        out = conv2d(x, w, b, padding=1)
        out += x
        out[:, 0] = 0.0  # and a write into the computed tensor
        out.relu_()
        (out * out).sum().backward()
        grads.append([t.grad.numpy() for t in (x, w, b)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_total_plus_equals_loss_accumulates_the_graph():
    w = tge.tensor([1.0, 2.0], requires_grad=True)
    total = tge.zeros(())
    for k in range(1, 4):
        total += (w * k).sum()
    assert total.requires_grad and total.item() == 18.0
    total.backward()
    assert w.grad.tolist() == [6.0, 6.0]


def test_setitem_with_a_mask_on_computed_scores():
    q = tge.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    scores = q * 2
    mask = tge.tensor([[True, False], [False, True]])
    scores[~mask] = -1e6
    assert scores.tolist() == [[2.0, -1e6], [-1e6, 8.0]]
    scores.sum().backward()
    assert q.grad.tolist() == [[2.0, 0.0], [0.0, 2.0]]  # no gradient where the value was overwritten


def test_setitem_with_a_tensor_value_sends_gradient_to_the_value():
    x = tge.zeros(3, requires_grad=True)
    v = tge.tensor([5.0], requires_grad=True)
    y = x * 1
    y[1:2] = v * 3
    (y * tge.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0] and v.grad.tolist() == [6.0]


def test_in_place_on_a_leaf_that_requires_grad_raises_as_in_pytorch():
    w = tge.ones(3, requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.relu_(), lambda: w.fill_(0), lambda: w.masked_fill_(w > 0, 0.0)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            change()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[:2].mul_(2)
    assert w.tolist() == [1.0, 1.0, 1.0]


def test_the_leaf_error_no_longer_recommends_summing_tensors():
    w = tge.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError) as error:
        w += 1
    assert "total = total + loss" not in str(error.value) and "x = x + y" not in str(error.value)


def test_an_op_recorded_before_the_change_keeps_its_gradient():
    x = tge.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y + 1  # uses y before relu_
    y.relu_()
    (z.sum() + (y * 10).sum()).backward()
    assert x.grad.tolist() == [1.0, 11.0]


def test_in_place_on_a_basic_slice_view_updates_the_base_history():
    x = tge.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    v = y[0]
    v.mul_(3)
    assert y.tolist() == [3.0, 2.0, 3.0] and y.grad_fn.name == "ViewAssign"
    (y * y).sum().backward()
    assert x.grad.tolist() == [18.0, 4.0, 6.0]  # d(9x0²)/dx0 = 18 x0


def test_a_stale_view_is_refused_with_advice():
    x = tge.ones(2, 2, requires_grad=True)
    y = x * 1
    row = y[0]
    y.add_(1)
    with pytest.raises(RuntimeError, match="view of a tensor that was changed in place.*Take the view again"):
        row * 2


def test_in_place_dtype_and_shape_rules():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        tge.ones(3).add_(tge.ones(2, 3))
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        tge.tensor([1, 2]).add_(0.5)
    x = tge.ones(2)
    x += tge.ones(2, dtype=tge.float64)
    assert x.dtype == np.float32


def test_after_backward_the_graph_holds_no_activation_and_says_already_freed():
    """Without retain_graph, backward frees every node's saved arrays and inputs: the activations die
    with the user's last reference, and a second backward says why it cannot run."""
    x = tge.randn(1000, requires_grad=True)
    a = x * 3
    b = a.exp()
    loss = (b * a).sum()
    activations = [weakref.ref(t.array) for t in (a, b)]
    nodes, todo = [], [loss.grad_fn]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo.extend(e for e in node.next_functions if not isinstance(e, tge.Tensor))
    del a, b
    gc.collect()
    assert all(r() is not None for r in activations)  # kept by the graph, for backward
    loss.backward()
    gc.collect()
    assert all(r() is None for r in activations)
    assert all(n.freed and n.saved_tensors == () and n.parents == () for n in nodes), nodes
    with pytest.raises(RuntimeError, match=r"a second time \(at Sum\): its saved arrays were freed"):
        loss.backward()


def test_summing_losses_as_tensors_keeps_only_small_freed_nodes():
    """`total = total + loss` for 200 steps: each freed step graph keeps no arrays (PyTorch: ~6 KB/step RSS)."""
    tge.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    x, y = tge.randn(32, 20), tge.tensor(np.arange(32) % 3)
    total = tge.zeros(())

    def step() -> None:
        nonlocal total
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        total = total + loss

    for _ in range(20):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            step()
        gc.collect()
        grown = (tracemalloc.get_traced_memory()[0] - before) / 200
    finally:
        tracemalloc.stop()
    assert grown < 8000, f"{grown:.0f} bytes kept per step"  # one activation alone is 32·64·4 = 8192 bytes


# ---- fuzz: random in-place sequences against PyTorch ---------------------------------------------

OPS = [
    "add_",
    "mul_",
    "sub_",
    "div_",
    "relu_",
    "clamp_",
    "exp_",
    "masked_fill_",
    "setitem",
    "fill_",
    "zero_",
    "copy_",
    "use",
]


def _run(lib, x0, w0, program, clone=False):
    """Apply ``program`` to y = x * 1 and return (x.grad, w.grad). With ``clone``, each in-place op works
    on a fresh copy of y: the same function, with no saved value ever overwritten (the true gradient)."""
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    _program_loss(x, w, program, clone).backward()
    return x.grad, w.grad


def _program_loss(x, w, program, clone=False):
    """The loss of ``program`` (see _run) as a function of the tensors x and w, of either library."""
    y = x * 1
    used = []
    for op, k in program:
        if clone and op != "use":
            y = y.clone()
        if op == "add_":
            y.add_(w * k)
        elif op == "sub_":
            y.sub_(w, alpha=k)
        elif op == "mul_":
            y.mul_(w if k % 2 else k)
        elif op == "div_":
            y.div_(w * w + 1)
        elif op == "relu_":
            y.relu_()
        elif op == "clamp_":
            y.clamp_(-k, k)
        elif op == "exp_":
            y.mul_(0.1).exp_()
        elif op == "masked_fill_":
            y.masked_fill_(w > 0, float(k))
        elif op == "setitem":
            y[k % 3] = w[0] * 2
        elif op == "fill_":
            y.fill_(float(k))
        elif op == "zero_":
            y.zero_()
        elif op == "copy_":
            y.copy_(w * k)
        elif op == "use":
            used.append((y * w).sum())  # saves y: a later change in place must be refused
    return (y * y).sum() + sum(used)


@settings(max_examples=60, deadline=None)
@given(
    x0=st.lists(st.floats(-2, 2, width=32), min_size=3, max_size=3),
    w0=st.lists(st.floats(-2, 2, width=32), min_size=3, max_size=3),
    program=st.lists(st.tuples(st.sampled_from(OPS), st.integers(1, 3)), min_size=1, max_size=5),
)
def test_random_in_place_programs_match_pytorch(x0, w0, program):
    torch = pytest.importorskip("torch")
    x0, w0 = np.float64(x0), np.float64(w0)
    true = [g.numpy() if g is not None else None for g in _run(torch, x0, w0, program, clone=True)]
    try:
        expected = [g.numpy() if g is not None else None for g in _run(torch, x0, w0, program)]
    except RuntimeError as error:  # PyTorch refuses: we refuse too, or (saving less) give the true gradient
        assert "modified by an inplace operation" in str(error)
        try:
            got = _run(tge, x0, w0, program)
        except RuntimeError as ours:
            assert "modified by an inplace operation" in str(ours)
            return
        expected = true
    else:
        got = _run(tge, x0, w0, program)
    for g, e in zip(got, expected):
        if e is None:
            assert g is None or not np.any(g.numpy())
        else:
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-9, atol=1e-12)


SMOOTH = [op for op in OPS if op not in ("relu_", "clamp_")]  # no kinks for finite differences to straddle
AWAY_FROM_0 = st.floats(0.25, 2, width=32).flatmap(lambda v: st.sampled_from([v, -v]))  # w > 0 is a mask


@settings(max_examples=40, deadline=None)
@given(
    x0=st.lists(AWAY_FROM_0, min_size=3, max_size=3),
    w0=st.lists(AWAY_FROM_0, min_size=3, max_size=3),
    program=st.lists(st.tuples(st.sampled_from(SMOOTH), st.integers(1, 3)), min_size=1, max_size=5),
)
def test_random_in_place_programs_pass_gradcheck(x0, w0, program):
    """Without PyTorch: the gradient through a random sequence of in-place ops agrees with finite
    differences of the same program (and with the program that works on copies), or backward refuses
    with PyTorch's message because a value it saved was overwritten."""
    x = tge.tensor(np.float64(x0), requires_grad=True)
    w = tge.tensor(np.float64(w0), requires_grad=True)
    try:
        _program_loss(x, w, program).backward()
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error)
        return
    fresh = [tge.tensor(np.float64(v), requires_grad=True) for v in (x0, w0)]
    assert tge.gradcheck(lambda x, w: _program_loss(x, w, program), fresh)
    on_copies = _run(tge, np.float64(x0), np.float64(w0), program, clone=True)
    for got, true in zip((x.grad, w.grad), on_copies):
        if true is None:
            assert got is None or not np.any(got.numpy())
        else:
            np.testing.assert_allclose(got.numpy(), true.numpy(), rtol=1e-9, atol=1e-12)

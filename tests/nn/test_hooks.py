"""Module hooks against PyTorch: order (prepend), with_kwargs, replacement, removal, always_call, backward hooks."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import nn


def test_order_prepend_and_removable_handles():
    layer, calls = nn.Linear(3, 2), []
    a = layer.register_forward_pre_hook(lambda m, args: calls.append("a"))
    layer.register_forward_pre_hook(lambda m, args: calls.append("b"), prepend=True)
    layer.register_forward_hook(lambda m, args, out: calls.append("after"))
    layer(tge.randn(1, 3))
    assert calls == ["b", "a", "after"]
    a.remove()
    a.remove()  # removing twice is harmless, as in PyTorch
    calls.clear()
    layer(tge.randn(1, 3))
    assert calls == ["b", "after"]


def test_with_kwargs_sees_and_replaces_keyword_arguments():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True)
    assert m(tge.ones(2), factor=2.0).numpy().tolist() == [3.0, 3.0] and seen == [3.0]


def test_always_call_runs_when_forward_raises():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")

    m, seen = Broken(), []
    m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("normal"))
    with pytest.raises(ValueError, match="broken forward"):
        m(tge.ones(1))
    assert seen == [("always", None)]


def test_backward_hook_gradients_agree_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours.weight.array[...] = w
    ours.bias.array[...] = 0
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(w))
        theirs.bias.zero_()
    got, want = [], []
    ours.register_full_backward_hook(lambda m, gi, go: got.append((gi[0].numpy(), go[0].numpy())))
    theirs.register_full_backward_hook(lambda m, gi, go: want.append((gi[0].numpy(), go[0].numpy())))
    xo, xt = tge.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (theirs(xt) ** 2).sum().backward()
    for a, b in zip(got[0], want[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

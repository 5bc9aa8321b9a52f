"""Version counters: in-place changes after a tensor was saved for backward are refused, as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge

MODIFIED = r"modified by an inplace operation: .* is at version 1; expected version 0 instead"


def test_every_in_place_change_bumps_the_version_shared_by_views_and_detach():
    x = tge.zeros(2, 3)
    v, d, r = x[0], x.detach(), x.reshape(6)
    assert x._version == 0
    x.add_(1)
    x[0, 0] = 5.0
    with tge.no_grad():
        v.mul_(2)
    assert x._version == v._version == d._version == r._version == 3
    assert x.tolist() == [[10.0, 2.0, 2.0], [1.0, 1.0, 1.0]]  # the views share the storage


def test_a_saved_output_changed_under_no_grad_is_refused():
    x = tge.tensor([1.0], requires_grad=True)
    y = x.exp()
    with tge.no_grad():
        y += 1
    with pytest.raises(
        RuntimeError, match=r"\[float32 tensor \[1\]\], which is output 0 of Exp, is at version 1; expected version 0"
    ):
        y.sum().backward()


def test_a_saved_input_changed_under_no_grad_is_refused_and_names_the_op():
    x = tge.ones(3, requires_grad=True)
    w = tge.ones(3, requires_grad=True)
    z = (w * x).sum()
    with tge.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED + ".*Mul saved it"):
        z.backward()


def test_a_write_through_data_is_seen_too():
    x = tge.tensor([2.0], requires_grad=True)
    y = x * x
    x.data.fill_(0.0)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.backward()


def test_changes_that_backward_does_not_need_are_fine():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1  # Add saves nothing
    with tge.no_grad():
        y.mul_(10)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]  # PyTorch gives the same


def test_numpy_of_a_tensor_that_requires_grad_cannot_be_written():
    x = tge.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        x.numpy()[0] = 0.0
    assert x.tolist() == [1.0, 2.0] and x.grad.tolist() == [2.0, 4.0]
    x.detach().numpy()[0] = 3.0  # said explicitly: allowed, and the version does not know (as in PyTorch)
    assert x.tolist() == [3.0, 2.0]
    assert tge.ones(2).numpy().flags.writeable


def test_assigning_a_grad_of_the_wrong_shape_dtype_or_type_is_refused():
    x = tge.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assign a gradient of size '\[2, 3\]' to a tensor of size '\[3\]'"):
        x.grad = tge.zeros(2, 3)
    with pytest.raises(RuntimeError, match="dtype 'float64' to a tensor with dtype 'float32'"):
        x.grad = tge.zeros(3, dtype=tge.float64)
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = np.zeros(3)
    x.grad = tge.ones(3)
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    x.grad = None
    assert x.grad is None

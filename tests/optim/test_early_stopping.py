"""EarlyStopping: when it stops, which epoch it remembers, and the weights it gives back."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import optim


class TinyModel:
    """The least a model needs: state_dict() of Tensors by name, load_state_dict() copying them in."""

    def __init__(self):
        self.weight = tge.zeros(2, 2, requires_grad=True)
        self.bias = tge.zeros(2, requires_grad=True)

    def state_dict(self):
        return {"weight": self.weight.detach(), "bias": self.bias.detach()}  # shares storage, like PyTorch's

    def load_state_dict(self, state_dict):
        with tge.no_grad():
            self.weight.copy_(state_dict["weight"])
            self.bias.copy_(state_dict["bias"])


def train_epoch(model, epoch):
    """Stand-in for an epoch of training: the weights change every epoch (in place)."""
    with tge.no_grad():
        model.weight.fill_(float(epoch))
        model.bias.fill_(-float(epoch))


def run(stopper, metrics, model):
    for epoch, metric in enumerate(metrics):
        train_epoch(model, epoch)
        if stopper.step(metric, model):
            return epoch
    return None


def test_stops_after_patience_epochs_and_restores_the_best_weights():
    model, stopper = TinyModel(), optim.EarlyStopping(patience=3)
    stopped = run(stopper, [1.0, 0.8, 0.6, 0.65, 0.7, 0.61, 0.9, 0.5], model)
    assert stopped == 5  # epochs 3, 4, 5 did not beat 0.6
    assert (stopper.best, stopper.best_epoch, stopper.counter) == (0.6, 2, 3)
    np.testing.assert_array_equal(model.weight.numpy(), 2.0)  # the weights of epoch 2 are back
    np.testing.assert_array_equal(model.bias.numpy(), -2.0)


def test_the_kept_weights_are_a_copy():
    model, stopper = TinyModel(), optim.EarlyStopping(patience=10)
    run(stopper, [1.0, 2.0, 3.0], model)  # best at epoch 0; the model moves on in place afterwards
    np.testing.assert_array_equal(model.weight.numpy(), 2.0)
    stopper.restore(model)
    np.testing.assert_array_equal(model.weight.numpy(), 0.0)
    with tge.no_grad():
        model.weight.fill_(7.0)
    stopper.restore(model)  # restoring twice works: restore hands out copies too
    np.testing.assert_array_equal(model.weight.numpy(), 0.0)


def test_min_delta_and_mode_max():
    stopper = optim.EarlyStopping(patience=2, min_delta=0.1, mode="max", restore_best_weights=False)
    model = TinyModel()
    stopped = run(stopper, [0.5, 0.55, 0.65, 0.7, 0.74], model)  # +0.05 no; +0.15 yes; then +0.05, +0.09 no
    assert stopped == 4 and stopper.best == 0.65 and stopper.best_epoch == 2
    np.testing.assert_array_equal(model.weight.numpy(), 4.0)  # not restored


def test_does_not_stop_while_improving_and_nan_never_improves():
    stopper = optim.EarlyStopping(patience=2)
    assert not any(stopper.step(m) for m in [5.0, 4.0, 3.0, 2.0, 1.0])
    assert stopper.best_epoch == 4 and stopper.counter == 0
    assert not stopper.step(math.nan)
    assert stopper.step(math.nan)  # a diverged run stops
    assert stopper.best == 1.0


def test_works_with_array_state_dicts_and_errors():
    class ArrayModel:
        def __init__(self):
            self.w = np.zeros(3)

        def state_dict(self):
            return {"w": self.w}

        def load_state_dict(self, sd):
            self.w[...] = sd["w"]

    model, stopper = ArrayModel(), optim.EarlyStopping(patience=1)
    stopper.step(1.0, model)
    model.w += 1
    assert stopper.step(2.0, model)
    np.testing.assert_array_equal(model.w, 0.0)
    with pytest.raises(RuntimeError, match="no weights kept yet"):
        optim.EarlyStopping().restore(model)
    with pytest.raises(ValueError, match="mode='lowest'"):
        optim.EarlyStopping(mode="lowest")

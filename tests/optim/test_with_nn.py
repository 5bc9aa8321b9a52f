"""Optimizers, schedulers and EarlyStopping driving real nn modules."""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim


def regression_data(n=64, d=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(n, 1))
    return x, y


def test_sgd_on_linear_regression_reaches_least_squares():
    x, y = regression_data()
    model = nn.Linear(3, 1).double()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.5)
    X, Y = tge.tensor(x), tge.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        F.mse_loss(model(X), Y).backward()
        opt.step()
        sched.step()
    solution, *_ = np.linalg.lstsq(np.hstack([x, np.ones((len(x), 1))]), y, rcond=None)
    np.testing.assert_allclose(model.weight.numpy().ravel(), solution[:3, 0], atol=1e-6)
    np.testing.assert_allclose(model.bias.numpy(), solution[3], atol=1e-6)
    assert sched.get_last_lr() == [0.1 * 0.5**3]


def test_resume_a_model_and_its_optimizer_bit_for_bit():
    x, y = regression_data()
    X, Y = tge.tensor(x, dtype=tge.float32), tge.tensor(y, dtype=tge.float32)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            F.mse_loss(model(X), Y).backward()
            opt.step()

    tge.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    train(model, opt, 6)
    uninterrupted = [p.numpy().copy() for p in model.parameters()]

    tge.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    train(model, opt, 3)
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = opt.state_dict()

    tge.manual_seed(2)  # a different initialisation, overwritten by the checkpoint
    resumed = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    resumed.load_state_dict(weights)
    resumed_opt = optim.Adam(resumed.parameters(), lr=1e-2)
    resumed_opt.load_state_dict(state)
    train(resumed, resumed_opt, 3)
    for a, b in zip(resumed.parameters(), uninterrupted):
        np.testing.assert_array_equal(a.numpy(), b)


def test_early_stopping_restores_an_nn_module():
    x, y = regression_data()
    X, Y = tge.tensor(x, dtype=tge.float32), tge.tensor(y, dtype=tge.float32)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.SGD(model.parameters(), lr=0.05)
    stopper = optim.EarlyStopping(patience=2)
    metrics = [3.0, 2.0, 1.0, 1.5, 1.2]  # scripted "validation losses": best at epoch 2
    snapshots, stopped_at = [], None
    for epoch, metric in enumerate(metrics):
        opt.zero_grad()
        F.mse_loss(model(X), Y).backward()
        opt.step()
        snapshots.append({k: v.numpy().copy() for k, v in model.state_dict().items()})
        if stopper.step(metric, model):
            stopped_at = epoch
            break
    assert stopped_at == 4 and stopper.best_epoch == 2
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshots[2][key])
        assert not np.array_equal(value.numpy(), snapshots[4][key])

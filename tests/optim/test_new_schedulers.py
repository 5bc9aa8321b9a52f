"""The new schedulers against PyTorch's, step by step (lrs and cycled momenta), and their state dicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import optim

torch = pytest.importorskip("torch")

SCHEDULERS = {
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.5),
    "lambda": lambda m, o: m.LambdaLR(o, lambda t: 0.9**t + 0.01 * t),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda t: 0.95),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6),
    "warm-restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "warm-restarts-1": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4),
    "cyclic": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=3),
    "cyclic2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, mode="triangular2"),
    "cyclic-exp": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97),
    "onecycle-cos": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40),
    "onecycle-linear": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=10,
                                                  anneal_strategy="linear", pct_start=0.25),
    "onecycle-3": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40, three_phase=True),
    "sequential": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.2, total_iters=4), m.CosineAnnealingLR(o, T_max=10), m.StepLR(o, 3)], milestones=[4, 15]
    ),
    "chained": lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, 0.9), m.MultiStepLR(o, [5, 10])]),
}  # fmt: skip


def optimizers(adam):
    w, b = tge.zeros(3, requires_grad=True), tge.zeros(1, requires_grad=True)
    tw, tb = torch.zeros(3, requires_grad=True), torch.zeros(1, requires_grad=True)
    if adam:
        return (optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.3}], lr=0.1),
                torch.optim.Adam([{"params": [tw]}, {"params": [tb], "lr": 0.3}], lr=0.1))  # fmt: skip
    return (optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.3}], lr=0.1, momentum=0.9),
            torch.optim.SGD([{"params": [tw]}, {"params": [tb], "lr": 0.3}], lr=0.1, momentum=0.9))  # fmt: skip


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


@pytest.mark.parametrize("adam", [False, True], ids=["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_equals_pytorch_step_by_step(name, adam):
    opt, topt = optimizers(adam)
    sched, tsched = SCHEDULERS[name](optim.lr_scheduler, opt), SCHEDULERS[name](torch.optim.lr_scheduler, topt)
    steps = 39 if name.startswith("onecycle") else 40
    ours, theirs = [sched.get_last_lr() + momenta(opt)], [tsched.get_last_lr() + momenta(topt)]
    for k in range(steps):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        ours.append(sched.get_last_lr() + momenta(opt))
        theirs.append(tsched.get_last_lr() + momenta(topt))
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(ours[-1][:2], rel=1e-12), k
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len({tuple(x) for x in ours}) > (1 if name == "constant" else 3)  # the schedule did move

    # Resume halfway from the state dict: the rest of the schedule is the same.
    opt2, _ = optimizers(adam)
    again = SCHEDULERS[name](optim.lr_scheduler, opt2)
    opt_mid, _ = optimizers(adam)
    mid = SCHEDULERS[name](optim.lr_scheduler, opt_mid)
    for _ in range(steps // 2):
        mid.step()
    again.load_state_dict(mid.state_dict())
    opt2.load_state_dict(opt_mid.state_dict())
    for _ in range(steps - steps // 2):
        again.step()
    assert again.get_last_lr() == pytest.approx(ours[-1][:2], rel=1e-12)


def test_warm_restarts_with_fractional_epochs_equals_pytorch():
    opt, topt = optimizers(False)
    sched = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3, eta_min=0.01)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=2, T_mult=3, eta_min=0.01)
    for epoch in np.arange(0, 20, 0.25):
        sched.step(float(epoch))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch calls step(epoch) deprecated; it still computes the schedule
            tsched.step(float(epoch))
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert (sched.T_i, sched.T_cur) == pytest.approx((tsched.T_i, tsched.T_cur))


def test_scheduler_arguments_are_checked_with_pytorchs_messages():
    opt, _ = optimizers(False)
    m = optim.lr_scheduler
    cases = [
        (lambda: m.LinearLR(opt, start_factor=0), "Starting multiplicative factor expected"),
        (lambda: m.LinearLR(opt, end_factor=1.5), "Ending multiplicative factor expected"),
        (lambda: m.ConstantLR(opt, factor=2.0), "Constant multiplicative factor expected"),
        (lambda: m.LambdaLR(opt, [lambda t: 1.0]), "Expected 2 lr_lambdas, but got 1"),
        (lambda: m.CosineAnnealingWarmRestarts(opt, T_0=0), "Expected positive integer T_0"),
        (lambda: m.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0), "Expected integer T_mult >= 1"),
        (lambda: m.OneCycleLR(opt, max_lr=0.1), "You must define either total_steps"),
        (lambda: m.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5), "pct_start"),
        (lambda: m.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
        (lambda: m.OneCycleLR(opt, max_lr=[0.1], total_steps=10), "expected 2 values for max_lr"),
        (lambda: m.CyclicLR(opt, 0.01, 0.1, mode="sine"), "mode is invalid"),
        (lambda: m.MultiStepLR(opt, milestones=["3"]), "milestones must be epoch numbers"),
        (lambda: m.StepLR(opt, 3, gamma=float("nan")), "Invalid gamma value: nan"),
        (lambda: m.SequentialLR(opt, [m.StepLR(opt, 2)], milestones=[3]), "one more than the number of milestone"),
    ]
    for build, message in cases:
        with pytest.raises(ValueError, match=message):
            build()
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        m.MultiplicativeLR(opt, 0.9)
    adagrad = optim.Adagrad([tge.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        m.OneCycleLR(adagrad, max_lr=0.1, total_steps=10)
    with pytest.raises(KeyError, match="initial_lr"):
        m.StepLR(optim.SGD([tge.zeros(2, requires_grad=True)], lr=0.1), 3, last_epoch=4)

"""Schedulers: their closed forms, plateau logic on scripted metrics, checkpoints and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tge
from tinygrad_edu import optim
from tinygrad_edu.optim import lr_scheduler

EPOCHS = 30


def make_optimizer(lr=0.1, head_lr=0.02):
    w, b = tge.zeros(3, requires_grad=True), tge.zeros(1, requires_grad=True)
    return optim.SGD([{"params": [w]}, {"params": [b], "lr": head_lr}], lr=lr)


def lrs_over(sched, opt, epochs=EPOCHS):
    out = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return np.array(out)


CLOSED_FORMS = {
    "StepLR": (
        lambda opt: lr_scheduler.StepLR(opt, step_size=4, gamma=0.5),
        lambda eta_0, t: eta_0 * 0.5 ** (t // 4),
    ),
    "ExponentialLR": (
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.8),
        lambda eta_0, t: eta_0 * 0.8**t,
    ),
    "CosineAnnealingLR": (
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS, eta_min=0.001),
        lambda eta_0, t: 0.001 + 0.5 * (eta_0 - 0.001) * (1 + math.cos(math.pi * t / EPOCHS)),
    ),
    "CosineAnnealingLR-past-T_max": (
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.001),
        lambda eta_0, t: 0.001 + 0.5 * (eta_0 - 0.001) * (1 + math.cos(math.pi * t / 6)),
    ),
}


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_lrs_follow_the_closed_form_in_the_docstring(name):
    make, formula = CLOSED_FORMS[name]
    opt = make_optimizer()
    lrs = lrs_over(make(opt), opt)
    expected = [[formula(0.1, t), formula(0.02, t)] for t in range(EPOCHS + 1)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]


def test_cosine_ends_at_eta_min_and_comes_back():
    opt = make_optimizer()
    lrs = lrs_over(lr_scheduler.CosineAnnealingLR(opt, T_max=10), opt, epochs=20)[:, 0]
    assert lrs[0] == 0.1 and lrs[10] == pytest.approx(0.0, abs=1e-15) and lrs[20] == pytest.approx(0.1, rel=1e-12)
    assert np.all(np.diff(lrs[:11]) < 0) and np.all(np.diff(lrs[10:]) > 0)


def test_schedulers_are_chainable_like_pytorchs():
    """Two schedulers on one optimizer multiply their effects, and an lr set by hand is carried on."""
    opt = make_optimizer()
    a, b = lr_scheduler.ExponentialLR(opt, gamma=0.5), lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(2):
        a.step()
        b.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**2 * 0.1)
    opt.param_groups[0]["lr"] = 1.0
    a.step()
    assert a.get_last_lr()[0] == 0.5


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_scheduler_state_dict_resumes_the_same_schedule(name):
    make, _ = CLOSED_FORMS[name]
    opt = make_optimizer()
    uninterrupted = lrs_over(make(opt), opt)

    opt = make_optimizer()
    sched = make(opt)
    first = lrs_over(sched, opt, epochs=10)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 10
    saved_sched = {k: np.asarray(v) if isinstance(v, list | int | float) else v for k, v in saved_sched.items()}

    opt = make_optimizer(lr=5.0, head_lr=5.0)
    opt.load_state_dict(saved_opt)
    sched = make(opt)
    sched.load_state_dict(saved_sched)
    assert sched.get_last_lr() == list(first[-1])
    rest = lrs_over(sched, opt, epochs=EPOCHS - 10)
    np.testing.assert_allclose(np.concatenate([first, rest[1:]]), uninterrupted, rtol=1e-15)


def test_reduce_on_plateau_waits_patience_epochs_then_reduces():
    opt = make_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.03)
    metrics = [1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4]
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(sched.get_last_lr()[0])
    # epochs 2, 3: bad; epoch 4: third bad > patience → 0.05; epoch 5: cooldown; 6, 7: bad; 8: better
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05])
    assert sched.best == 0.4 and sched.num_bad_epochs == 0
    for _ in range(4):
        sched.step(1.0)
    # floored at min_lr; the head's 0.02 is already below min_lr and is never raised
    assert sched.get_last_lr() == pytest.approx([0.03, 0.02])
    assert opt.param_groups[1]["lr"] == 0.02


def test_reduce_on_plateau_threshold_and_mode():
    opt = make_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.1, threshold_mode="rel")
    sched.step(1.0)
    assert sched.is_better(1.11, sched.best) and not sched.is_better(1.09, sched.best)
    sched.step(1.09)  # not 10% better: a bad epoch, patience 0 → reduce
    assert sched.get_last_lr()[0] == pytest.approx(0.01)
    assert sched.best == 1.0

    sched = lr_scheduler.ReduceLROnPlateau(make_optimizer(), threshold=0.05, threshold_mode="abs")
    sched.step(1.0)
    assert sched.is_better(0.94, 1.0) and not sched.is_better(0.96, 1.0)


def test_reduce_on_plateau_state_dict():
    opt = make_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for m in (1.0, 1.0, 0.9):
        sched.step(m)
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["best"] == 0.9 and saved["num_bad_epochs"] == 0
    other = lr_scheduler.ReduceLROnPlateau(make_optimizer(), mode="min", patience=5)
    other.load_state_dict({k: np.asarray(v) if isinstance(v, float | int) else v for k, v in saved.items()})
    assert other.patience == 1 and other.best == 0.9 and isinstance(other.best, float)


def test_scheduler_errors():
    opt = make_optimizer()
    with pytest.raises(TypeError, match="needs an optimizer"):
        lr_scheduler.StepLR([1, 2], step_size=3)
    with pytest.raises(ValueError, match="positive integer"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max=0"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="factor=1.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode='mean'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="mean")
    with pytest.raises(ValueError, match="threshold_mode='relative'"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="min_lr has 3 values but the optimizer has 2"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0, 0.0])
    nan = float("nan")
    for bad, message in [
        ({"factor": nan}, "Invalid factor value: nan"),
        ({"patience": -1}, r"Invalid patience value: -1 \(it counts epochs"),
        ({"patience": 2.5}, "Invalid patience value: 2.5"),
        ({"cooldown": -1}, "Invalid cooldown value: -1"),
        ({"threshold": nan}, "Invalid threshold value: nan"),
        ({"eps": nan}, "Invalid eps value: nan"),
        ({"min_lr": -0.1}, "Invalid min_lr value: -0.1"),
        ({"min_lr": [0.0, nan]}, "Invalid min_lr value: nan"),
    ]:
        with pytest.raises(ValueError, match=message):
            lr_scheduler.ReduceLROnPlateau(opt, **bad)
    assert lr_scheduler.ReduceLROnPlateau(opt, patience=np.int64(3), cooldown=0).patience == 3
    with pytest.raises(ValueError, match="step_size='2'"):
        lr_scheduler.StepLR(opt, step_size="2")

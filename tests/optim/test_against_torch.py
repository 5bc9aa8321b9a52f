"""The optimizers and schedulers against PyTorch's: same parameters, same gradients, same numbers.

Gradients come from one NumPy function of the current parameters (a noisy quadratic), applied to
each library's own parameters, so the trajectories agree only if every update rule does.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.optim.problems import Quadratic, flat, run_tge, split, tolerance
from tests.optim.test_rules import CASES, DTYPES, PARAMS
from tinygrad_edu import optim

torch = pytest.importorskip("torch")

TORCH_CLASS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def torch_params(problem):
    return [torch.tensor(p.copy(), requires_grad=True) for p in split(problem.theta0)]


def run_torch(opt, params, problem, steps, start=0):
    trajectory = []
    for k in range(start, start + steps):
        theta = flat([p.detach() for p in params])
        for p, g in zip(params, split(problem.grad(theta, k))):
            p.grad = torch.tensor(g.copy())
        opt.step()
        trajectory.append(flat([p.detach() for p in params]))
    return trajectory


def torch_state_as_numpy(state_dict):
    """PyTorch's optimizer state dict with tensors turned into NumPy arrays (what our loader takes)."""
    state = {
        i: {k: v.detach().numpy().copy() if torch.is_tensor(v) else v for k, v in s.items()}
        for i, s in state_dict["state"].items()
    }
    return {"state": state, "param_groups": state_dict["param_groups"]}


def assert_close_scaled(ours, theirs, dtype, what):
    """Equal to rounding, relative to the largest entry (buffers pass through 0)."""
    tol = tolerance(dtype)
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=tol["rtol"], atol=tol["atol"] * scale, err_msg=what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "case"), PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_trajectory_and_state_equal_pytorch(name, case, dtype):
    cls, _, options = CASES[name]
    kwargs = options[case]
    problem = Quadratic(dtype, seed=case)
    ours, _, opt = run_tge(lambda ps: cls(ps, **kwargs), problem)
    tparams = torch_params(problem)
    topt = getattr(torch.optim, TORCH_CLASS[name])(tparams, **kwargs)
    theirs = run_torch(topt, tparams, problem, problem.steps)
    for k, (a, e) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, e, **tolerance(dtype), err_msg=f"{name} {kwargs} step {k + 1}")

    # Same state, under the same names, in the same layout.
    sd, tsd = opt.state_dict(), torch_state_as_numpy(topt.state_dict())
    assert sd["state"].keys() == tsd["state"].keys()
    for i in sd["state"]:
        assert sd["state"][i].keys() == tsd["state"][i].keys()
        for key, value in sd["state"][i].items():
            if key == "step":
                assert value == tsd["state"][i][key]
            else:
                assert value.dtype == dtype
                assert_close_scaled(value, tsd["state"][i][key], dtype, f"state[{i}][{key!r}]")
    (group,), (tgroup,) = sd["param_groups"], tsd["param_groups"]
    assert group["params"] == tgroup["params"] == [0, 1]
    for key, value in group.items():
        assert value == tgroup[key], key


RESUME = [
    ("sgd", optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("adam", optim.Adam, dict(lr=0.05, betas=(0.9, 0.5), amsgrad=True, weight_decay=0.1)),
    ("adamw", optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
    ("rmsprop", optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    ("adagrad", optim.Adagrad, dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize(("name", "cls", "kwargs"), RESUME, ids=[r[0] for r in RESUME])
def test_pytorch_state_dict_loads_and_continues_the_same(name, cls, kwargs):
    """A PyTorch optimizer's state_dict, tensors turned into NumPy arrays, resumes here as it would there."""
    problem = Quadratic(np.float64, seed=7)
    tparams = torch_params(problem)
    topt = getattr(torch.optim, TORCH_CLASS[name])(tparams, **kwargs)
    run_torch(topt, tparams, problem, 3)

    params = [tge.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt = cls(params, **{k: v * 3 if k == "lr" else v for k, v in kwargs.items()})  # the lr comes from the file
    opt.load_state_dict(torch_state_as_numpy(topt.state_dict()))
    assert opt.param_groups[0]["lr"] == kwargs["lr"]
    ours, _, _ = run_tge(None, problem, steps=3, params=params, opt=opt, start=3)
    theirs = run_torch(topt, tparams, problem, 3, start=3)
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, **tolerance(np.float64))


# ---- schedulers ----------------------------------------------------------------------------------

SCHEDULERS = {
    "step": lambda m, opt: m.StepLR(opt, step_size=7, gamma=0.5),
    "step-1": lambda m, opt: m.StepLR(opt, step_size=1, gamma=0.9),
    "exponential": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
    "cosine": lambda m, opt: m.CosineAnnealingLR(opt, T_max=30),
    "cosine-past-T_max": lambda m, opt: m.CosineAnnealingLR(opt, T_max=8, eta_min=0.01),
    "cosine-eta_min-0": lambda m, opt: m.CosineAnnealingLR(opt, T_max=7),
}


def two_group_optimizers():
    w, b = tge.zeros(3, requires_grad=True), tge.zeros(1, requires_grad=True)
    tw, tb = torch.zeros(3, requires_grad=True), torch.zeros(1, requires_grad=True)
    ours = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.3}], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [tw]}, {"params": [tb], "lr": 0.3}], lr=0.1, momentum=0.9)
    return ours, theirs


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_lrs_equal_pytorch_over_30_epochs(name):
    opt, topt = two_group_optimizers()
    sched = SCHEDULERS[name](optim.lr_scheduler, opt)
    tsched = SCHEDULERS[name](torch.optim.lr_scheduler, topt)
    ours, theirs = [sched.get_last_lr()], [tsched.get_last_lr()]
    for _ in range(30):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        ours.append(sched.get_last_lr())
        theirs.append(tsched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == ours[-1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups]
    assert len({tuple(lr) for lr in ours}) > 3  # the schedule did move


# a metric with a fall, plateaus, small (sub-threshold) improvements and noise
METRIC = [1.0, 0.8, 0.7, 0.7, 0.69995, 0.7, 0.71, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.55, 0.5, 0.49999]
METRIC += [0.52, 0.6, 0.45, 0.45, 0.46, 0.45, 0.3, 0.3, 0.31, 0.32, 0.3, 0.3, 0.3, 0.29]

PLATEAU = [
    dict(patience=2),
    dict(patience=1, cooldown=2, factor=0.5),
    dict(patience=0, factor=0.5, min_lr=[0.02, 0.001]),
    dict(patience=1, threshold=0.05, threshold_mode="abs", min_lr=0.005),
    dict(patience=1, factor=0.9, eps=0.02),  # reductions smaller than eps are skipped
    dict(mode="max", patience=1, factor=0.5),
    dict(mode="max", patience=2, threshold=0.1, threshold_mode="abs"),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_on_plateau_equals_pytorch_on_a_scripted_metric(kwargs):
    opt, topt = two_group_optimizers()
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    ours, theirs = [], []
    for metric in METRIC:
        sched.step(metric)
        tsched.step(metric)
        ours.append(sched.get_last_lr())
        theirs.append(tsched.get_last_lr())
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == (
            tsched.best,
            tsched.num_bad_epochs,
            tsched.cooldown_counter,
        )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[-1] != ours[0]  # the script does trigger reductions

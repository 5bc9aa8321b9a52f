"""The Optimizer base: parameter groups, in-place updates, zero_grad, checkpoints and teaching errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.optim.problems import Quadratic, run_tge
from tinygrad_edu import optim

ALL = [
    ("sgd", lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1)),
    ("sgd-nesterov", lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
    ("adam", lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.1)),
    ("adam-amsgrad", lambda ps: optim.Adam(ps, lr=0.05, betas=(0.9, 0.5), amsgrad=True)),
    ("adamw", lambda ps: optim.AdamW(ps, lr=0.05)),
    ("rmsprop", lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True)),
    ("adagrad", lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1)),
]
MAKERS = [m for _, m in ALL]
IDS = [n for n, _ in ALL]


# ---- checkpoints ---------------------------------------------------------------------------------


def like_a_file(state_dict):
    """What a trip through a file may give back: numbers as 0-d arrays, tuples and lists as arrays, keys as str."""

    def convert(v):
        if isinstance(v, bool | int | float):
            return np.asarray(v)
        if isinstance(v, list | tuple):
            return np.asarray(v)
        return v

    state = {str(i): {k: convert(v) for k, v in s.items()} for i, s in state_dict["state"].items()}
    groups = [{k: convert(v) for k, v in g.items()} for g in state_dict["param_groups"]]
    return {"state": state, "param_groups": groups}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("through_a_file", [False, True])
@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_resume_from_state_dict_continues_bit_for_bit(make, through_a_file, dtype):
    problem = Quadratic(dtype, seed=5, steps=6)
    uninterrupted, _, _ = run_tge(make, problem)

    first, params, opt = run_tge(make, problem, steps=3)
    saved_params = [p.numpy().copy() for p in params]
    saved = opt.state_dict()
    if through_a_file:
        saved = like_a_file(saved)
    run_tge(None, problem, steps=2, params=params, opt=opt, start=3)  # the old run goes on; the save must not move

    fresh = [tge.tensor(a.copy(), requires_grad=True) for a in saved_params]
    resumed_opt = make(fresh)
    resumed_opt.load_state_dict(saved)
    resumed, _, _ = run_tge(None, problem, steps=3, params=fresh, opt=resumed_opt, start=3)
    for a, b in zip(first + resumed, uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_state_dict_layout_is_pytorchs():
    w, b = tge.randn(2, 3, requires_grad=True), tge.randn(3, requires_grad=True)
    extra = tge.randn(4, requires_grad=True)
    opt = optim.Adam([{"params": [w]}, {"params": [extra, b], "lr": 0.1}], lr=1e-3)
    for p in (w, b):
        p.grad = tge.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 2]  # `extra` had no gradient, so no state
    assert set(sd["state"][2]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][2]["step"] == 1 and isinstance(sd["state"][2]["exp_avg"], np.ndarray)
    assert sd["state"][2]["exp_avg"] is not opt.state[b]["exp_avg"]  # a copy


def test_load_state_dict_copies_and_casts_to_the_parameter():
    p = tge.zeros(3, dtype=tge.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    buffer = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    opt.load_state_dict({"state": {0: {"momentum_buffer": buffer}}, "param_groups": [{"lr": 0.5, "params": [0]}]})
    loaded = opt.state[p]["momentum_buffer"]
    assert loaded.dtype == np.float64 and loaded is not buffer
    buffer[:] = 0
    np.testing.assert_array_equal(loaded, [1.0, 2.0, 3.0])
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is p


def test_load_state_dict_errors_name_what_does_not_fit():
    w, b = tge.zeros(2, 3, requires_grad=True), tge.zeros(3, requires_grad=True)
    opt = optim.Adam([w, b])
    good = {"state": {}, "param_groups": [{"lr": 1e-3, "params": [0, 1]}]}
    opt.load_state_dict(good)
    with pytest.raises(ValueError, match="2 parameter group"):
        opt.load_state_dict({"state": {}, "param_groups": good["param_groups"] * 2})
    with pytest.raises(ValueError, match="saved with 1 parameters but has 2"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 1e-3, "params": [0]}]})
    bad = {**good, "state": {1: {"step": 1, "exp_avg": np.zeros(4), "exp_avg_sq": np.zeros(3)}}}
    with pytest.raises(ValueError, match=r"state\[1\]\['exp_avg'\] has shape \(4,\) but parameter 1 has shape \(3,\)"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="parameter 5"):
        opt.load_state_dict({"state": {5: {"step": 1}}, "param_groups": good["param_groups"]})


# ---- groups, in-place updates, skipping, zero_grad -----------------------------------------------


def test_param_groups_have_their_own_hyperparameters():
    w, b = tge.ones(3, requires_grad=True), tge.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9  # filled in from the defaults
    w.grad, b.grad = tge.ones(3), tge.ones(2)
    opt.step()
    np.testing.assert_allclose(w.numpy(), 0.9)
    np.testing.assert_allclose(b.numpy(), 0.5)

    head = tge.ones(4, requires_grad=True)
    opt.add_param_group({"params": [head], "lr": 1.0, "momentum": 0.0})
    head.grad = tge.ones(4)
    opt.step()
    np.testing.assert_allclose(head.numpy(), 0.0)
    assert "Parameter Group 2" in repr(opt) and "lr: 1.0" in repr(opt)


@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_update_is_in_place_and_skips_parameters_without_grad(make):
    w, frozen = tge.randn(2, 3, requires_grad=True), tge.randn(4, requires_grad=True)
    w_array, frozen_before = w.array, frozen.numpy().copy()
    opt = make([w, frozen])
    before = w.numpy().copy()
    w.grad = tge.randn(2, 3)
    for _ in range(2):
        opt.step()
    assert w.array is w_array  # a model holding w sees the new values
    assert not np.array_equal(w.numpy(), before)
    np.testing.assert_array_equal(frozen.numpy(), frozen_before)
    assert frozen not in opt.state or not opt.state[frozen]


def test_update_does_not_touch_the_gradient():
    w = tge.randn(5, requires_grad=True)
    g = tge.randn(5)
    g_before = g.numpy().copy()
    for make in MAKERS:
        opt = make([w])
        w.grad = g
        for _ in range(3):
            opt.step()
        np.testing.assert_array_equal(g.numpy(), g_before)


def test_momentum_buffer_is_not_the_gradient_array():
    """b = g at the first step must be a copy: zero_grad(set_to_none=False) would zero it otherwise."""
    w = tge.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tge.ones(3)
    opt.step()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(opt.state[w]["momentum_buffer"], 1.0)


def test_zero_grad():
    w = tge.randn(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad_array = w.grad.array
    opt.zero_grad(set_to_none=False)
    assert w.grad.array is grad_array
    np.testing.assert_array_equal(w.grad.numpy(), 0.0)
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad(set_to_none=False)  # nothing to zero: fine
    assert w.grad is None


def test_step_with_a_closure_returns_the_loss():
    w = tge.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tge.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert w.item() == pytest.approx(3.0 - 0.25 * 6.0)


def test_a_new_optimizer_is_one_update_method():
    """The example of the module docstring: subclass Optimizer, write update()."""

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

        def update(self, theta, g, state, group):
            state["step"] = state.get("step", 0) + 1
            theta -= group["lr"] * np.sign(g)

    w = tge.tensor([1.0, 1.0, 1.0], requires_grad=True)
    opt = SignSGD([w], lr=0.5)
    w.grad = tge.tensor([2.0, -1e-3, 0.0])
    opt.step()
    np.testing.assert_array_equal(w.numpy(), [0.5, 1.5, 1.0])
    assert opt.state_dict()["state"] == {0: {"step": 1}}


# ---- errors that teach ---------------------------------------------------------------------------


def test_errors_on_hyperparameters():
    w = tge.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1 .*maximize=True"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([{"params": [w], "lr": -1}])
    with pytest.raises(ValueError, match=r"Invalid beta parameter at index 1: 1.0 \(each β must lie in \[0, 1\)"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: -0.1"):
        optim.AdamW([w], betas=(-0.1, 0.999))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    messages = dict(eps="epsilon", weight_decay="weight_decay", momentum="momentum", alpha="alpha")
    for name, label in messages.items():
        with pytest.raises(ValueError, match=f"Invalid {label} value: -0.5"):
            optim.RMSprop([w], **{name: -0.5})
    for name in ("lr_decay", "initial_accumulator_value"):
        with pytest.raises(ValueError, match=f"Invalid {name} value: -1.0"):
            optim.Adagrad([w], **{name: -1.0})


def test_a_frozen_parameter_rides_along_unchanged_like_pytorch():
    w, frozen = tge.ones(3, requires_grad=True), tge.ones(2)
    opt = optim.SGD([w, frozen], lr=0.5)
    (w * 2).sum().backward()
    opt.step()
    assert w.tolist() == [0.0, 0.0, 0.0] and frozen.tolist() == [1.0, 1.0]


def test_errors_on_parameters():
    w = tge.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    used_up = iter([w])
    list(used_up)
    with pytest.raises(ValueError, match="used up"):
        optim.Adam(used_up)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray, not a Tensor"):
        optim.SGD([w, np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match=r"not a single Tensor: write \[w\]"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([w, w], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="'params' key"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="not a set"):
        opt.add_param_group({"params": {tge.randn(2, requires_grad=True)}})
    with pytest.raises(RuntimeError, match=r"assign a gradient of size '\[4\]' to a tensor of size '\[3\]'"):
        w.grad = tge.randn(4)  # refused where it is assigned, as in PyTorch
    with pytest.raises(TypeError, match="abstract"):
        optim.Optimizer([w], {"lr": 0.1})


@pytest.mark.gpu
@pytest.mark.parametrize("make", MAKERS, ids=IDS)
def test_cuda_parameters_follow_the_cpu_trajectory_and_resume(make):
    problem = Quadratic(np.float64, seed=2, steps=6)
    on_cpu, _, _ = run_tge(make, problem)
    params = problem.params(device="cuda")
    first, params, opt = run_tge(make, problem, steps=3, params=params)
    assert all(p.device == "cuda" for p in params)
    saved = opt.state_dict()
    assert all(isinstance(v, np.ndarray) for s in saved["state"].values() for k, v in s.items() if k != "step")
    resumed_opt = make(params)
    resumed_opt.load_state_dict(saved)
    assert all(
        v.__class__.__module__.startswith("cupy")
        for s in resumed_opt.state.values()
        for k, v in s.items()
        if k != "step"
    )
    rest, _, _ = run_tge(None, problem, steps=3, params=params, opt=resumed_opt, start=3)
    for a, b in zip(first + rest, on_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)

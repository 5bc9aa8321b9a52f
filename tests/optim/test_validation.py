"""Every optimizer refuses bad hyper-parameters at construction, and bad state dicts before loading."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tge
from tinygrad_edu import optim

ALL = {
    "SGD": dict(lr=0.1),
    "Adam": {},
    "AdamW": {},
    "RMSprop": {},
    "Adagrad": {},
    "Adadelta": {},
    "Adamax": {},
    "NAdam": {},
    "RAdam": {},
    "LBFGS": {},
}
WITH_BETAS = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]
WITH_EPS = ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"]
WITH_WEIGHT_DECAY = WITH_EPS + ["SGD"]


def make(name, **kwargs):
    return getattr(optim, name)([tge.zeros(3, requires_grad=True)], **{**ALL[name], **kwargs})


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("lr", [float("nan"), -0.1, float("inf"), -float("inf")])
def test_every_optimizer_refuses_a_bad_learning_rate(name, lr):
    with pytest.raises(ValueError, match=f"Invalid learning rate: {lr}"):
        make(name, lr=lr)
    with pytest.raises(ValueError, match="Invalid learning rate"):  # in a param group too
        getattr(optim, name)([{"params": [tge.zeros(2, requires_grad=True)], "lr": lr}], **ALL[name])


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("lr", ["0.1", None, [0.1], 1j])
def test_a_learning_rate_that_is_not_a_number_is_a_type_error(name, lr):
    with pytest.raises(TypeError, match="lr must be a real number"):
        make(name, lr=lr)


def test_a_one_element_tensor_lr_is_read_as_its_number():
    opt = make("Adam", lr=tge.tensor(0.01))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01) and isinstance(opt.param_groups[0]["lr"], float)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        make("Adam", lr=tge.tensor([0.1, 0.2]))


@pytest.mark.parametrize("name", WITH_BETAS)
def test_betas_are_checked_for_length_range_and_type(name):
    for bad, message in [
        ((0.9,), r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
        ((0.9, 0.99, 0.999), "betas must be a pair"),
        (0.9, "betas must be a pair"),
        ("ab", "betas must be a pair"),
        ((1.0, 0.999), "Invalid beta parameter at index 0: 1.0"),
        ((0.9, float("nan")), "Invalid beta parameter at index 1: nan"),
        ((0.9, -0.5), "Invalid beta parameter at index 1: -0.5"),
    ]:
        with pytest.raises(ValueError, match=message):
            make(name, betas=bad)
    with pytest.raises(TypeError, match=r"betas\[0\] must be a real number"):
        make(name, betas=("0.9", 0.999))
    assert make(name, betas=[0.8, 0.9]).param_groups[0]["betas"] == (0.8, 0.9)


@pytest.mark.parametrize("name", WITH_EPS)
def test_eps_and_weight_decay_must_be_at_least_zero(name):
    for value in (-1e-8, float("nan")):
        with pytest.raises(ValueError, match=f"Invalid epsilon value: {value}"):
            make(name, eps=value)
        with pytest.raises(ValueError, match=f"Invalid weight_decay value: {value}"):
            make(name, weight_decay=value)


def test_the_other_hyper_parameters_with_pytorchs_messages():
    cases = [
        ("SGD", dict(momentum=-0.9), "Invalid momentum value: -0.9"),
        ("SGD", dict(momentum=0.9, nesterov=True, dampening=0.5), "Nesterov momentum requires a momentum"),
        ("SGD", dict(dampening=float("nan")), "Invalid dampening value: nan"),
        ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
        ("RMSprop", dict(momentum=float("nan")), "Invalid momentum value: nan"),
        ("Adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
        ("Adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
        ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
        ("Adadelta", dict(rho=float("nan")), "Invalid rho value: nan"),
        ("NAdam", dict(momentum_decay=-0.004), "Invalid momentum_decay value: -0.004"),
        ("LBFGS", dict(tolerance_grad=-1.0), "Invalid tolerance_grad value: -1.0"),
        ("LBFGS", dict(tolerance_change=float("nan")), "Invalid tolerance_change value: nan"),
        ("LBFGS", dict(max_eval=0), "Invalid max_eval value: 0"),
    ]
    for name, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            make(name, **kwargs)


@pytest.mark.parametrize(
    ("name", "flag"),
    [("Adam", "amsgrad"), ("SGD", "nesterov"), ("RMSprop", "centered"), ("NAdam", "decoupled_weight_decay")]
    + [(name, "maximize") for name in ALL if name != "LBFGS"],
)
def test_flags_must_be_booleans(name, flag):
    with pytest.raises(TypeError, match=f"{flag} must be True or False, got 'yes'"):
        make(name, **{flag: "yes"})


def test_add_param_group_checks_its_overrides():
    opt = make("Adam")
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 2"):
        opt.add_param_group({"params": [tge.zeros(2, requires_grad=True)], "betas": (2, 0.9)})
    assert len(opt.param_groups) == 1


# ---- load_state_dict: everything checked first, nothing changed on error ------------------------


def trained_adam():
    w, b = tge.ones(2, 3, requires_grad=True), tge.ones(3, requires_grad=True)
    opt = optim.Adam([w, b], lr=0.1, amsgrad=True)
    for _ in range(2):
        w.grad, b.grad = tge.ones(2, 3), tge.ones(3)
        opt.step()
    return opt


def snapshot(opt):
    return opt.state_dict()


def assert_unchanged(opt, before):
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        for key, value in before["state"][i].items():
            np.testing.assert_array_equal(after["state"][i][key], value)


def test_a_state_without_step_or_with_wrong_shapes_is_refused_with_all_problems_listed():
    opt = trained_adam()
    before = snapshot(opt)
    bad = opt.state_dict()
    del bad["state"][0]["step"]
    bad["state"][1]["exp_avg"] = np.zeros(4)
    del bad["state"][1]["max_exp_avg_sq"]  # amsgrad=True needs it
    with pytest.raises(ValueError) as error:
        opt.load_state_dict(bad)
    message = str(error.value)
    assert "nothing was loaded" in message
    assert "state[0] has no 'step'" in message
    assert "state[1]['exp_avg'] has shape (4,) but parameter 1 has shape (3,)" in message
    assert "state[1] has no 'max_exp_avg_sq'" in message
    assert_unchanged(opt, before)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda sd: sd["state"][0].update(step=-1), r"state\[0\]\['step'\] is -1.0, not a whole number"),
        (lambda sd: sd["state"][0].update(step=2.5), "not a whole number"),
        (lambda sd: sd["state"][0].update(step="two"), "'two', not a number"),
        (lambda sd: sd["param_groups"][0].update(lr=float("nan")), r"param_groups\[0\]: Invalid learning rate: nan"),
        (lambda sd: sd["param_groups"][0].update(betas=(0.9,)), "betas must be a pair"),
        (lambda sd: sd["param_groups"][0].update(params=[0]), "saved with 1 parameters but has 2"),
        (lambda sd: sd["param_groups"][0].update(params=["a", "b"]), "not parameter numbers"),
        (lambda sd: sd["param_groups"][0].update(params=[0, 0]), "the same parameter number twice"),
        (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), "2 parameter group"),
        (lambda sd: sd["state"].update({7: {"step": 1}}), "an entry for parameter 7"),
        (lambda sd: sd["state"].update({0: [1, 2]}), r"state\[0\] is a list"),
        (lambda sd: sd.pop("state"), "'state' and 'param_groups'"),
        (lambda sd: sd.update(param_groups={}), "not a list of groups"),
    ],
)
def test_each_damage_gets_one_clear_error_and_changes_nothing(corrupt, message):
    opt = trained_adam()
    before = snapshot(opt)
    bad = opt.state_dict()
    corrupt(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    assert_unchanged(opt, before)


def test_missing_hyper_parameters_keep_their_values_and_0d_arrays_load():
    opt = trained_adam()
    saved = opt.state_dict()
    saved["param_groups"][0] = {"lr": np.array(0.5), "params": [0, 1]}
    saved["state"][0]["step"] = np.array(2.0)  # PyTorch keeps step as a float tensor
    opt.load_state_dict(saved)
    group = opt.param_groups[0]
    assert group["lr"] == 0.5 and group["betas"] == (0.9, 0.999) and group["amsgrad"] is True
    assert opt.state[group["params"][0]]["step"] == 2


@given(st.data())
def test_random_damage_either_loads_or_raises_without_changing_anything(data):
    """Replace one entry of a valid state dict by a random value: a clean load or a ValueError, never half."""
    opt = trained_adam()
    before = snapshot(opt)
    bad = opt.state_dict()
    where = data.draw(st.sampled_from(["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "lr", "betas", "eps"]))
    value = data.draw(
        st.one_of(
            st.floats(allow_nan=True),
            st.integers(-3, 3),
            st.none(),
            st.text(max_size=2),
            st.tuples(st.floats(-1, 2)),
            st.tuples(st.floats(-1, 2), st.floats(-1, 2)),
            st.builds(np.zeros, st.sampled_from([(3,), (2, 3), (1,), ()])),
        )
    )
    target = (
        bad["param_groups"][0] if where in ("lr", "betas", "eps") else bad["state"][data.draw(st.sampled_from([0, 1]))]
    )
    target[where] = value
    try:
        opt.load_state_dict(bad)
    except (ValueError, TypeError):
        assert_unchanged(opt, before)
    else:
        group = opt.param_groups[0]
        assert 0 <= group["lr"] < math.inf and len(group["betas"]) == 2 and group["eps"] >= 0
        for p in group["params"]:
            assert opt.state[p]["step"] >= 0

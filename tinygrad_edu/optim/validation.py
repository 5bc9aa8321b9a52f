"""Checking hyper-parameters and saved optimizer states before anything is changed.

Every optimizer checks every hyper-parameter of every param group when it is built (and when a
group is added or a state dict loaded), with PyTorch's messages ("Invalid learning rate: nan")
followed by a sentence on what the number means. NaN fails every range check (NaN ≥ 0 is
false), so ``lr=float("nan")`` is refused at once instead of turning the weights into NaN after
one step.

``check_state_dict`` reads a whole saved optimizer state and lists every problem it finds in one
error, so a damaged checkpoint never half-loads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor


def as_number(name: str, value: Any) -> float:
    """``value`` as a Python number, or a TypeError that names the hyper-parameter.

    A one-element Tensor or NumPy scalar is read as its number (PyTorch accepts a Tensor lr).
    """
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element (got shape {value.shape})")
        value = value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return value.item() if isinstance(value, np.generic) else value


def _at_least_zero(name: str, message: str, why: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not 0.0 <= as_number(name, value):  # also false for NaN
            raise ValueError(f"{message}: {value} ({why})")

    return check


def _learning_rate(value: Any) -> None:
    lr = as_number("lr", value)
    if not 0.0 <= lr < math.inf:
        raise ValueError(
            f"Invalid learning rate: {value} (lr is the size of the step down the gradient and must be a finite "
            "number ≥ 0; to climb a function instead, pass maximize=True)"
        )


def _betas(value: Any) -> None:
    if isinstance(value, str) or not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(
            f"betas must be a pair (beta1, beta2), got {value!r}: β1 decays the running mean of g, β2 that of g² "
            "(typical: betas=(0.9, 0.999))"
        )
    for i, beta in enumerate(value):
        if not 0.0 <= as_number(f"betas[{i}]", beta) < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {i}: {beta} (each β must lie in [0, 1): it is the decay of a "
                "running average m ← β·m + (1 − β)·g, and β = 1 never takes in a gradient)"
            )


def _rho(value: Any) -> None:
    if not 0.0 <= as_number("rho", value) <= 1.0:
        raise ValueError(f"Invalid rho value: {value} (ρ is the decay of Adadelta's running averages, in [0, 1])")


def _flag(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")

    return check


def _number(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not math.isfinite(as_number(name, value)):
            raise ValueError(f"Invalid {name} value: {value} (it must be a finite number)")

    return check


# Each hyper-parameter PyTorch's optimizers use, with PyTorch's message and what the number means.
RULES: dict[str, Callable[[Any], None]] = {
    "lr": _learning_rate,
    "betas": _betas,
    "rho": _rho,
    "eps": _at_least_zero("eps", "Invalid epsilon value", "ε keeps the division away from 0 and must be ≥ 0"),
    "weight_decay": _at_least_zero(
        "weight_decay", "Invalid weight_decay value", "λ scales the penalty ½λ‖θ‖² and must be ≥ 0"
    ),
    "momentum": _at_least_zero("momentum", "Invalid momentum value", "μ is the decay of the velocity, ≥ 0"),
    "alpha": _at_least_zero("alpha", "Invalid alpha value", "α is the decay of the running mean of g², ≥ 0"),
    "lr_decay": _at_least_zero("lr_decay", "Invalid lr_decay value", "it must be ≥ 0"),
    "initial_accumulator_value": _at_least_zero(
        "initial_accumulator_value", "Invalid initial_accumulator_value value", "the sum of g² starts there, ≥ 0"
    ),
    "momentum_decay": _at_least_zero(
        "momentum_decay", "Invalid momentum_decay value", "ψ sets how fast NAdam's μ_t warms up, ≥ 0"
    ),
    "tolerance_grad": _at_least_zero("tolerance_grad", "Invalid tolerance_grad value", "it must be ≥ 0"),
    "tolerance_change": _at_least_zero("tolerance_change", "Invalid tolerance_change value", "it must be ≥ 0"),
    "dampening": _number("dampening"),
    **{name: _flag(name) for name in ("amsgrad", "maximize", "nesterov", "centered", "decoupled_weight_decay")},
}


def check_group(group: dict[str, Any]) -> None:
    """Check every known hyper-parameter of one param group (raises ValueError/TypeError)."""
    for name, value in group.items():
        if name in RULES:
            RULES[name](value)


def positive_int(name: str, value: Any) -> int:
    """A whole number ≥ 1 (LBFGS's max_iter, history_size, ...), or the error that says so."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"Invalid {name} value: {value} (it must be a positive integer)")
    return int(value)


def _step_problem(value: Any) -> str | None:
    """Why a saved ``step`` is unusable, or None (a count: a whole number ≥ 0, maybe a 0-d array)."""
    if isinstance(value, Tensor):
        value = value.array
    try:
        step = float(np.asarray(value).item())
    except (TypeError, ValueError):
        return f"{value!r}, not a number"
    if not (math.isfinite(step) and step >= 0 and step == int(step)):
        return f"{step}, not a whole number of steps ≥ 0"
    return None


def state_problems(index: int, saved: Any, shape: tuple[int, ...], required: tuple[str, ...]) -> list[str]:
    """What is wrong with one saved per-parameter state (an empty list when it fits)."""
    if not isinstance(saved, dict):
        return [f"state[{index}] is a {type(saved).__name__}, not a dict of named entries"]
    if not saved:
        return []
    problems = [f"state[{index}] has no {name!r}" for name in required if saved.get(name) is None]
    for name, value in saved.items():
        if name == "step":
            problem = _step_problem(value)
            if problem:
                problems.append(f"state[{index}]['step'] is {problem}")
        elif hasattr(value, "shape") and tuple(value.shape) not in ((), shape):
            problems.append(
                f"state[{index}][{name!r}] has shape {tuple(value.shape)} but parameter {index} has shape {shape}"
            )
    return problems


def group_problems(i: int, saved: Any, n_params: int) -> list[str]:
    """What is wrong with one saved param group (its structure and its hyper-parameters)."""
    if not isinstance(saved, dict) or "params" not in saved:
        return [f"param_groups[{i}] is not a dict with a 'params' list"]
    ids = np.asarray(saved["params"]).reshape(-1)
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        return [f"param_groups[{i}]['params'] holds {ids.tolist()!r}, not parameter numbers"]
    n_saved = ids.size
    if n_saved != n_params:
        return [f"parameter group {i} was saved with {n_saved} parameters but has {n_params} here"]
    try:
        check_group({k: _plain(v) for k, v in saved.items() if k != "params"})
    except (TypeError, ValueError) as error:
        return [f"param_groups[{i}]: {error}"]
    return []


def _plain(value: Any) -> Any:
    """0-d and 1-d arrays (what a round trip through .npz may give) as Python numbers and lists."""
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value

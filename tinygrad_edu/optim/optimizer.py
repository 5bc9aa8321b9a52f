"""The `Optimizer` base class: parameter groups, per-parameter state, ``step()`` and ``zero_grad()``.

An optimizer owns lists of parameters ("param groups", each with its own hyper-parameters such
as ``lr``) and a ``state`` dict per parameter (momentum buffers, running averages). A training
step is::

    opt.zero_grad()          # forget last step's gradients
    loss.backward()          # fill p.grad for every parameter
    opt.step()               # θ ← update(θ, g) for every parameter that has a gradient

Each subclass writes its paper's update rule once, in ``update(theta, g, state, group)``, on
plain arrays (NumPy or CuPy). ``theta`` *is* the parameter's array and is changed in place
(``theta -= ...``), so a model that holds the parameter sees the new values. Your own optimizer
is just that::

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

        def update(self, theta, g, state, group):
            theta -= group["lr"] * np.sign(g)      # θ ← θ − lr·sign(g)

``state_dict()`` uses PyTorch's layout, so a checkpoint reads the same in both libraries::

    {"state": {0: {"step": 3, "exp_avg": array, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

Parameters are numbered in order across the groups; arrays are NumPy copies on the host.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import enable_grad, no_grad
from ..device import to_device
from ..tensor import Tensor
from .validation import check_group, group_problems, state_problems

Params = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer(ABC):
    """Base class of every optimizer: holds ``param_groups`` and ``state``; subclasses write ``update``.

    ``params`` is an iterable of Tensors (``model.parameters()``) or of dicts, one per group, each
    with ``"params"`` and any hyper-parameter that differs from ``defaults``::

        optim.SGD([{"params": model.body.parameters()},
                   {"params": model.head.parameters(), "lr": 1e-2}], lr=1e-3, momentum=0.9)
    """

    def __init__(self, params: Params, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__} expects an iterable of Tensors (e.g. model.parameters() or [w, b]), "
                "not a single Tensor: write [w] for one parameter."
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list: there is nothing to optimize. Did the model "
                "define no parameters, or was model.parameters() (a generator) already used up? Pass a list."
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- parameter groups ------------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones come from ``defaults``).

        Useful to train a new head, unfrozen later, with its own learning rate.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group is a dict with a 'params' key, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' key holding its Tensors")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("parameters must be given in a fixed order (a list), not a set: state_dict numbers them")
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list in a parameter group")
        for i, p in enumerate(params):
            _check_parameter(p, i)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(
                "the same parameter appears twice in the optimizer (in one group or in two); it would be updated "
                "twice per step. Give each parameter once."
            )
        group = {**self.defaults, **param_group, "params": params}
        self.check_hyperparameters(group)
        if isinstance(group["lr"], Tensor):  # a one-element Tensor lr (accepted, as in PyTorch) is kept as its number
            group["lr"] = group["lr"].item()
        self.param_groups.append(group)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise PyTorch's error for any hyper-parameter out of its range (subclasses add their own rules).

        Every name in `validation.RULES` that the group holds is checked: ``lr`` (a finite number
        ≥ 0, so NaN is refused), ``eps``, ``weight_decay``, ``momentum``, ... ≥ 0, ``betas`` a pair
        in [0, 1), flags True or False.
        """
        check_group(group)

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The names a saved per-parameter state must hold for this group (checked by ``load_state_dict``)."""
        return ()

    # ---- the training step -----------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next ``backward()`` (which would otherwise add to them).

        ``set_to_none=True`` (the default, as in PyTorch) sets ``p.grad = None``; ``False`` writes
        zeros into the existing gradient arrays in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (those with ``p.grad is None`` are skipped).

        ``closure``, if given, re-evaluates the model and returns the loss (it is called first,
        with gradients enabled); ``step`` returns that loss.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.shape != p.shape:
                        name = type(self).__name__
                        raise RuntimeError(f"{name}.step(): p.grad has shape {p.grad.shape} but p has shape {p.shape}")
                    self.update(p.array, p.grad.array, self.state[p], group)
        return loss

    @abstractmethod
    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """The update rule for one parameter: change ``theta`` (the parameter's array) in place.

        ``g`` is the gradient array (read it, do not change it: it is ``p.grad``), ``state`` this
        parameter's dict (empty at the first step), ``group`` its hyper-parameters.
        """

    # ---- checkpoints -----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, with parameters numbered 0, 1, ... across groups.

        ``{"state": {index: {name: array or number}}, "param_groups": [{hyper-parameters, "params": [indices]}]}``;
        arrays are NumPy copies, so the dict can be saved (``tge.save``) while training goes on.
        """
        index: dict[int, int] = {}
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            param_groups.append(packed)
        state = {
            index[id(p)]: {name: _to_host(value) for name, value in s.items()}
            for p, s in self.state.items()
            if s and id(p) in index
        }
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state`` and hyper-parameters saved by ``state_dict()`` (ours, or PyTorch's as NumPy).

        The optimizer must have been built over the same parameters, in the same groups and order.
        The whole saved structure is checked first (group count and sizes, hyper-parameters, every
        state entry's names and shapes, ``step``); any problem raises one ValueError that lists them
        all, and nothing is changed. Arrays are copied onto each parameter's device and dtype, so
        training resumes bit for bit. Hyper-parameters missing from a saved group keep their values.
        """
        problems = self._state_dict_problems(state_dict)
        if problems:
            raise ValueError(
                f"load_state_dict: the saved state does not fit this {type(self).__name__} (nothing was loaded):\n  - "
                + "\n  - ".join(problems)
            )
        param_of = self._saved_index_map(state_dict["param_groups"])
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            p = param_of[int(key)]
            state[p] = {
                name: self._restored(value, p, name) for name, value in saved_state.items() if value is not None
            }
        new_groups = []
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            new = {**group, **{k: _to_python(v, self.defaults.get(k)) for k, v in saved.items() if k != "params"}}
            new["params"] = group["params"]
            new_groups.append(new)
        self.state, self.param_groups = state, new_groups

    def _saved_index_map(self, saved_groups: list[dict[str, Any]]) -> dict[int, Tensor]:
        """Saved parameter number → this optimizer's parameter, group by group."""
        param_of: dict[int, Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups):
            saved_ids = [int(k) for k in np.asarray(saved["params"]).reshape(-1)]
            param_of.update(zip(saved_ids, group["params"]))
        return param_of

    def _state_dict_problems(self, state_dict: Any) -> list[str]:
        """Every reason ``state_dict`` cannot be loaded here (empty when it fits)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            return ["an optimizer state dict is a dict with 'state' and 'param_groups' (from optimizer.state_dict())"]
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list | tuple):
            return [f"'param_groups' is a {type(saved_groups).__name__}, not a list of groups"]
        if len(saved_groups) != len(self.param_groups):
            return [
                f"the saved state has {len(saved_groups)} parameter group(s) but this optimizer has "
                f"{len(self.param_groups)}; build the optimizer with the same groups as the saved one"
            ]
        problems = [
            problem
            for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups))
            for problem in group_problems(i, saved, len(group["params"]))
        ]
        if problems:
            return problems
        param_of = self._saved_index_map(saved_groups)
        if len(param_of) != sum(len(g["params"]) for g in self.param_groups):
            return ["the saved param groups list the same parameter number twice"]
        if not isinstance(saved_state, dict):
            return [f"'state' is a {type(saved_state).__name__}, not a dict of per-parameter states"]
        group_of = {
            id(p): {**group, **saved} for group, saved in zip(self.param_groups, saved_groups) for p in group["params"]
        }
        for key, saved in saved_state.items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                index = None
            if index not in param_of:
                problems.append(f"the saved state has an entry for parameter {key!r}, which no param group lists")
                continue
            p = param_of[index]
            problems += self._saved_state_problems(index, p, saved, group_of[id(p)])
        return problems

    def _saved_state_problems(self, index: int, p: Tensor, saved: Any, group: dict[str, Any]) -> list[str]:
        """What is wrong with one parameter's saved state (LBFGS, whose state is not per-parameter, overrides)."""
        return state_problems(index, saved, p.shape, self.required_state(group))

    def _restored(self, value: Any, p: Tensor, name: str) -> Any:
        """A checked saved state entry made ready for ``p``: arrays on its device and dtype, ``step`` an int."""
        return _to_parameter(value, p, name)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def _check_parameter(p: Any, i: int) -> None:
    """A parameter must be a leaf Tensor; say how to fix it otherwise.

    A tensor that does not require grad is accepted, as in PyTorch: it never gets a gradient, so
    step() skips it (that is how a frozen layer rides along in model.parameters()).
    """
    if not isinstance(p, Tensor):
        raise TypeError(
            f"parameter {i} is a {type(p).__name__}, not a Tensor: optimizers update Tensors made with "
            "requires_grad=True (e.g. tge.randn(3, requires_grad=True) or an nn.Module's parameters())."
        )
    if not p.is_leaf:
        raise ValueError(
            f"parameter {i} (shape {p.shape}) is the result of an operation, not a leaf tensor, so backward "
            "gives it no .grad. Make the parameter first, then compute with it: "
            "w = (tge.randn(3) * 0.1).requires_grad_()."
        )


def _to_host(value: Any) -> Any:
    """A NumPy copy of an array (from either device), list by list; numbers stay numbers."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.array(to_device(value, "cpu"), copy=True)
    if isinstance(value, list):
        return [_to_host(v) for v in value]
    return value


def _to_parameter(value: Any, p: Tensor, name: str) -> Any:
    """A saved state entry made ready for parameter ``p``: arrays on its device and dtype, ``step`` an int.

    A 0-d array (PyTorch keeps ``step`` and NAdam's ``mu_product`` as 0-d tensors) becomes a number.
    """
    if isinstance(value, Tensor):
        value = value.array
    if name == "step":
        return int(np.asarray(value).item())
    if not hasattr(value, "shape"):
        return value
    if tuple(value.shape) == ():
        return float(np.asarray(to_device(value, "cpu")).item())
    return to_device(np.asarray(value) if isinstance(value, np.generic) else value, p.device).astype(p.dtype, copy=True)


def _to_python(value: Any, default: Any) -> Any:
    """Hyper-parameters back as Python numbers and tuples (a save to .npz may return 0-d arrays or lists)."""
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(default, tuple) and isinstance(value, list | tuple):
        return tuple(value)
    return value

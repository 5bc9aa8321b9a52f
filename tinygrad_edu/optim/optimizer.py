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
        self.param_groups.append(group)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise a ValueError that explains a hyper-parameter out of its range (subclasses add their own)."""
        if group["lr"] < 0:
            raise ValueError(
                f"learning rate lr={group['lr']} is negative: lr is the size of the step down the gradient and must "
                "be ≥ 0 (to climb a function instead, pass maximize=True)."
            )
        for name in ("eps", "weight_decay", "momentum", "lr_decay", "initial_accumulator_value", "alpha"):
            if name in group and group[name] < 0:
                raise ValueError(f"{name}={group[name]} is negative: it must be ≥ 0.")
        if "betas" in group:
            for i, beta in enumerate(group["betas"]):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(
                        f"betas[{i}]={beta} is outside [0, 1): β is the decay of a running average "
                        "(m ← β·m + (1−β)·g); β = 1 never takes in a gradient. Typical: betas=(0.9, 0.999)."
                    )

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
        Arrays are copied onto each parameter's device and dtype, so training resumes bit for bit.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"load_state_dict: the saved state has {len(saved_groups)} parameter group(s) but this optimizer "
                f"has {len(self.param_groups)}; build the optimizer with the same groups as the saved one."
            )
        param_of: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_ids = [int(k) for k in np.asarray(saved["params"]).reshape(-1)]
            if len(saved_ids) != len(group["params"]):
                raise ValueError(
                    f"load_state_dict: parameter group {i} was saved with {len(saved_ids)} parameters but has "
                    f"{len(group['params'])} here; build the optimizer over the same model."
                )
            param_of.update(zip(saved_ids, group["params"]))

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            if int(key) not in param_of:
                raise ValueError(
                    f"load_state_dict: the saved state has an entry for parameter {key}, which no param group lists"
                )
            p = param_of[int(key)]
            state[p] = {name: _to_parameter(value, p, name, int(key)) for name, value in saved_state.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: _to_python(v, self.defaults.get(k)) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            new_groups.append(new)
        self.state, self.param_groups = state, new_groups

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
    """A NumPy copy of an array (from either device); numbers stay numbers."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.array(to_device(value, "cpu"), copy=True)
    return value


def _to_parameter(value: Any, p: Tensor, name: str, index: int) -> Any:
    """A saved state entry made ready for parameter ``p``: arrays on its device and dtype, ``step`` an int."""
    if isinstance(value, Tensor):
        value = value.array
    if name == "step":
        return int(np.asarray(value).item())
    if not hasattr(value, "shape"):
        return value
    if tuple(value.shape) != p.shape:
        raise ValueError(
            f"load_state_dict: state[{index}][{name!r}] has shape {tuple(value.shape)} but parameter {index} has "
            f"shape {p.shape}; was the state saved from a different model?"
        )
    return to_device(np.asarray(value) if isinstance(value, np.generic) else value, p.device).astype(p.dtype, copy=True)


def _to_python(value: Any, default: Any) -> Any:
    """Hyper-parameters back as Python numbers and tuples (a save to .npz may return 0-d arrays or lists)."""
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(default, tuple) and isinstance(value, list | tuple):
        return tuple(value)
    return value

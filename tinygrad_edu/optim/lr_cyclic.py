"""Schedules stepped every batch that cycle the lr (and the momentum the other way): CyclicLR and OneCycleLR."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

from .lr_base import LRScheduler, finite, per_group, positive_int
from .optimizer import Optimizer


def _set_momentum(optimizer: Optimizer, use_beta1: bool, group: dict[str, Any], momentum: float) -> None:
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _check_momentum_support(optimizer: Optimizer) -> bool:
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    return "betas" in optimizer.defaults  # Adam-like: β1 plays the momentum's part


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017): the lr goes up and down between base_lr and max_lr.

    Call ``step()`` after every batch. With c = step_size_up + step_size_down, r = step_size_up / c,
    at step t in cycle k = ⌊1 + t/c⌋ and x = 1 + t/c − k ∈ [0, 1)::

        h = x / r                    rising (x ≤ r)
        h = (x − 1) / (r − 1)        falling
        η = base_lr + (max_lr − base_lr) · h · scale

    with scale = 1 ("triangular"), 1/2^(k−1) ("triangular2": each cycle half as high), γ^t
    ("exp_range"), or your ``scale_fn`` of k (scale_mode "cycle") or of t ("iterations"). With
    ``cycle_momentum`` the momentum (β1 for Adam-like optimizers) moves the opposite way:
    μ = max_momentum − (max_momentum − base_momentum) · h · scale.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CyclicLR needs an optimizer (e.g. optim.SGD), got {type(optimizer).__name__}")
        base_lrs = [finite("base_lr", v) for v in per_group("base_lr", optimizer, base_lr)]
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = [finite("max_lr", v) for v in per_group("max_lr", optimizer, max_lr)]
        up = float(positive_int("step_size_up", step_size_up))
        down = float(positive_int("step_size_down", step_size_down)) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode={scale_mode!r}: use 'cycle' or 'iterations'")
        self.mode, self.gamma, self.scale_mode = mode, finite("gamma", gamma), scale_mode
        self._scale_fn_custom = scale_fn
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _check_momentum_support(optimizer)
            self.base_momentums = per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for top, bottom, group in zip(self.max_momentums, self.base_momentums, optimizer.param_groups):
                    _set_momentum(optimizer, self.use_beta1, group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is None and self.mode in ("triangular", "triangular2"):
            self.scale_mode = "cycle"
        elif self._scale_fn_custom is None:
            self.scale_mode = "iterations"

    def scale_fn(self, x: float) -> float:
        """The height of the cycle: 1, 1/2^(k−1), γ^t, or your scale_fn."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        """η (and μ) at step t, from the formulas in the class docstring."""
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        h = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        lrs = [base + (top - base) * h * scale for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for base, top, group in zip(self.base_momentums, self.max_momentums, self.optimizer.param_groups):
                _set_momentum(self.optimizer, self.use_beta1, group, top - (top - base) * h * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """The settings and counters; a custom scale_fn is kept only as its object's attributes."""
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; the scale function stays the one this scheduler was built with."""
        state = dict(state_dict)
        attributes = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if attributes is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(attributes)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018): one warm-up to max_lr, then a long anneal far below the start.

    Call ``step()`` after every batch, total_steps times in all (or epochs · steps_per_epoch). The
    lr starts at max_lr/div_factor, rises to max_lr over the first pct_start of the steps, then
    falls to (max_lr/div_factor)/final_div_factor; ``three_phase=True`` comes back down to the
    start symmetrically first and then anneals to the minimum. Within a phase from a to b, at
    fraction p of it::

        "cos":    η = b + (a − b)/2 · (1 + cos(π·p))
        "linear": η = a + (b − a)·p

    With ``cycle_momentum`` the momentum (β1 for Adam-like optimizers) moves the opposite way,
    between max_momentum (at the lowest lr) and base_momentum (at max_lr).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR needs an optimizer (e.g. optim.SGD), got {type(optimizer).__name__}")
        if total_steps is not None:
            self.total_steps = positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = positive_int("epochs", epochs) * positive_int("steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        n = self.total_steps
        # Each phase: (last step, lr from, lr to, momentum from, momentum to), as group keys.
        if three_phase:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * n) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=n - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]  # fmt: skip
        else:
            self._schedule_phases = [
                dict(end_step=float(pct_start * n) - 1, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=n - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]  # fmt: skip
        div_factor, final_div_factor = finite("div_factor", div_factor), finite("final_div_factor", final_div_factor)
        max_lrs = [finite("max_lr", v) for v in per_group("max_lr", optimizer, max_lr)]
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _check_momentum_support(optimizer)
            tops = per_group("max_momentum", optimizer, max_momentum)
            bottoms = per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for top, bottom, group in zip(tops, bottoms, optimizer.param_groups):
                    _set_momentum(optimizer, self.use_beta1, group, top)
                    group["max_momentum"], group["base_momentum"] = top, bottom
        super().__init__(optimizer, last_epoch)

    def _anneal(self, a: float, b: float, p: float) -> float:
        if self._anneal_func_type == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
        return (b - a) * p + a

    def get_lr(self) -> list[float]:
        """η (and μ) at step t: find its phase, then anneal within it."""
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"Tried to step {t} times. The specified number of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if t <= end or i == len(self._schedule_phases) - 1:
                    p = (t - start) / (end - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], p))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], p)
                        _set_momentum(self.optimizer, self.use_beta1, group, momentum)
                    break
                start = end
        return lrs

"""Learning-rate schedulers: change each param group's ``lr`` as training goes on, as PyTorch's do.

Call ``scheduler.step()`` once per epoch, after that epoch's ``optimizer.step()`` calls::

    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, opt)          # many opt.step()
        sched.step()                         # epoch t → t + 1: lr changes here
        print(sched.get_last_lr())

Building a scheduler records each group's starting lr as ``group["initial_lr"]`` (η_0) and sets
epoch t = 0. Like PyTorch's, StepLR, ExponentialLR and CosineAnnealingLR are *chainable*: each
``step()`` computes the new lr from the current ``group["lr"]`` (η_t from η_{t−1}), so two
schedulers on one optimizer compose, and an lr you change by hand is carried forward. The values
equal the closed forms in the docstrings. `ReduceLROnPlateau` instead watches a metric:
``sched.step(val_loss)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .lr_base import LRScheduler, _as_python, finite
from .lr_compose import ChainedScheduler, SequentialLR
from .lr_cyclic import CyclicLR, OneCycleLR
from .lr_schedules import ConstantLR, CosineAnnealingWarmRestarts, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR
from .optimizer import Optimizer

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


class StepLR(LRScheduler):
    """Multiply the lr by γ every ``step_size`` epochs.

    η_t = η_0 · γ^⌊t / step_size⌋, computed as: η_t = γ·η_{t−1} when t is a multiple of
    step_size, else η_t = η_{t−1}.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if isinstance(step_size, bool) or int(step_size) != step_size or step_size < 1:
            raise ValueError(f"step_size={step_size!r}: it is a number of epochs and must be a positive integer")
        self.step_size, self.gamma = int(step_size), finite("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return [eta_0 * self.gamma ** (self.last_epoch // self.step_size) for eta_0 in self.base_lrs]

    def get_lr(self) -> list[float]:
        """γ·η_{t−1} on multiples of step_size, else η_{t−1}."""
        t = self.last_epoch
        decay = t > 0 and t % self.step_size == 0
        return [group["lr"] * self.gamma if decay else group["lr"] for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the lr by γ every epoch: η_t = η_0 · γ^t, computed as η_t = γ·η_{t−1}."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = finite("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return [eta_0 * self.gamma**self.last_epoch for eta_0 in self.base_lrs]

    def get_lr(self) -> list[float]:
        """γ·η_{t−1} (η_0 at t = 0)."""
        if self.last_epoch == 0:
            return super().get_lr()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from η_0 down to η_min over T_max epochs (Loshchilov & Hutter, SGDR, without restarts).

        η_t = η_min + ½(η_0 − η_min)(1 + cos(π·t / T_max))

    After T_max epochs the cosine goes on (the lr climbs back to η_0 at 2·T_max), as in PyTorch;
    pick T_max = the number of epochs to end at η_min. Like PyTorch, each step computes η_t from
    η_{t−1} by the ratio of the closed form at t and t − 1::

        η_t − η_min = (η_{t−1} − η_min) · (1 + cos(π·t/T_max)) / (1 + cos(π·(t−1)/T_max))

    except at the bottom (t − 1 = T_max, 3·T_max, ...), where that ratio is 0/0 and the step adds
    the closed form's difference instead: η_t = η_{t−1} + ½(η_0 − η_min)(1 − cos(π/T_max)).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        if not finite("T_max", T_max) > 0:
            raise ValueError(f"T_max={T_max}: it is the number of epochs of the half cosine and must be positive")
        self.T_max, self.eta_min = T_max, finite("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (eta_0 - eta_min) * (1 + math.cos(math.pi * t / T)) / 2 for eta_0 in self.base_lrs]

    def get_lr(self) -> list[float]:
        """η_t from η_{t−1} (see the class docstring)."""
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if t == 0:
            return super().get_lr()
        if (t - 1 - T) % (2 * T) == 0:
            return [
                group["lr"] + (eta_0 - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for group, eta_0 in zip(groups, self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [eta_min + (group["lr"] - eta_min) * ratio for group in groups]


def _epoch_count(name: str, value: Any) -> int:
    """A number of epochs that may be 0 (patience, cooldown): a whole number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r} (it counts epochs: a whole number ≥ 0)")
    return int(value)


def _at_least_zero(name: str, value: Any) -> float:
    """A finite number ≥ 0 (min_lr, eps): a learning rate or a change of one cannot be negative."""
    number = finite(name, value)
    if number < 0:
        raise ValueError(f"Invalid {name} value: {value} (it is a learning rate or a change of one: ≥ 0)")
    return number


class ReduceLROnPlateau:
    """Divide the lr when a metric has stopped improving: ``sched.step(val_loss)`` once per epoch.

    Each epoch, the metric improves on the best so far if (mode "min", threshold_mode "rel")
    metric < best·(1 − threshold), or ("abs") metric < best − threshold; for mode "max", metric >
    best·(1 + threshold) or metric > best + threshold. After more than ``patience`` epochs in a row
    without improvement::

        η ← max(factor·η, min_lr)     (skipped when the change would be smaller than eps)

    then ``cooldown`` epochs pass, where bad epochs are not counted, before watching again.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau needs an optimizer (e.g. optim.SGD), got {type(optimizer).__name__}")
        if finite("factor", factor) >= 1.0:
            raise ValueError(f"factor={factor}: the lr is multiplied by factor, which must be < 1 to reduce it")
        patience, cooldown = _epoch_count("patience", patience), _epoch_count("cooldown", cooldown)
        threshold, eps = finite("threshold", threshold), _at_least_zero("eps", eps)
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != n:
                raise ValueError(f"min_lr has {len(min_lr)} values but the optimizer has {n} param groups")
            self.min_lrs = [_at_least_zero("min_lr", v) for v in min_lr]
        else:
            self.min_lrs = [_at_least_zero("min_lr", min_lr)] * n
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.eps = threshold_mode, cooldown, eps
        self._check_modes()
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _check_modes(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode={self.mode!r}: use 'min' (a loss) or 'max' (an accuracy)")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode={self.threshold_mode!r}: use 'rel' or 'abs'")

    def is_better(self, metric: float, best: float) -> bool:
        """Does ``metric`` improve on ``best`` by more than the threshold?"""
        if self.mode == "min":
            return metric < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return metric > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics: float) -> None:
        """Record this epoch's metric; reduce the lr after ``patience`` epochs without improvement."""
        metric = float(metrics)
        self.last_epoch += 1
        if self.is_better(metric, self.best):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        """True while bad epochs are being ignored after a reduction."""
        return self.cooldown_counter > 0

    def get_last_lr(self) -> list[float]:
        """The lr of each param group after the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (best, counters, settings), to save with a checkpoint."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``."""
        self.__dict__.update(_as_python(state_dict))
        self._check_modes()

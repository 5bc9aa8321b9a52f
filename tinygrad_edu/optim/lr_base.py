"""The base of every learning-rate scheduler (`LRScheduler`) and the checks their arguments share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .optimizer import Optimizer
from .validation import as_number


class LRScheduler:
    """Base class: keeps ``last_epoch`` (t), ``base_lrs`` (η_0 per group) and sets ``group["lr"]`` each step.

    A subclass writes ``get_lr()``: the lrs of epoch ``self.last_epoch``, usually from the current
    ``group["lr"]`` (chainable, as PyTorch's). Those with a closed form η_t = f(η_0, t) also write
    ``_get_closed_form_lr()``, used by ``step(epoch)`` and by `SequentialLR` at its milestones.

    ``last_epoch=-1`` starts a schedule (each group's lr is recorded as ``group["initial_lr"]``);
    ``last_epoch=k`` resumes one at epoch k + 1 from the optimizer's saved ``initial_lr``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs an optimizer (e.g. optim.SGD), got {type(optimizer).__name__}"
            )
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"last_epoch={last_epoch!r}: it is -1 (a new schedule) or the epoch to resume after")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with "
                        "last_epoch >= 0: load the optimizer's state dict first, or start with last_epoch=-1"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The first step (epoch 0, or last_epoch + 1 on a resume), flagged so get_lr can tell."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each group for epoch ``self.last_epoch``, from the current ``group["lr"]``."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (t ← t + 1) and write the new lr into every param group.

        ``step(epoch)`` (deprecated in PyTorch, kept for its programs) jumps to that epoch, using the
        closed form where the scheduler has one.
        """
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lr of each param group as set by the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (epoch, base lrs, settings), to save with a checkpoint."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (the optimizer's own state is loaded separately)."""
        self.__dict__.update(_as_python(state_dict))


def _as_python(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Numbers and lists back from 0-d and 1-d arrays (what a round trip through .npz may return)."""
    return {key: value.tolist() if hasattr(value, "tolist") else value for key, value in state_dict.items()}


def per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per param group: a list/tuple of that length, or one value for all (PyTorch's rule)."""
    n = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(f"expected {n} values for {name}, got {len(value)}")
        return list(value)
    return [value] * n


def finite(name: str, value: Any) -> float:
    """A finite real number, or the error that names it (NaN and ∞ are refused)."""
    number = as_number(name, value)
    if not math.isfinite(number):
        raise ValueError(f"Invalid {name} value: {value} (it must be a finite number)")
    return number


def positive_int(name: str, value: Any) -> int:
    """A whole number ≥ 1, or PyTorch's kind of message."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Expected positive integer {name}, but got {value!r}")
    return value


def epochs(name: str, values: Sequence[Any]) -> list[int]:
    """A list of epoch numbers (whole numbers ≥ 0), e.g. milestones."""
    out = list(values)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be epoch numbers (integers ≥ 0), got {values!r}")
    return out

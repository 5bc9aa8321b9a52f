"""Schedules set by a rule per epoch: milestones, your own function, linear warm-up, a constant factor, SGDR."""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from typing import Any

from .lr_base import LRScheduler, epochs, finite, positive_int
from .optimizer import Optimizer


class MultiStepLR(LRScheduler):
    """Multiply the lr by γ at each milestone epoch: η_t = η_0 · γ^(number of milestones ≤ t).

    A milestone listed twice multiplies by γ² there, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones = Counter(epochs("milestones", milestones))
        self.gamma = finite("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """γ^k·η_{t−1} at a milestone listed k times, else η_{t−1}."""
        k = self.milestones[self.last_epoch]
        return [group["lr"] * self.gamma**k if k else group["lr"] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [eta_0 * self.gamma ** bisect_right(milestones, self.last_epoch) for eta_0 in self.base_lrs]


def _lambdas(optimizer: Optimizer, lr_lambda: Any) -> list[Callable[[int], float]]:
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, list | tuple):
        if len(lr_lambda) != n:
            raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
        lambdas = list(lr_lambda)
    else:
        lambdas = [lr_lambda] * n
    for fn in lambdas:
        if not callable(fn):
            raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
    return lambdas


class _LambdaState:
    """state_dict without the functions (they cannot be saved), but with callable objects' attributes."""

    lr_lambdas: list[Callable[[int], float]]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and the functions; a callable object's ``__dict__`` is kept."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else dict(fn.__dict__) for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; the functions stay the ones this scheduler was built with."""
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        LRScheduler.load_state_dict(self, state)  # type: ignore[arg-type]
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaState, LRScheduler):
    """Your own schedule: η_t = η_0 · λ(t), with one function λ (or one per param group).

    ``LambdaLR(opt, lambda t: 0.95 ** t)`` is ExponentialLR; a warm-up is ``lambda t: min(1, (t + 1) / 5)``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η_0 · λ(t) per group."""
        return [eta_0 * fn(self.last_epoch) for fn, eta_0 in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """Multiply the lr by λ(t) each epoch: η_t = λ(t) · η_{t−1} (η_0 at the start)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """λ(t)·η_{t−1} per group; unchanged at the first step."""
        if self._is_initial:
            return super().get_lr()
        return [group["lr"] * fn(self.last_epoch) for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class LinearLR(LRScheduler):
    """Scale the lr by a factor that moves linearly from start_factor to end_factor over total_iters epochs.

        η_t = η_0 · (s + (e − s) · min(t, T) / T)      s = start_factor, e = end_factor, T = total_iters

    the usual warm-up (s = 1/3 → e = 1 over 5 epochs by default). Each step, as in PyTorch,
    multiplies η_{t−1} by the ratio of consecutive factors: 1 + (e − s) / (T·s + (t − 1)(e − s)).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < finite("start_factor", start_factor) <= 1.0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if not 0 <= finite("end_factor", end_factor) <= 1.0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = positive_int("total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """s·η at t = 0, then the ratio of consecutive factors until t = T, then unchanged."""
        s, e, T, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        groups = self.optimizer.param_groups
        if t == 0:
            return [group["lr"] * s for group in groups]
        if self._is_initial or t > T:
            return super().get_lr()
        return [group["lr"] * (1.0 + (e - s) / (T * s + (t - 1) * (e - s))) for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        s, e, T = self.start_factor, self.end_factor, self.total_iters
        return [eta_0 * (s + (e - s) * min(T, self.last_epoch) / T) for eta_0 in self.base_lrs]


class ConstantLR(LRScheduler):
    """Scale the lr by ``factor`` for the first total_iters epochs, then back to η_0.

    η_t = η_0 · factor for t < total_iters, η_0 after.
    """

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        if not 0 <= finite("factor", factor) <= 1.0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters < 0:
            raise ValueError(f"total_iters={total_iters!r}: it is a number of epochs, an integer ≥ 0")
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """factor·η at t = 0, η/factor at t = total_iters, else unchanged."""
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in groups]
        if self.last_epoch != self.total_iters:
            return super().get_lr()
        return [group["lr"] * (1.0 / self.factor) for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        after = self.last_epoch >= self.total_iters
        return [eta_0 * (self.factor + after * (1 - self.factor)) for eta_0 in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): cosine annealing that restarts at η_0, each period T_mult× longer.

        η = η_min + ½(η_0 − η_min)(1 + cos(π · T_cur / T_i))

    T_cur counts epochs since the last restart, T_i is the current period (T_0, then T_0·T_mult,
    ...). ``step()`` adds one epoch; ``step(epoch)`` accepts a fractional epoch (``epoch + i /
    iters_per_epoch`` to anneal within an epoch), finding the period it falls in:
    with T_mult > 1, n = ⌊log_{T_mult}(epoch/T_0 · (T_mult − 1) + 1)⌋ restarts have happened, and
    T_cur = epoch − T_0(T_mult^n − 1)/(T_mult − 1), T_i = T_0 · T_mult^n.
    """

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:  # noqa: N803
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, float | int):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, finite("eta_min", eta_min)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The closed form at (T_cur, T_i)."""
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (eta_0 - self.eta_min) * cosine / 2 for eta_0 in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """One epoch more (restarting when T_cur reaches T_i), or jump to ``epoch`` (may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if not finite("epoch", epoch) >= 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

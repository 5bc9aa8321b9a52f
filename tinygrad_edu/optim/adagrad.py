"""Adagrad (Duchi, Hazan & Singer, 2011): per-weight steps scaled by the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any

from ..device import xp_of
from .optimizer import Optimizer, Params


class Adagrad(Optimizer):
    """Adagrad, PyTorch's formulation.

    At step t = 1, 2, ... for each parameter θ and its gradient g::

        g ← g + λ·θ                           weight decay λ
        η = lr / (1 + (t − 1)·lr_decay)       an optional 1/t-like decay of the learning rate
        s ← s + g²                            sum of squared gradients (s starts at
                                              initial_accumulator_value)
        θ ← θ − η·g / (√s + ε)

    Weights whose gradients have been large take small steps, rare features take large ones. As s
    only grows, the steps shrink forever; RMSprop and Adam replace the sum by a running average.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step and the sum s of squared gradients, under PyTorch's names."""
        return ("step", "sum")

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adagrad step on one parameter, as the equations above."""
        xp = xp_of(theta)
        lr, eps, lam = group["lr"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(theta, group["initial_accumulator_value"])  # s
        if group["maximize"]:
            g = -g
        if lam != 0:
            g = g + lam * theta

        state["step"] = t = state["step"] + 1
        eta = lr / (1 + (t - 1) * group["lr_decay"])
        state["sum"] = s = state["sum"] + g**2
        theta -= eta * g / (xp.sqrt(s) + eps)

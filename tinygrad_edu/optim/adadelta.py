"""Adadelta (Zeiler, 2012): steps whose units match the weights', from two running averages."""

from __future__ import annotations

from typing import Any

from ..device import xp_of
from .optimizer import Optimizer, Params


class Adadelta(Optimizer):
    """Adadelta, PyTorch's formulation.

    With decay ρ, for each parameter θ and its gradient g at every step::

        g ← −g                              if maximize
        g ← g + λ·θ                         weight decay λ
        v ← ρ·v + (1 − ρ)·g²                running mean of g² (square_avg, starts at 0)
        Δ = √(u + ε) / √(v + ε) · g         the step: RMS of past steps over RMS of gradients
        u ← ρ·u + (1 − ρ)·Δ²                running mean of Δ² (acc_delta, starts at 0)
        θ ← θ − lr·Δ

    Zeiler's idea: in plain SGD the step lr·g has the units of g, not of θ; dividing by RMS(g) and
    multiplying by RMS(Δ) gives a step in θ's units, so lr = 1 (the default, as in the paper)
    works without tuning. ε starts the process (u = 0 at first) and keeps both roots away from 0.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step, v and u, under PyTorch's names."""
        return ("step", "square_avg", "acc_delta")

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adadelta step on one parameter, line for line the equations above."""
        xp = xp_of(theta)
        lr, rho, eps, lam = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(theta)  # v
            state["acc_delta"] = xp.zeros_like(theta)  # u
        if group["maximize"]:
            g = -g
        if lam != 0:
            g = g + lam * theta

        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]  # updated in place
        v *= rho
        v += (1 - rho) * g * g  # v ← ρ·v + (1 − ρ)·g²
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g  # Δ = √(u + ε)/√(v + ε)·g
        u *= rho
        u += (1 - rho) * delta * delta  # u ← ρ·u + (1 − ρ)·Δ²
        theta -= lr * delta

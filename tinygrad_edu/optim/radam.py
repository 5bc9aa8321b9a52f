"""RAdam (Liu et al., 2020): Adam with its adaptive step switched on only once v̂ is a reliable estimate."""

from __future__ import annotations

import math
from typing import Any

from ..device import xp_of
from .moments import as_betas, running_mean_, signed_decayed_gradient, start_state
from .optimizer import Optimizer, Params


class RAdam(Optimizer):
    """Rectified Adam, PyTorch's formulation.

    At step t = 1, 2, ... with β1, β2 = betas, for each parameter θ and its gradient g::

        g ← −g                                   if maximize
        θ ← θ − lr·λ·θ                           weight decay λ, if decoupled_weight_decay (as AdamW)
        g ← g + λ·θ                              weight decay λ otherwise
        m ← β1·m + (1 − β1)·g,   m̂ = m / (1 − β1^t)
        v ← β2·v + (1 − β2)·g²
        ρ∞ = 2/(1 − β2) − 1                      the length of the running mean's memory
        ρ_t = ρ∞ − 2t·β2^t / (1 − β2^t)          ... and how much of it step t has filled
        if ρ_t > 5:
            r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))     the rectification
            θ ← θ − lr·m̂·r_t·√(1 − β2^t) / (√v + ε)
        else:
            θ ← θ − lr·m̂                         SGD with momentum while v̂ is too noisy

    Why: in the first steps v̂ rests on a handful of gradients, so its variance, and with it the
    size of Adam's step, is huge (the reason Adam needs a warm-up). RAdam takes plain momentum
    steps until ρ_t > 5 (step 5 for β2 = 0.999), then scales Adam's step by r_t, which rises
    towards 1 as the variance of 1/√v̂ falls to its limit.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ) -> None:
        betas = as_betas(betas)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step, m and v, under PyTorch's names."""
        return ("step", "exp_avg", "exp_avg_sq")

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One RAdam step on one parameter, line for line the equations above."""
        xp = xp_of(theta)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        start_state(state, xp, theta, "exp_avg", "exp_avg_sq")  # m, v
        g = signed_decayed_gradient(theta, g, group, decoupled=group["decoupled_weight_decay"])

        state["step"] = t = state["step"] + 1
        m, v = state["exp_avg"], state["exp_avg_sq"]  # updated in place
        running_mean_(m, g, beta1)  # m ← β1·m + (1 − β1)·g
        running_mean_(v, g * g, beta2)  # v ← β2·v + (1 − β2)·g²
        bias_correction2 = 1 - beta2**t
        m_hat = m / (1 - beta1**t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
        if rho_t > 5.0:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            theta -= m_hat * lr * (math.sqrt(bias_correction2) / (xp.sqrt(v) + eps)) * r_t
        else:
            theta -= m_hat * lr

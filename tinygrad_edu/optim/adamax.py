"""Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm in place of the RMS."""

from __future__ import annotations

from typing import Any

from ..device import xp_of
from .moments import as_betas, running_mean_, signed_decayed_gradient, start_state
from .optimizer import Optimizer, Params


class Adamax(Optimizer):
    """Adamax, PyTorch's formulation.

    At step t = 1, 2, ... with β1, β2 = betas, for each parameter θ and its gradient g::

        g ← −g                          if maximize
        g ← g + λ·θ                     weight decay λ
        m ← β1·m + (1 − β1)·g           first moment, as in Adam (exp_avg)
        u ← max(β2·u, |g| + ε)          an exponentially weighted infinity norm (exp_inf)
        θ ← θ − lr/(1 − β1^t) · m/u

    Adam's v is a running mean of g² (an L2 norm of past gradients); letting the power p in a
    running mean of |g|^p grow to ∞ gives this max, which needs no bias correction (it starts at
    the first |g|, not at a shrunken average). Steps are bounded: |Δθ| ≤ lr/(1 − β1^t).
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ) -> None:
        betas = as_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step, m and u, under PyTorch's names."""
        return ("step", "exp_avg", "exp_inf")

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adamax step on one parameter, line for line the equations above."""
        xp = xp_of(theta)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        start_state(state, xp, theta, "exp_avg", "exp_inf")  # m, u
        g = signed_decayed_gradient(theta, g, group)  # −g if maximize; g + λ·θ

        state["step"] = t = state["step"] + 1
        m, u = state["exp_avg"], state["exp_inf"]  # updated in place
        running_mean_(m, g, beta1)  # m ← β1·m + (1 − β1)·g
        u *= beta2
        xp.maximum(u, xp.abs(g) + eps, out=u)  # u ← max(β2·u, |g| + ε)
        theta -= (lr / (1 - beta1**t)) * m / u

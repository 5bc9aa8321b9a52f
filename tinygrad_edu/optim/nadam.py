"""NAdam (Dozat, 2016): Adam with Nesterov momentum, and a momentum that warms up."""

from __future__ import annotations

from typing import Any

from ..device import xp_of
from .moments import as_betas, running_mean_, signed_decayed_gradient, start_state
from .optimizer import Optimizer, Params


class NAdam(Optimizer):
    """NAdam, PyTorch's formulation (with Dozat's momentum schedule μ_t).

    At step t = 1, 2, ... with β1, β2 = betas and momentum decay ψ, for each parameter θ and its
    gradient g::

        g ← −g                                   if maximize
        θ ← θ − lr·λ·θ                           weight decay λ, if decoupled_weight_decay (as AdamW)
        g ← g + λ·θ                              weight decay λ otherwise (L2, through the moments)
        μ_t = β1·(1 − ½·0.96^(t·ψ))              the momentum of step t (rises from ~β1/2 to β1)
        Π_t = μ_1·μ_2···μ_t                      its running product (mu_product)
        m ← β1·m + (1 − β1)·g                    first moment (exp_avg)
        v ← β2·v + (1 − β2)·g²                   second moment (exp_avg_sq)
        d = √(v / (1 − β2^t)) + ε
        θ ← θ − lr·(1 − μ_t)/(1 − Π_t) · g/d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d

    The Nesterov idea: Adam steps along m̂, the bias-corrected mean, which this step's gradient
    enters with weight (1 − β1); NAdam looks ahead, using the next step's momentum μ_{t+1} on m
    and the current gradient's own share (1 − μ_t) separately, each bias-corrected by the product
    of the momenta so far. ``mu_product`` is kept as a Python float (PyTorch keeps a 0-d tensor).
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ) -> None:
        betas = as_betas(betas)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step, Π_t, m and v, under PyTorch's names."""
        return ("step", "mu_product", "exp_avg", "exp_avg_sq")

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One NAdam step on one parameter, line for line the equations above."""
        xp = xp_of(theta)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        psi = group["momentum_decay"]
        start_state(state, xp, theta, "exp_avg", "exp_avg_sq", mu_product=1.0)  # m, v (and Π_0 = 1)
        g = signed_decayed_gradient(theta, g, group, decoupled=group["decoupled_weight_decay"])

        state["step"] = t = state["step"] + 1
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))  # μ_t
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))  # μ_{t+1}
        state["mu_product"] = mu_product = state["mu_product"] * mu  # Π_t
        m, v = state["exp_avg"], state["exp_avg_sq"]  # updated in place
        running_mean_(m, g, beta1)  # m ← β1·m + (1 − β1)·g
        running_mean_(v, g * g, beta2)  # v ← β2·v + (1 − β2)·g²
        d = xp.sqrt(v / (1 - beta2**t))
        d += eps
        theta += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / d
        theta += (-lr * mu_next / (1.0 - mu_product * mu_next)) * m / d

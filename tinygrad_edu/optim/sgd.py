"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, Params


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's formulation.

    With learning rate lr, momentum μ, dampening τ, weight decay λ, for each parameter θ and its
    gradient g at every step::

        g ← −g                       if maximize      (climb instead of descend)
        g ← g + λ·θ                  weight decay (an L2 penalty ½λ‖θ‖² added to the loss)
        b ← μ·b + (1 − τ)·g          momentum buffer; b = g at the first step
        g ← g + μ·b   if nesterov    look ahead along the momentum
        g ← b         otherwise
        θ ← θ − lr·g

    With μ = 0 this is plain gradient descent, θ ← θ − lr·g. The learning rate sits outside the
    buffer (b ← μ·b + g, θ ← θ − lr·b); Sutskever et al. (2013) put it inside (v ← μ·v − lr·g,
    θ ← θ + v). Both take the same steps while lr is constant; when a scheduler changes lr, here
    the new lr applies at once to the whole accumulated velocity. The Nesterov form g + μ·b is
    Sutskever's look-ahead rewritten in the same variables (it needs μ > 0 and τ = 0).
    """

    def __init__(
        self,
        params: Params,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Also: Nesterov momentum needs a momentum μ > 0 and no dampening (τ = 0), as in PyTorch."""
        super().check_hyperparameters(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening (got momentum={group['momentum']}, "
                f"dampening={group['dampening']}): Nesterov's look-ahead g + μ·b is defined for an undamped buffer."
            )

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """θ ← θ − lr·g, with g first turned into the (Nesterov) momentum direction."""
        lr, mu, tau, lam = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if lam != 0:
            g = g + lam * theta
        if mu != 0:
            if "momentum_buffer" not in state:
                b = state["momentum_buffer"] = g.copy()  # b = g at the first step (a copy: g may be p.grad)
            else:
                b = state["momentum_buffer"]  # updated in place: no new array per step
                b *= mu
                b += (1 - tau) * g  # b ← μ·b + (1 − τ)·g
            g = g + mu * b if group["nesterov"] else b
        theta -= lr * g

"""RMSprop (Hinton, Coursera lecture 6e, 2012): divide the gradient by a running RMS of its recent values."""

from __future__ import annotations

from typing import Any

from ..device import xp_of
from .optimizer import Optimizer, Params


class RMSprop(Optimizer):
    """RMSprop, PyTorch's formulation (ε outside the square root; optional centering and momentum).

    With smoothing constant α, for each parameter θ and its gradient g at every step::

        g ← g + λ·θ                          weight decay λ
        v ← α·v + (1 − α)·g²                 running mean of g² (v starts at 0, not bias-corrected)
        if centered:                         (Graves 2013) divide by an estimate of the std instead:
            ḡ ← α·ḡ + (1 − α)·g              running mean of g
            v' = max(v − ḡ², 0)
        else:
            v' = v
        d = g / (√v' + ε)
        if momentum μ > 0:
            b ← μ·b + d                      (b starts at 0)
            θ ← θ − lr·b
        else:
            θ ← θ − lr·d

    Each weight's step is scaled by 1/RMS(g): weights with large, noisy gradients take small
    steps, rarely-moving ones larger steps. Adam is RMSprop plus momentum on g plus bias correction.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step and v (and b with momentum, ḡ when centered), under PyTorch's names."""
        names = ("step", "square_avg")
        return (
            names
            + (("momentum_buffer",) if group["momentum"] > 0 else ())
            + (("grad_avg",) if group["centered"] else ())
        )

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One RMSprop step on one parameter, as the equations above."""
        xp = xp_of(theta)
        lr, alpha, eps, lam, mu = group["lr"], group["alpha"], group["eps"], group["weight_decay"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(theta)  # v
            if mu > 0:
                state["momentum_buffer"] = xp.zeros_like(theta)  # b
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(theta)  # ḡ
        if group["maximize"]:
            g = -g
        if lam != 0:
            g = g + lam * theta

        state["step"] += 1
        state["square_avg"] = v = alpha * state["square_avg"] + (1 - alpha) * g**2
        if group["centered"]:
            state["grad_avg"] = g_avg = alpha * state["grad_avg"] + (1 - alpha) * g
            v = xp.maximum(v - g_avg**2, 0)  # ≥ 0 exactly; the max only guards rounding (PyTorch gives NaN there)
        d = g / (xp.sqrt(v) + eps)
        if mu > 0:
            state["momentum_buffer"] = b = mu * state["momentum_buffer"] + d
            theta -= lr * b
        else:
            theta -= lr * d

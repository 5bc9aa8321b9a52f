"""The pieces the Adam family shares, written once: gradient sign and weight decay, running means, fresh state.

Adam, AdamW, Adamax, NAdam and RAdam differ in how they turn the running moments into a step; they agree on
how a step starts (``maximize``, then weight decay, coupled or decoupled) and on how a moment is kept.
"""

from __future__ import annotations

from typing import Any


def signed_decayed_gradient(theta: Any, g: Any, group: dict[str, Any], decoupled: bool = False) -> Any:
    """The gradient a step uses, with the weight decay λ = ``group["weight_decay"]``::

        g ← −g                      if maximize (climb instead of descend)
        θ ← θ·(1 − lr·λ)            decoupled (AdamW's way: every weight shrinks by the same factor)
        g ← g + λ·θ                 coupled (L2: the decay goes through the moments)

    ``θ`` is changed in place in the decoupled case; the returned g is a new array when it differs.
    """
    if group["maximize"]:
        g = -g
    lam = group["weight_decay"]
    if lam != 0:
        if decoupled:
            theta *= 1 - group["lr"] * lam
        else:
            g = g + lam * theta
    return g


def running_mean_(m: Any, x: Any, beta: float) -> Any:
    """m ← β·m + (1 − β)·x, in place (an exponential moving average; no new array per step)."""
    m *= beta
    m += (1 - beta) * x
    return m


def start_state(state: dict[str, Any], xp: Any, theta: Any, *moments: str, **scalars: Any) -> None:
    """On a parameter's first step: ``step = 0``, each named moment zeros like θ, and the given scalars."""
    if not state:
        state["step"] = 0
        state.update(scalars)
        for name in moments:
            state[name] = xp.zeros_like(theta)


def as_betas(betas: Any) -> Any:
    """(β1, β2) as a tuple (a list, as in a JSON config, is accepted); validation.py checks the values."""
    return tuple(betas) if isinstance(betas, list) else betas

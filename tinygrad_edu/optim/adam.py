"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019): adaptive steps from running moments."""

from __future__ import annotations

import math
from typing import Any

from .. import kernels
from ..device import xp_of
from .moments import as_betas, running_mean_, signed_decayed_gradient, start_state
from .optimizer import Optimizer, Params


class Adam(Optimizer):
    """Adam: each weight gets its own step size from running averages of its gradient and squared gradient.

    At step t = 1, 2, ... with β1, β2 = betas, for each parameter θ and its gradient g::

        g ← g + λ·θ                        weight decay λ (L2, coupled: it goes through the moments)
        m ← β1·m + (1 − β1)·g              first moment: a running mean of g
        v ← β2·v + (1 − β2)·g²             second moment: a running mean of g²
        m̂ = m / (1 − β1^t)                 bias corrections (m and v start at 0)
        v̂ = v / (1 − β2^t)
        θ ← θ − lr·m̂ / (√v̂ + ε)

    With ``amsgrad=True`` (Reddi et al. 2018) the denominator never shrinks: v_max ← max(v_max, v)
    and v̂ = v_max / (1 − β2^t), as PyTorch does it. ``maximize=True`` uses −g.

    Why the bias correction matters: m and v start at 0, so after the first step m = (1 − β1)·g,
    ten times too small with β1 = 0.9, and v = (1 − β2)·g², a thousand times too small. The
    weights of an exponential average after t steps sum to 1 − β^t, and dividing by it undoes
    exactly that shrinkage. The "Adam without bias correction" found in some code is wrong: its
    m alone is ~(1 − β1) too small at first, and its step m/√v = (1 − β1^t)/√(1 − β2^t)·sign(g)
    for a steady gradient is 3.2× too large at step 1 and ~6.5× around step 10, only settling
    after thousands of steps. With the correction, the first step is m̂/√v̂ = g/|g|: every weight
    moves by about lr·sign(g), whatever the gradient's scale (to within ε). That is why Adam's lr
    is a step size in weight space (1e-3 is a good default), not a multiple of the gradient.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=as_betas(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """step, m and v (and v_max with amsgrad), under PyTorch's names."""
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adam step on one parameter, line for line the equations above."""
        xp = xp_of(theta)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        moments = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        start_state(state, xp, theta, *moments)  # m, v (and v_max), all zeros at first
        state["step"] = t = state["step"] + 1
        m, v = state["exp_avg"], state["exp_avg_sq"]  # updated in place: no new arrays per step
        fused = getattr(kernels.current(), "adam_update", None)  # the same lines in one pass (numba)
        if fused is not None and fused(theta, g, m, v, t, group):
            return
        g = signed_decayed_gradient(theta, g, group)  # −g if maximize; g + λ·θ
        running_mean_(m, g, beta1)  # m ← β1·m + (1 − β1)·g
        running_mean_(v, g * g, beta2)  # v ← β2·v + (1 − β2)·g²
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # θ ← θ − lr·m̂/(√v̂ + ε) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t); PyTorch's order of operations:
        denominator = xp.sqrt(v)
        denominator /= math.sqrt(1 - beta2**t)  # √v̂
        denominator += eps
        theta -= (lr / (1 - beta1**t)) * m / denominator


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization").

    First the weights shrink directly, then `Adam` takes its step with no weight decay inside::

        θ ← θ − lr·λ·θ
        (the Adam step, λ = 0)

    In Adam, the L2 term λ·θ joins g and is then divided by √v̂, so weights with large gradients
    are barely decayed. AdamW decays every weight by the same factor (1 − lr·λ), which is what
    "weight decay" means and which regularizes better. The default λ is 1e-2, as in PyTorch.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """θ ← θ − lr·λ·θ, then the Adam step without weight decay."""
        theta -= group["lr"] * group["weight_decay"] * theta
        super().update(theta, g, state, {**group, "weight_decay": 0.0})

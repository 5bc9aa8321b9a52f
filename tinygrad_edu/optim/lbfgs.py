"""L-BFGS (Liu & Nocedal, 1989): a quasi-Newton method that models the curvature from its last few steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import enable_grad, no_grad
from ..device import to_device, xp_of
from ..tensor import Tensor
from .line_search import strong_wolfe
from .optimizer import Optimizer, Params
from .validation import positive_int


class LBFGS(Optimizer):
    """L-BFGS, PyTorch's formulation: ``opt.step(closure)`` runs up to ``max_iter`` iterations.

    All parameters are treated as one flat vector θ with gradient g. Iteration k keeps the last
    ``history_size`` pairs s_i = θ_{i+1} − θ_i, y_i = g_{i+1} − g_i (only those with yᵀs > 1e-10,
    so the model stays positive definite) and builds the direction d = −H·g, H ≈ (∇²f)⁻¹, with
    the two-loop recursion::

        q ← −g
        for i = newest … oldest:   a_i = ρ_i·s_iᵀq,   q ← q − a_i·y_i        (ρ_i = 1/(y_iᵀs_i))
        r ← γ·q                    γ = yᵀs / yᵀy of the newest pair (the first step: γ = 1)
        for i = oldest … newest:   b_i = ρ_i·y_iᵀr,   r ← r + (a_i − b_i)·s_i
        d = r

    then steps θ ← θ + t·d, with t = lr (the very first iteration: t = lr·min(1, 1/‖g‖₁)), or
    with ``line_search_fn="strong_wolfe"`` the t found by a line search that satisfies the strong
    Wolfe conditions (`line_search.strong_wolfe`). One ``step`` stops early when ‖g‖∞ ≤
    tolerance_grad, when the step or the loss change falls below tolerance_change, when dᵀg ≥
    −tolerance_change (not a descent direction), or after ``max_eval`` evaluations of the closure.

    The closure re-evaluates the model and returns the loss, since L-BFGS needs many evaluations
    per step::

        def closure():
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)

    Only one parameter group is allowed (H mixes all parameters). The state (history, direction,
    counters) is kept under the first parameter, in PyTorch's names and layout.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        max_iter = positive_int("max_iter", max_iter)
        max_eval = max_iter * 5 // 4 if max_eval is None else positive_int("max_eval", max_eval)
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=positive_int("history_size", history_size),
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                "LBFGS doesn't support per-parameter options (parameter groups): its curvature model couples "
                "all parameters, so give them as one list"
            )

    def check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Also: line_search_fn is None or "strong_wolfe"; the counts are positive integers."""
        super().check_hyperparameters(group)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"only 'strong_wolfe' is supported as line_search_fn (or None), got {group['line_search_fn']!r}"
            )
        for name in ("max_iter", "max_eval", "history_size"):
            positive_int(name, group[name])

    def update(self, theta: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Not used: L-BFGS moves all parameters together in `step`, so it has no per-parameter rule."""
        raise TypeError("LBFGS updates all parameters at once: call opt.step(closure)")

    # ---- θ and g as one flat vector ----------------------------------------------------------------

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def _flat_grad(self) -> Any:
        """g: every parameter's gradient, flattened and concatenated (zeros where there is none)."""
        xp = xp_of(self._params[0].array)
        return xp.concatenate(
            [xp.zeros(p.numel(), p.dtype) if p.grad is None else p.grad.array.reshape(-1) for p in self._params]
        )

    def _add_to_params(self, t: Any, d: Any) -> None:
        """θ ← θ + t·d, in place, parameter by parameter."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.array += t * d[offset : offset + n].reshape(p.shape)
            offset += n

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        with enable_grad():
            loss = closure()
        return float(loss.item() if isinstance(loss, Tensor) else loss)

    def _evaluate_at(self, closure: Callable[[], Any], x: list[Any], t: Any, d: Any) -> tuple[float, Any]:
        """f and g at θ + t·d, then θ put back to x (what the line search asks for)."""
        self._add_to_params(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.array[...] = saved
        return loss, flat_grad

    # ---- one step: up to max_iter iterations --------------------------------------------------------

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # noqa: C901 (the algorithm, in order)
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` is required. Returns the first loss."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss = float(first_loss.item() if isinstance(first_loss, Tensor) else first_loss)
        evals = 1
        state["func_evals"] += 1
        with no_grad():
            flat_grad = self._flat_grad()
            xp = xp_of(flat_grad)
            if xp.abs(flat_grad).max() <= tolerance_grad:  # already at a stationary point
                return first_loss
            d, t = state.get("d"), state.get("t")
            old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
            H_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")  # noqa: N806 (PyTorch's name)
            prev_loss = state.get("prev_loss")

            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_stps, ro, H_diag = [], [], [], 1
                else:
                    y = flat_grad - prev_flat_grad  # y = g_new − g_old
                    s = d * t  # s = θ_new − θ_old
                    ys = y.dot(s)
                    if ys > 1e-10:  # keep the pair only if it has positive curvature
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_stps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        ro.append(1.0 / ys)
                        H_diag = ys / y.dot(y)  # noqa: N806 (γ)
                    d = _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, state, history_size)

                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
                gtd = flat_grad.dot(d)  # directional derivative gᵀd
                if gtd > -tolerance_change:
                    break

                if group["line_search_fn"] == "strong_wolfe":
                    x_init = [p.array.copy() for p in self._params]
                    loss, flat_grad, t, ls_evals = strong_wolfe(
                        lambda x, t, d: self._evaluate_at(closure, x, t, d),
                        x_init,
                        t,
                        d,
                        loss,
                        flat_grad,
                        gtd,
                        max_ls=max_eval - evals,
                    )
                    self._add_to_params(t, d)
                    optimal = xp.abs(flat_grad).max() <= tolerance_grad
                else:
                    self._add_to_params(t, d)
                    ls_evals, optimal = 0, False
                    if n_iter != max_iter:  # no evaluation after the last iteration: the next step does it
                        loss = self._evaluate(closure)
                        flat_grad = self._flat_grad()
                        optimal = xp.abs(flat_grad).max() <= tolerance_grad
                        ls_evals = 1
                evals += ls_evals
                state["func_evals"] += ls_evals

                if n_iter == max_iter or evals >= max_eval or optimal:
                    break
                if xp.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                    break  # no progress in θ or in the loss

        state.update(
            d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag, prev_flat_grad=prev_flat_grad
        )
        state["prev_loss"] = prev_loss
        return first_loss

    # ---- checkpoints: one state, of flat vectors -------------------------------------------------------

    def _saved_state_problems(self, index: int, p: Tensor, saved: Any, group: dict[str, Any]) -> list[str]:
        """The state lives under parameter 0; its vectors have the total size of all parameters."""
        if index != 0:
            return [f"LBFGS keeps its state under parameter 0, but the saved state has an entry for {index}"]
        if not isinstance(saved, dict):
            return [f"state[0] is a {type(saved).__name__}, not a dict"]
        if saved and not {"func_evals", "n_iter"} <= saved.keys():
            return ["state[0] has no 'func_evals' and 'n_iter' counters"]
        n = sum(q.numel() for q in self._params)
        problems = []
        for name, value in saved.items():
            for v in value if isinstance(value, list) else [value]:
                if hasattr(v, "shape") and tuple(v.shape) not in ((), (n,)):
                    problems.append(f"state[0][{name!r}] holds shape {tuple(v.shape)}, not ({n},) (all parameters)")
                    break
        return problems

    def _restored(self, value: Any, p: Tensor, name: str) -> Any:
        """Flat vectors onto the parameters' device and dtype; 0-d arrays as scalars of that dtype."""
        if isinstance(value, list):
            return [self._restored(v, p, name) for v in value]
        if isinstance(value, Tensor):
            value = value.array
        if name in ("func_evals", "n_iter"):
            return int(np.asarray(value).item())
        if not hasattr(value, "shape"):
            return value
        if tuple(value.shape) == ():
            return np.asarray(to_device(value, "cpu"), dtype=p.dtype)[()]
        return to_device(np.asarray(value), p.device).astype(p.dtype, copy=True)


def _two_loop(flat_grad: Any, old_dirs: list, old_stps: list, ro: list, H_diag: Any, state: dict, m: int) -> Any:  # noqa: N803
    """d = −H·g by the two-loop recursion over the stored (s, y) pairs (see `LBFGS`)."""
    if "al" not in state:
        state["al"] = [None] * m
    al = state["al"]
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):  # newest to oldest
        al[i] = old_stps[i].dot(q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = q * H_diag
    for i in range(len(old_dirs)):  # oldest to newest
        be_i = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return r

"""The strong-Wolfe line search that `LBFGS` uses with ``line_search_fn="strong_wolfe"``.

Along a descent direction d from θ, with φ(t) = f(θ + t·d) and φ'(t) = g(θ + t·d)ᵀd, find a step
t with (Nocedal & Wright, "Numerical Optimization", algorithms 3.5 and 3.6)::

    φ(t) ≤ φ(0) + c1·t·φ'(0)          sufficient decrease (Armijo), c1 = 1e-4
    |φ'(t)| ≤ −c2·φ'(0)               the slope has flattened (strong curvature), c2 = 0.9

First *bracket*: try t, and while neither condition fails nor the slope turns positive, grow t
(up to ×10) to the minimizer of the cubic through the last two points. Then *zoom*: shrink the
bracket [lo, hi] by cubic interpolation until a point satisfies both conditions, the bracket is
shorter than tolerance_change (relative to ‖d‖∞), or ``max_ls`` evaluations are used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def cubic_minimizer(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple | None = None) -> Any:
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to ``bounds``.

    With d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2) and d2 = √(d1² − g1·g2), for x1 ≤ x2::

        x* = x2 − (x2 − x1)·(g2 + d2 − d1) / (g2 − g1 + 2·d2)

    (and the mirror image for x1 > x2). Without a real d2 (no minimum) it is the middle of the bounds.
    """
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(x, lo), hi)
    return (lo + hi) / 2.0


def strong_wolfe(
    evaluate: Callable[[Any, Any, Any], tuple[float, Any]],
    x: Any,
    t: Any,
    d: Any,
    f: float,
    g: Any,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Any, Any, int]:
    """A step t along d satisfying the strong Wolfe conditions: returns (f, g, t, evaluations).

    ``evaluate(x, t, d)`` gives (f, g) at x + t·d (and leaves the parameters at x); f, g, gtd are
    φ(0), the gradient and φ'(0) = gᵀd at x.
    """
    d_norm = abs(d).max()
    f_new, g_new = evaluate(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done, ls_iter = False, 0

    # Bracketing: grow t until [t_prev, t] holds a point that satisfies both conditions.
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):  # too far: no sufficient decrease
            bracket, bracket_f, bracket_g, bracket_gtd = (
                [t_prev, t],
                [f_prev, f_new],
                [g_prev, g_new],
                [gtd_prev, gtd_new],
            )
            break
        if abs(gtd_new) <= -c2 * gtd:  # both conditions hold
            bracket, bracket_f, bracket_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:  # the slope turned: a minimum lies behind
            bracket, bracket_f, bracket_g, bracket_gtd = (
                [t_prev, t],
                [f_prev, f_new],
                [g_prev, g_new],
                [gtd_prev, gtd_new],
            )
            break
        t_next = cubic_minimizer(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations while still growing
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # Zoom: shrink the bracket [lo, hi] (lo has the lower f) around a point that satisfies both.
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_minimizer(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # Keep t at least 10% of the bracket away from its ends (or the bracket shrinks too slowly).
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:  # t becomes the new high end
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:  # the old low end becomes the high end
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals

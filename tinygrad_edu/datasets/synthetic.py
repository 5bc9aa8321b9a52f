"""Generated 2-D toy data sets: a linear model cannot separate them, a small MLP can.

    X, y = make_spiral(n=100, classes=3)   # X: (300, 2) float32, y: (300,) int64
    X, y = make_moons(n=200, noise=0.1)    # X: (200, 2) float32, y: (200,) int64

Each call draws from its own ``default_rng(seed)``, so the same seed gives the same points.
"""

from __future__ import annotations

import numpy as np


def make_spiral(n: int = 100, classes: int = 3, seed: int = 0, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """The CS231n spiral: ``classes`` arms of ``n`` points each, (n·classes, 2) points and their labels.

    Arm j: radius r from 0 to 1, angle t from 4j to 4(j+1) radians plus N(0, noise²) jitter;
    the point is (r·sin t, r·cos t). Labels are int64 in 0..classes−1, grouped by arm.
    """
    if n < 1 or classes < 1:
        raise ValueError(f"make_spiral: n and classes must be positive, got n={n}, classes={classes}")
    rng = np.random.default_rng(seed)
    X = np.zeros((n * classes, 2), dtype=np.float32)
    y = np.zeros(n * classes, dtype=np.int64)
    for j in range(classes):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), n) + noise * rng.standard_normal(n)
        X[j * n : (j + 1) * n] = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        y[j * n : (j + 1) * n] = j
    return X, y


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's make_moons), shuffled: (n, 2) points and labels.

    Class 0: (cos θ, sin θ); class 1: (1 − cos θ, 0.5 − sin θ), θ evenly spaced in [0, π];
    then N(0, noise²) is added to every coordinate. Class 0 gets n // 2 points, class 1 the rest.
    """
    if n < 2:
        raise ValueError(f"make_moons: n must be at least 2 (one point per moon), got {n}")
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    theta_outer = np.linspace(0.0, np.pi, n_outer)
    theta_inner = np.linspace(0.0, np.pi, n_inner)
    outer = np.stack([np.cos(theta_outer), np.sin(theta_outer)], axis=1)
    inner = np.stack([1.0 - np.cos(theta_inner), 0.5 - np.sin(theta_inner)], axis=1)
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]

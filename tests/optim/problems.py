"""A shared test problem: a random quadratic over two parameters, with noisy gradients.

f(θ) = ½ θᵀAθ − bᵀθ with A symmetric positive definite, θ the two parameters (a 3×4 matrix and a
5-vector) flattened into one vector. The gradient at step k is g = Aθ − b + ξ_k (ξ_k fixed
noise, like a minibatch), computed by the same NumPy function for every optimizer under test,
so two implementations that agree on θ get bit-identical gradients.
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tge

SHAPES = [(3, 4), (5,)]
SIZE = sum(int(np.prod(s)) for s in SHAPES)


class Quadratic:
    """A random SPD quadratic in a given dtype, with a start point and per-step gradient noise."""

    def __init__(self, dtype, seed: int = 0, steps: int = 12):
        rng = np.random.default_rng(seed)
        q = rng.normal(size=(SIZE, SIZE))
        a = q @ q.T / SIZE + 0.5 * np.eye(SIZE)
        self.A = (a / np.linalg.eigvalsh(a).max() * 2.0).astype(dtype)  # eigenvalues in (0, 2]
        self.b = rng.normal(size=SIZE).astype(dtype)
        self.noise = (0.3 * rng.normal(size=(steps, SIZE))).astype(dtype)
        self.theta0 = rng.normal(size=SIZE).astype(dtype)
        self.dtype = np.dtype(dtype)
        self.steps = steps

    def grad(self, theta: np.ndarray, k: int) -> np.ndarray:
        """g = Aθ − b + ξ_k for a flat θ."""
        return self.A @ theta - self.b + self.noise[k]

    def params(self, device: str = "cpu") -> list:
        """Fresh tge parameters holding θ0."""
        return [tge.tensor(p.copy(), requires_grad=True, device=device) for p in split(self.theta0)]


def split(theta: np.ndarray) -> list[np.ndarray]:
    """A flat vector cut into the parameters' shapes."""
    out, i = [], 0
    for s in SHAPES:
        n = int(np.prod(s))
        out.append(theta[i : i + n].reshape(s))
        i += n
    return out


def flat(arrays) -> np.ndarray:
    """Parameters (arrays or tensors) concatenated into one vector."""
    return np.concatenate([np.asarray(a.numpy() if hasattr(a, "numpy") else a).reshape(-1) for a in arrays])


def run_tge(make_opt, problem: Quadratic, steps: int | None = None, params=None, opt=None, start: int = 0):
    """θ after each step of a tge optimizer on the problem (a list of flat vectors)."""
    params = problem.params() if params is None else params
    opt = make_opt(params) if opt is None else opt
    trajectory = []
    for k in range(start, start + (problem.steps if steps is None else steps)):
        for p, g in zip(params, split(problem.grad(flat(params), k))):
            p.grad = tge.tensor(g.copy(), device=p.device)
        opt.step()
        trajectory.append(flat(params))
    return trajectory, params, opt


def tolerance(dtype) -> dict:
    """Agreement to rounding: rtol 1e-6 in float32, 1e-12 in float64.

    The atol (the same figure, for θ of order 1) covers entries that pass near 0, where a last-bit
    difference from another order of operations is a large relative one.
    """
    return {"rtol": 1e-6, "atol": 1e-6} if np.dtype(dtype) == np.float32 else {"rtol": 1e-12, "atol": 1e-12}

"""Adam's one-pass Numba step takes the same steps as the NumPy lines of tinygrad_edu/optim/adam.py."""

from __future__ import annotations

import numpy as np
import pytest
from tinygrad_edu.kernels import numba_optim

import tinygrad_edu as tge
from tinygrad_edu import kernels, optim


def _train(backend: str, dtype, steps: int = 4, **options) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    w = tge.tensor(rng.standard_normal((300, 500)).astype(dtype), requires_grad=True)  # past SERIAL_BELOW
    b = tge.tensor(rng.standard_normal(7).astype(dtype), requires_grad=True)  # one thread
    opt = optim.Adam([w, b], lr=1e-2, **options)
    with kernels.use(backend):
        for step in range(steps):
            opt.zero_grad()
            ((w * w).sum() * 0.5 + (b * float(step + 1)).sum()).backward()
            opt.step()
    return [w.detach().numpy().copy(), b.detach().numpy().copy()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1}, {"maximize": True}, {"amsgrad": True}])
def test_adam_on_numba_takes_numpys_steps(dtype, options):
    got, want = _train("numba", dtype, **options), _train("numpy", dtype, **options)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


def test_adam_update_declines_arrays_it_does_not_suit():
    group = dict(betas=(0.9, 0.999), lr=1e-3, eps=1e-8, weight_decay=0.0)
    theta = np.ones((4, 6), np.float32)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    assert not numba_optim.adam_update(theta, np.ones((6, 4), np.float32).T, m, v, 1, group)  # a view
    assert not numba_optim.adam_update(theta, np.ones((4, 6), np.float64), m, v, 1, group)  # mixed dtypes
    assert not numba_optim.adam_update(theta, np.ones_like(theta), m, v, 1, {**group, "amsgrad": True})
    assert (theta == 1).all() and (m == 0).all()
    assert numba_optim.adam_update(theta, np.ones_like(theta), m, v, 1, group)
    np.testing.assert_allclose(theta, 1 - 1e-3, rtol=1e-6)  # the first step is lr·sign(g)

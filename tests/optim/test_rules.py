"""Each optimizer against a second, plain NumPy transcription of its paper's equations.

The references below are written independently of tinygrad_edu/optim: one loop over steps, on
one flat vector θ (every rule is elementwise, so updating the concatenated parameters is the same
as updating each one). Every option is exercised, and each option set is checked to change the
trajectory, so an option the optimizer ignored could not pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.optim.problems import Quadratic, run_tge, tolerance
from tinygrad_edu import optim

DTYPES = [np.float32, np.float64]

# ---- the references: θ_k for k = 1..steps -------------------------------------------------------


def sgd_ref(problem, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta, b, out = problem.theta0.copy(), None, []
    for k in range(problem.steps):
        g = problem.grad(theta, k)
        if maximize:
            g = -g
        g = g + weight_decay * theta
        if momentum != 0:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        out.append(theta)
    return out


def adam_ref(
    problem, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False
):
    beta1, beta2 = betas
    theta, out = problem.theta0.copy(), []
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, problem.steps + 1):
        g = problem.grad(theta, t - 1)
        if maximize:
            g = -g
        if decoupled:
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:
            v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def adamw_ref(problem, weight_decay=1e-2, **kw):
    return adam_ref(problem, weight_decay=weight_decay, decoupled=True, **kw)


def rmsprop_ref(problem, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    theta, out = problem.theta0.copy(), []
    v, g_avg, b = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for k in range(problem.steps):
        g = problem.grad(theta, k)
        if maximize:
            g = -g
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            denominator = np.sqrt(v - g_avg * g_avg) + eps
        else:
            denominator = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / denominator
            theta = theta - lr * b
        else:
            theta = theta - lr * g / denominator
        out.append(theta)
    return out


def adagrad_ref(
    problem, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False
):
    theta, out = problem.theta0.copy(), []
    s = np.full_like(theta, initial_accumulator_value)
    for t in range(1, problem.steps + 1):
        g = problem.grad(theta, t - 1)
        if maximize:
            g = -g
        g = g + weight_decay * theta
        eta = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        theta = theta - eta * g / (np.sqrt(s) + eps)
        out.append(theta)
    return out


# ---- the option sets -----------------------------------------------------------------------------

CASES = {
    "sgd": (
        optim.SGD,
        sgd_ref,
        [
            dict(lr=0.1),
            dict(lr=0.1, momentum=0.9),
            dict(lr=0.1, momentum=0.9, dampening=0.5),
            dict(lr=0.1, momentum=0.9, nesterov=True),
            dict(lr=0.1, weight_decay=0.3),
            dict(lr=0.1, maximize=True),
            dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True, maximize=True),
        ],
    ),
    "adam": (
        optim.Adam,
        adam_ref,
        [
            dict(lr=0.05),
            dict(lr=0.05, weight_decay=0.3),
            dict(lr=0.05, betas=(0.9, 0.5), amsgrad=True),
            dict(lr=0.05, maximize=True),
            dict(lr=0.05, betas=(0.8, 0.99), eps=1e-2),
            dict(lr=0.05, betas=(0.9, 0.5), amsgrad=True, weight_decay=0.3, maximize=True),
        ],
    ),
    "adamw": (
        optim.AdamW,
        adamw_ref,
        [
            dict(lr=0.05),
            dict(lr=0.05, weight_decay=0.3),
            dict(lr=0.05, betas=(0.9, 0.5), amsgrad=True),
            dict(lr=0.05, weight_decay=0.3, maximize=True),
        ],
    ),
    "rmsprop": (
        optim.RMSprop,
        rmsprop_ref,
        [
            dict(lr=0.01),
            dict(lr=0.01, alpha=0.9),
            dict(lr=0.01, momentum=0.9),
            dict(lr=0.01, centered=True),
            dict(lr=0.01, centered=True, momentum=0.5),
            dict(lr=0.01, weight_decay=0.3),
            dict(lr=0.01, eps=1e-2, maximize=True),
        ],
    ),
    "adagrad": (
        optim.Adagrad,
        adagrad_ref,
        [
            dict(lr=0.1),
            dict(lr=0.1, lr_decay=0.2),
            dict(lr=0.1, weight_decay=0.3),
            dict(lr=0.1, initial_accumulator_value=0.5),
            dict(lr=0.1, eps=1e-2, maximize=True),
        ],
    ),
}

PARAMS = [(name, i) for name, (_, _, options) in CASES.items() for i in range(len(options))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "case"), PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_optimizer_follows_its_equations(name, case, dtype):
    cls, reference, options = CASES[name]
    kwargs = options[case]
    problem = Quadratic(dtype, seed=case)
    ours, params, _ = run_tge(lambda ps: cls(ps, **kwargs), problem)
    expected = reference(problem, **kwargs)
    assert len(ours) == len(expected) == problem.steps >= 10
    for k, (a, e) in enumerate(zip(ours, expected)):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, **tolerance(dtype), err_msg=f"{name} {kwargs} step {k + 1}")
    assert all(p.dtype == dtype for p in params)


@pytest.mark.parametrize(("name", "case"), [p for p in PARAMS if p[1] > 0])
def test_each_option_changes_the_trajectory(name, case):
    """Otherwise the comparison above could not catch an ignored option."""
    _, reference, options = CASES[name]
    problem = Quadratic(np.float64, seed=case)
    with_options = reference(problem, **options[case])
    plain = reference(problem, **options[0])
    assert not np.allclose(with_options[-1], plain[-1], rtol=1e-6, atol=1e-9)


# ---- known values --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_adam_first_step_is_lr_times_sign_of_gradient(dtype, scale):
    """m̂ = g and v̂ = g² after one step, so Δθ = −lr·g/(|g| + ε) ≈ −lr·sign(g) at any gradient scale."""
    rng = np.random.default_rng(1)
    g = (scale * rng.uniform(0.5, 2.0, size=20) * rng.choice([-1, 1], size=20)).astype(dtype)
    theta0 = rng.normal(size=20).astype(dtype)
    lr, eps = 1e-3, 1e-8
    p = tge.tensor(theta0.copy(), requires_grad=True)
    p.grad = tge.tensor(g)
    optim.Adam([p], lr=lr, eps=eps).step()
    step = p.numpy().astype(np.float64) - theta0
    np.testing.assert_allclose(step, -lr * np.sign(g), rtol=1e-4)
    exact = -lr * g.astype(np.float64) / (np.abs(g.astype(np.float64)) + eps)
    np.testing.assert_allclose(step, exact, rtol=2e-3 if dtype == np.float32 else 1e-9)


def test_sgd_is_gradient_descent_and_momentum_accumulates():
    """θ1 = θ0 − lr·g; with μ: b1 = g, b2 = μ·g + g for a constant gradient."""
    p = tge.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    for expected in ([0.5, -2.5], [0.5 - 0.5 * 1.9, -2.5 - 0.5 * 1.9]):
        p.grad = tge.tensor([1.0, 1.0])
        opt.step()
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.9, 1.9], rtol=1e-6)


def test_adagrad_steps_shrink_like_one_over_sqrt_t():
    """For a constant gradient g, s_t = t·g², so the t-th step is lr·sign(g)/√t."""
    p = tge.tensor([0.0], dtype=tge.float64, requires_grad=True)
    opt = optim.Adagrad([p], lr=0.1, eps=0.0)
    previous = 0.0
    for t in range(1, 6):
        p.grad = tge.tensor([3.0], dtype=tge.float64)
        opt.step()
        assert p.item() - previous == pytest.approx(-0.1 / math.sqrt(t), rel=1e-12)
        previous = p.item()


@pytest.mark.parametrize(
    ("make", "atol"),
    [
        (lambda ps: optim.SGD(ps, lr=0.2, momentum=0.9, nesterov=True), 1e-6),
        (lambda ps: optim.Adam(ps, lr=0.05), 1e-3),
        (lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5), 5e-3),  # a fixed lr: it jitters at a scale ~lr
        (lambda ps: optim.Adagrad(ps, lr=0.5), 1e-3),
    ],
    ids=["sgd-nesterov", "adam", "rmsprop", "adagrad"],
)
def test_training_with_backward_reaches_the_minimum(make, atol):
    """End to end: loss.backward() fills the gradients, step() finds θ* = A⁻¹b of ½θᵀAθ − bᵀθ."""
    problem = Quadratic(np.float64, seed=3)
    theta = tge.tensor(problem.theta0.copy(), requires_grad=True)
    A, b = tge.tensor(problem.A), tge.tensor(problem.b)
    opt = make([theta])
    for _ in range(600):
        opt.zero_grad()
        loss = 0.5 * (theta @ (A @ theta)) - b @ theta
        loss.backward()
        opt.step()
    np.testing.assert_allclose(theta.numpy(), np.linalg.solve(problem.A, problem.b), atol=atol)

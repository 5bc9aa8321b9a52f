"""Adadelta, Adamax, NAdam, RAdam and LBFGS: their equations' known values, and PyTorch's trajectories.

The trajectories run 30 steps on the noisy quadratic of problems.py (LBFGS: on a quadratic plus a
quartic, through a closure), every option set changing the path, in float64 (to ~1e-12) and
float32 (to rounding). PyTorch runs with its default dtype set to the problem's, so its scalar
state (NAdam's mu_product, LBFGS's step sizes) is kept in the same precision as ours.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tge
from tests.optim.problems import Quadratic, flat, run_tge, split, tolerance
from tinygrad_edu import optim

DTYPES = [np.float32, np.float64]
STEPS = 30

CASES = {
    "Adadelta": [
        dict(),
        dict(lr=0.5, rho=0.5),
        dict(lr=2.0, eps=1e-3, weight_decay=0.2),
        dict(lr=0.5, maximize=True),
    ],
    "Adamax": [
        dict(lr=0.05),
        dict(lr=0.05, betas=(0.8, 0.9)),
        dict(lr=0.05, eps=1e-2, weight_decay=0.2),
        dict(lr=0.05, maximize=True),
    ],
    "NAdam": [
        dict(lr=0.05),
        dict(lr=0.05, momentum_decay=0.1),
        dict(lr=0.05, weight_decay=0.2),
        dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
        dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, maximize=True),
    ],
    "RAdam": [
        dict(lr=0.05),
        dict(lr=0.05, betas=(0.9, 0.9)),  # ρ_t > 5 from step 7 on: both branches of the rule
        dict(lr=0.05, weight_decay=0.2),
        dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, maximize=True),
    ],
}
PARAMS = [(name, i) for name, options in CASES.items() for i in range(len(options))]


# ---- known values, without PyTorch -------------------------------------------------------------


def one_step(cls, g, theta0, **kwargs):
    p = tge.tensor(np.array(theta0, dtype=np.float64), requires_grad=True)
    p.grad = tge.tensor(np.array(g, dtype=np.float64))
    opt = cls([p], **kwargs)
    opt.step()
    return p.numpy() - np.asarray(theta0), opt.state[p]


def test_adadelta_first_step_is_sqrt_eps_over_rms_of_g():
    """u = 0 at first, so Δ = √ε/√((1 − ρ)g² + ε)·g: tiny steps that grow as u fills."""
    g = np.array([2.0, -0.5, 1e-4])
    step, state = one_step(optim.Adadelta, g, [1.0, 2.0, 3.0], lr=1.0, rho=0.9, eps=1e-6)
    delta = np.sqrt(1e-6) / np.sqrt(0.1 * g**2 + 1e-6) * g
    np.testing.assert_allclose(step, -delta, rtol=1e-12)
    np.testing.assert_allclose(state["acc_delta"], 0.1 * delta**2, rtol=1e-12)
    assert state["step"] == 1


def test_adamax_first_step_is_lr_times_sign_and_u_is_abs_g():
    g = np.array([3.0, -0.25, 1e3])
    step, state = one_step(optim.Adamax, g, [0.0, 0.0, 0.0], lr=0.01, eps=1e-8)
    np.testing.assert_allclose(state["exp_inf"], np.abs(g) + 1e-8, rtol=1e-15)
    np.testing.assert_allclose(step, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_nadam_mu_schedule_and_first_step():
    """μ_1 = β1(1 − ½·0.96^ψ), Π_1 = μ_1; the first step from m = (1 − β1)g, v̂ = g²."""
    beta1, psi, lr, g = 0.9, 4e-3, 0.01, np.array([2.0, -1.0])
    step, state = one_step(optim.NAdam, g, [0.0, 0.0], lr=lr, eps=0.0)
    mu1, mu2 = (beta1 * (1 - 0.5 * 0.96 ** (t * psi)) for t in (1, 2))
    assert state["mu_product"] == pytest.approx(mu1, rel=1e-15)
    d = np.abs(g)
    expected = -lr * (1 - mu1) / (1 - mu1) * g / d - lr * mu2 / (1 - mu1 * mu2) * (1 - beta1) * g / d
    np.testing.assert_allclose(step, expected, rtol=1e-12)


def test_radam_takes_momentum_steps_until_rho_t_exceeds_5():
    """With β2 = 0.999, ρ_t ≤ 5 for t ≤ 5: θ moves by −lr·m̂, which is −lr·g for a constant g."""
    p = tge.tensor([0.0, 0.0], dtype=tge.float64, requires_grad=True)
    opt = optim.RAdam([p], lr=0.1)
    rho_inf = 2 / (1 - 0.999) - 1
    for t in range(1, 8):
        before = p.numpy().copy()
        p.grad = tge.tensor([1.0, -4.0], dtype=tge.float64)
        opt.step()
        rho_t = rho_inf - 2 * t * 0.999**t / (1 - 0.999**t)
        if t <= 5:
            assert rho_t <= 5
            np.testing.assert_allclose(p.numpy() - before, [-0.1, 0.4], rtol=1e-12)
        else:
            assert rho_t > 5  # the adaptive step: ≈ lr·r_t·sign(g), much smaller than lr·|g| for g = −4
            assert abs(p.numpy()[1] - before[1]) < 0.4


def test_lbfgs_solves_a_quadratic_in_a_few_iterations():
    """On ½θᵀAθ − bᵀθ (n = 17), L-BFGS with the strong-Wolfe search reaches θ* = A⁻¹b in one step()."""
    problem = Quadratic(np.float64, seed=3)
    theta = tge.tensor(problem.theta0.copy(), requires_grad=True)
    A, b = tge.tensor(problem.A), tge.tensor(problem.b)
    opt = optim.LBFGS([theta], max_iter=60, line_search_fn="strong_wolfe", tolerance_change=0.0)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (theta @ (A @ theta)) - b @ theta
        loss.backward()
        return loss

    first = opt.step(closure)
    assert isinstance(first, tge.Tensor)
    np.testing.assert_allclose(theta.numpy(), np.linalg.solve(problem.A, problem.b), atol=1e-6)
    assert opt.state[theta]["n_iter"] <= 40 and opt.state[theta]["func_evals"] <= 60 * 5 // 4 + 1


def test_lbfgs_needs_a_closure_and_one_group():
    w = tge.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="needs a closure"):
        optim.LBFGS([w]).step()
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [tge.zeros(2, requires_grad=True)]}])
    with pytest.raises(ValueError, match="only 'strong_wolfe' is supported"):
        optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="Invalid history_size value: 0"):
        optim.LBFGS([w], history_size=0)
    with pytest.raises(TypeError, match="max_iter must be a positive integer"):
        optim.LBFGS([w], max_iter=2.5)
    assert optim.LBFGS([w], max_iter=8).param_groups[0]["max_eval"] == 10  # max_iter·5//4, as PyTorch


def test_lbfgs_state_dict_resumes_bit_for_bit():
    problem = Quadratic(np.float64, seed=4)

    def run(opt, params, steps):
        for _ in range(steps):
            opt.step(lambda: closure(problem, params, tge.tensor, lambda p: p.numpy()))
        return flat(params)

    params = problem.params()
    opt = optim.LBFGS(params, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    run(opt, params, 2)
    saved = opt.state_dict()
    again = [tge.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    resumed = optim.LBFGS(again, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    resumed.load_state_dict(saved)
    np.testing.assert_array_equal(run(resumed, again, 2), run(opt, params, 2))


# ---- against PyTorch ---------------------------------------------------------------------------


@pytest.fixture
def torch_in(request):
    """PyTorch, with its default dtype set to the test's for the test's duration."""
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    yield torch
    torch.set_default_dtype(before)


def run_torch(torch, opt, params, problem, steps):
    out = []
    for k in range(steps):
        for p, g in zip(params, split(problem.grad(flat([p.detach() for p in params]), k))):
            p.grad = torch.tensor(g.copy())
        opt.step()
        out.append(flat([p.detach() for p in params]))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "case"), PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_trajectory_and_state_equal_pytorch(torch_in, name, case, dtype):
    torch = torch_in
    torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    kwargs = CASES[name][case]
    problem = Quadratic(dtype, seed=case, steps=STEPS)
    ours, _, opt = run_tge(lambda ps: getattr(optim, name)(ps, **kwargs), problem)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in split(problem.theta0)]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    theirs = run_torch(torch, topt, tparams, problem, STEPS)
    for k, (a, e) in enumerate(zip(ours, theirs)):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, **tolerance(dtype), err_msg=f"{name} {kwargs} step {k + 1}")
    if case > 0:  # the option changed the path, so the comparison above tested it
        plain, _, _ = run_tge(lambda ps: getattr(optim, name)(ps, **CASES[name][0]), problem)
        assert not np.allclose(plain[-1], ours[-1], rtol=1e-5)

    sd, tsd = opt.state_dict(), topt.state_dict()
    for i in (0, 1):
        assert sd["state"][i].keys() == tsd["state"][i].keys()
        for key, value in sd["state"][i].items():
            expected = tsd["state"][i][key].detach().numpy()
            np.testing.assert_allclose(value, expected, rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    group, tgroup = sd["param_groups"][0], tsd["param_groups"][0]
    for key, value in group.items():
        assert value == tgroup[key], key

    # PyTorch's state dict (tensors as arrays) resumes here exactly as it goes on there.
    resumed = [tge.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt2 = getattr(optim, name)(resumed, **kwargs)
    opt2.load_state_dict(
        {
            "state": {i: {k: v.detach().numpy() for k, v in s.items()} for i, s in tsd["state"].items()},
            "param_groups": tsd["param_groups"],
        }
    )
    more = Quadratic(dtype, seed=case + 100, steps=5)
    ours2, _, _ = run_tge(None, more, params=resumed, opt=opt2)
    theirs2 = run_torch(torch, topt, tparams, more, 5)
    np.testing.assert_allclose(ours2, theirs2, rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)


def closure(problem, params, make, to_numpy):
    """f = ½θᵀAθ − bᵀθ + 0.025·Σθ⁴ and its gradient, written into each parameter's .grad."""
    theta = flat([to_numpy(p) for p in params])
    g = problem.A @ theta - problem.b + 0.1 * theta**3
    for p, gi in zip(params, split(g)):
        p.grad = make(gi.copy())
    return float(0.5 * theta @ (problem.A @ theta) - problem.b @ theta + 0.025 * np.sum(theta**4))


LBFGS_CASES = [
    dict(),
    dict(lr=0.5, max_iter=5, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", max_iter=4, history_size=2, lr=0.8),
    dict(line_search_fn="strong_wolfe", max_iter=3, max_eval=2),
    dict(max_iter=7, tolerance_change=1e-3),
    dict(line_search_fn="strong_wolfe", tolerance_grad=1e-3),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", LBFGS_CASES, ids=[str(i) for i in range(len(LBFGS_CASES))])
def test_lbfgs_trajectory_equals_pytorch(torch_in, kwargs, dtype):
    """float64: six step() calls equal to ~1e-12, with the same evaluation and iteration counts.

    float32: the first step() of at most 4 iterations. Near the minimum, float32 rounding decides
    when an iteration stops, and the two libraries' last bits differ, so the rest is float64 only.
    """
    torch = torch_in
    torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    steps = 6 if dtype == np.float64 else 1
    if dtype == np.float32:
        kwargs = {**kwargs, "max_iter": min(4, kwargs.get("max_iter", 4))}
    problem = Quadratic(dtype, seed=2)
    params = problem.params()
    opt = optim.LBFGS(params, **kwargs)
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in split(problem.theta0)]
    topt = torch.optim.LBFGS(tparams, **kwargs)
    ours_closure = lambda: closure(problem, params, tge.tensor, lambda q: q.numpy())  # noqa: E731
    theirs_closure = lambda: closure(problem, tparams, torch.tensor, lambda q: q.detach().numpy())  # noqa: E731
    for k in range(steps):
        loss, tloss = opt.step(ours_closure), topt.step(theirs_closure)
        assert loss == pytest.approx(tloss, rel=1e-6 if dtype == np.float32 else 1e-12)
        tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else tolerance(dtype)
        np.testing.assert_allclose(flat(params), flat([p.detach() for p in tparams]), **tol, err_msg=f"step {k}")
    ours, theirs = opt.state[params[0]], topt.state[tparams[0]]
    assert (ours["func_evals"], ours["n_iter"]) == (theirs["func_evals"], theirs["n_iter"])
    assert len(ours["old_dirs"]) == len(theirs["old_dirs"])
    assert math.isfinite(flat(params).sum())

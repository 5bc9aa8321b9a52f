# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · Optimizers compared: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW
#
# **You will be able to:** write each of seven optimizers from its equations in a few lines of NumPy and check
# them, step by step, against `tinygrad_edu.optim`; predict from the curvature when plain gradient descent
# diverges; read their paths on an ill-conditioned quadratic and on Rosenbrock's valley; plot the usual
# learning-rate schedules; and explain, with measured numbers, why Adam needs its bias correction.
#
# **Run time:** about 5 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# Every optimizer here updates a parameter $\theta$ from its gradient $g_t = \nabla f(\theta_{t-1})$ at step
# $t = 1, 2, \dots$; the state (momentum buffers, running averages) starts at zero.

# %%
import math

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu import optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.optim import lr_scheduler

f64 = tge.float64

# %% [markdown]
# ## 1 · The seven update rules
#
# | optimizer | state | update |
# |---|---|---|
# | SGD | — | $\theta \leftarrow \theta - \eta\,g$ |
# | momentum | $b \leftarrow \mu b + g$ ($b_1 = g_1$) | $\theta \leftarrow \theta - \eta\,b$ |
# | Nesterov | $b \leftarrow \mu b + g$ | $\theta \leftarrow \theta - \eta\,(g + \mu b)$ |
# | Adagrad | $s \leftarrow s + g^2$ | $\theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \varepsilon)$ |
# | RMSprop | $v \leftarrow \alpha v + (1-\alpha) g^2$ | $\theta \leftarrow \theta - \eta g/(\sqrt{v}+\varepsilon)$ |
# | Adam | $m, v$ below | $\theta \leftarrow \theta - \eta\,\hat m/(\sqrt{\hat v} + \varepsilon)$ |
# | AdamW | as Adam | $\theta \leftarrow \theta - \eta\lambda\theta$, then the Adam step (no $\lambda$ inside $g$) |
#
# Adam keeps running means of $g$ and $g^2$ and corrects their start at zero:
#
# $$ m \leftarrow \beta_1 m + (1-\beta_1) g,\qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\qquad
#    \hat m = \frac{m}{1-\beta_1^t},\qquad \hat v = \frac{v}{1-\beta_2^t}. $$
#
# Everything squared or divided is per coordinate. Written out in NumPy — each function takes the parameter,
# its gradient, the optimizer's state dict and the step number $t$, and returns the new parameter:


# %%
def sgd(theta, g, state, t, lr):
    return theta - lr * g


def momentum(theta, g, state, t, lr, mu=0.9):
    state["b"] = g.copy() if t == 1 else mu * state["b"] + g
    return theta - lr * state["b"]


def nesterov(theta, g, state, t, lr, mu=0.9):
    state["b"] = g.copy() if t == 1 else mu * state["b"] + g
    return theta - lr * (g + mu * state["b"])


def adagrad(theta, g, state, t, lr, eps=1e-10):
    state["s"] = state.get("s", 0.0) + g**2
    return theta - lr * g / (np.sqrt(state["s"]) + eps)


def rmsprop(theta, g, state, t, lr, alpha=0.99, eps=1e-8):
    state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g**2
    return theta - lr * g / (np.sqrt(state["v"]) + eps)


def adam(theta, g, state, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    m_hat = state["m"] / (1 - beta1**t)
    v_hat = state["v"] / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw(theta, g, state, t, lr, weight_decay=0.01, **adam_args):
    theta = theta - lr * weight_decay * theta  # decoupled: the decay never goes through m or v
    return adam(theta, g, state, t, lr, **adam_args)


# %% [markdown]
# And the library's own update code, for comparison (SGD covers plain, momentum and Nesterov):

# %%
quote(optim.SGD.update)
quote(optim.Adam.update)
quote(optim.AdamW.update)

# %% [markdown]
# ## 2 · Step by step against `tinygrad_edu.optim`
#
# A test function with coupled coordinates, $f(\theta) = \tfrac12\theta^\top A\theta - c^\top\theta +
# \tfrac14\sum_i\theta_i^4$, its gradient $A\theta - c + \theta^3$, float64. Each hand-written optimizer and the
# library's take 25 steps from the same start; after **every** step the parameters must agree.

# %%
rng = np.random.default_rng(0)
M = rng.standard_normal((5, 5))
A = M @ M.T / 5 + np.eye(5)
c = rng.standard_normal(5)
theta0 = rng.standard_normal(5)


def grad_np(theta):
    return A @ theta - c + theta**3


def f_tensor(p):
    return 0.5 * (p @ (tge.tensor(A, dtype=f64) @ p)) - (tge.tensor(c, dtype=f64) * p).sum() + 0.25 * (p**4).sum()


cases = {
    "SGD": (sgd, dict(lr=0.05), lambda ps: optim.SGD(ps, lr=0.05)),
    "momentum": (momentum, dict(lr=0.02), lambda ps: optim.SGD(ps, lr=0.02, momentum=0.9)),
    "Nesterov": (nesterov, dict(lr=0.02), lambda ps: optim.SGD(ps, lr=0.02, momentum=0.9, nesterov=True)),
    "Adagrad": (adagrad, dict(lr=0.3), lambda ps: optim.Adagrad(ps, lr=0.3)),
    "RMSprop": (rmsprop, dict(lr=0.01), lambda ps: optim.RMSprop(ps, lr=0.01)),
    "Adam": (adam, dict(lr=0.05), lambda ps: optim.Adam(ps, lr=0.05)),
    "AdamW": (adamw, dict(lr=0.05, weight_decay=0.1), lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1)),
}
for name, (by_hand, hyper, make) in cases.items():
    p = tge.tensor(theta0, dtype=f64, requires_grad=True)
    opt = make([p])
    theta, state, worst = theta0.copy(), {}, 0.0
    for t in range(1, 26):
        opt.zero_grad()
        f_tensor(p).backward()
        opt.step()
        theta = by_hand(theta, grad_np(theta), state, t, **hyper)
        worst = max(worst, np.abs(theta - p.detach().numpy()).max())
    print(f"{name:9s} 25 steps, max |by hand − library| = {worst:.1e}")
    assert worst < 1e-12, name

# %% [markdown]
# ## 3 · An ill-conditioned quadratic: why plain gradient descent zigzags
#
# $f(x, y) = \tfrac12(x^2 + 25y^2)$ has curvatures $\lambda_1 = 1$ and $\lambda_2 = 25$ (the *condition number*
# is 25). Gradient descent multiplies each coordinate by $(1 - \eta\lambda_i)$ per step, so it converges only if
# $|1 - \eta\lambda_{\max}| < 1$, i.e.
#
# $$ \eta < \frac{2}{\lambda_{\max}} = 0.08, $$
#
# and then the flat direction shrinks by only $1 - \eta \approx 0.93$ a step: the steep direction dictates the
# step, the flat one the time. Measured:


# %%
def quad(p):
    return 0.5 * (p[0] ** 2 + 25 * p[1] ** 2)


def rosen(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def path(make, f, start, steps):
    """Run the library's optimizer on f from start; the visited points, (steps + 1, 2)."""
    p = tge.tensor(start, dtype=f64, requires_grad=True)
    opt = make([p])
    points = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        points.append(p.detach().numpy().copy())
    return np.array(points)


q_start = [-4.0, 1.5]
below = path(lambda ps: optim.SGD(ps, lr=0.079), quad, q_start, 60)
above = path(lambda ps: optim.SGD(ps, lr=0.081), quad, q_start, 60)
print(f"η = 0.079: |y| after 60 steps = {abs(below[-1, 1]):.3g}  (factor |1 − 25η| = {abs(1 - 25 * 0.079):.3f})")
print(f"η = 0.081: |y| after 60 steps = {abs(above[-1, 1]):.3g}  (factor |1 − 25η| = {abs(1 - 25 * 0.081):.3f})")
assert abs(below[-1, 1]) < abs(below[0, 1]) < abs(above[-1, 1])
assert np.allclose(below[1:, 1] / below[:-1, 1], 1 - 25 * 0.079)  # exactly the predicted factor, every step

# %% [markdown]
# Now all seven on the same quadratic (40 steps) and on Rosenbrock's function $f(x, y) = (1-x)^2 +
# 100(y - x^2)^2$, whose minimum $(1, 1)$ lies at the end of a long, curved, flat-bottomed valley. The learning
# rates are picked by hand for each, as you would; for the quadratic, SGD's sits just under $2/\lambda_{\max}$.

# %%
q_steps, r_steps = 40, sized(full=3000, fast=1000)
quad_opts = {
    "SGD η=0.075": lambda ps: optim.SGD(ps, lr=0.075),
    "momentum 0.7": lambda ps: optim.SGD(ps, lr=0.03, momentum=0.7),
    "Nesterov 0.7": lambda ps: optim.SGD(ps, lr=0.03, momentum=0.7, nesterov=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=1.5),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1),
    "Adam": lambda ps: optim.Adam(ps, lr=0.5),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.5, weight_decay=0.1),
}
rosen_opts = {
    "SGD": lambda ps: optim.SGD(ps, lr=1.5e-3),
    "momentum 0.9": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
    "Nesterov 0.9": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=1.0),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=3e-3),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.01),
}
r_start = [-1.5, 2.0]
quad_paths = {name: path(make, quad, q_start, q_steps) for name, make in quad_opts.items()}
rosen_paths = {name: path(make, rosen, r_start, r_steps) for name, make in rosen_opts.items()}
for name, P in quad_paths.items():
    print(f"quadratic  {name:13s} f = {quad(P[-1]):.2e} after {q_steps} steps")
for name, P in rosen_paths.items():
    print(f"Rosenbrock {name:13s} f = {rosen(P[-1]):.2e}, distance to (1, 1) = {np.hypot(*(P[-1] - 1)):.3f}")

# %% [markdown]
# What the numbers say (each is asserted below):
#
# - On the quadratic, momentum beats plain SGD by orders of magnitude in 40 steps, although its learning rate is
#   less than half: the buffer accumulates along the flat direction, and the zigzag across the steep one
#   cancels.
# - Adagrad, RMSprop and Adam divide by a per-coordinate gradient size, so their **first** step is
#   $\eta\,\mathrm{sign}(g)$ in every coordinate (RMSprop: $\eta/\sqrt{1-\alpha} = 10\eta$), whatever the
#   curvature — the quadratic's 25× steeper $y$ does not slow $x$ down.
# - On Rosenbrock every optimizer gets into the valley and cuts $f$ by more than 90 %; momentum, Nesterov and
#   Adam get within 0.05 of $(1, 1)$ (with the full 3000 steps momentum and Nesterov within $10^{-3}$, while
#   Adam, whose steps stay about $\eta$ long whatever the gradient, keeps jittering around the minimum — one
#   reason for the schedules of section 4). Adagrad's ever-growing sum $s$ shrinks its steps until it crawls,
#   and AdamW's decay keeps it short of $(1, 1)$ (it minimises a different function: the decay pulls toward 0).

# %%
q_final = {n: quad(P[-1]) for n, P in quad_paths.items()}
r_final = {n: rosen(P[-1]) for n, P in rosen_paths.items()}
assert q_final["momentum 0.7"] < 1e-2 * q_final["SGD η=0.075"]
for name, lr in [("Adagrad", 1.5), ("Adam", 0.5)]:
    assert np.allclose(np.abs(quad_paths[name][1] - quad_paths[name][0]), lr, rtol=1e-6), name
assert np.allclose(np.abs(quad_paths["RMSprop"][1] - quad_paths["RMSprop"][0]), 0.1 / math.sqrt(0.01), rtol=1e-6)
assert all(r_final[n] < 0.1 * rosen(np.array(r_start)) for n in r_final)  # all made good progress
assert max(r_final["momentum 0.9"], r_final["Nesterov 0.9"], r_final["Adam"]) < 1e-2
assert r_final["Adagrad"] > 10 * r_final["Adam"]
adamw_end = rosen_paths["AdamW"][-1]
assert np.hypot(*(adamw_end - 1)) > 1e-3 and np.all(adamw_end < 1)
r_dist = {n: np.hypot(*(P[-1] - 1)) for n, P in rosen_paths.items()}
assert max(r_dist["momentum 0.9"], r_dist["Nesterov 0.9"], r_dist["Adam"]) < 0.05
if not FAST:  # with 3000 steps, momentum and Nesterov sit on the minimum
    assert max(r_dist["momentum 0.9"], r_dist["Nesterov 0.9"]) < 1e-3

# %%
fig = Figure(figsize=(13, 5.2))
ax_q, ax_r = fig.subplots(1, 2)
gx, gy = np.meshgrid(np.linspace(-4.5, 4.5, 300), np.linspace(-2, 2, 300))
ax_q.contour(gx, gy, 0.5 * (gx**2 + 25 * gy**2), levels=np.geomspace(0.01, 60, 14), colors="0.75", linewidths=0.7)
for name, P in quad_paths.items():
    ax_q.plot(P[:, 0], P[:, 1], ".-", ms=3, lw=1, label=name)
ax_q.plot([0], [0], "k*", ms=12, label="minimum")
ax_q.set(title=f"f = ½(x² + 25y²), {q_steps} steps from (−4, 1.5)", xlabel="x", ylabel="y")
ax_q.legend(fontsize=8)
rx, ry = np.meshgrid(np.linspace(-2, 2, 400), np.linspace(-0.6, 3.2, 400))
ax_r.contour(rx, ry, (1 - rx) ** 2 + 100 * (ry - rx**2) ** 2, levels=np.geomspace(0.1, 2500, 16), colors="0.75")
for name, P in rosen_paths.items():
    ax_r.plot(P[:, 0], P[:, 1], "-", lw=1.2, label=name)
ax_r.plot([1], [1], "k*", ms=12, label="minimum (1, 1)")
ax_r.set(title=f"Rosenbrock, {r_steps} steps from (−1.5, 2)", xlabel="x", ylabel="y")
ax_r.legend(fontsize=8)
show(fig, "10_optimizer_paths.png")

# %% [markdown]
# ## 4 · Learning-rate schedules
#
# A scheduler changes $\eta$ as training goes; `scheduler.step()` is called once per epoch (OneCycleLR: once
# per batch). Their closed forms, with $\eta_0$ the starting rate:
#
# $$ \text{StepLR: } \eta_t = \eta_0\,\gamma^{\lfloor t/s\rfloor},\qquad
#    \text{Cosine: } \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\bigl(1 + \cos(\pi t/T)\bigr),\qquad
#    \text{LinearLR: } \eta_t = \eta_0\bigl(s + (e - s)\min(t, T)/T\bigr). $$
#
# A *warm-up* (LinearLR from 0.1 η₀ to η₀) then a cosine is `SequentialLR`; OneCycleLR rises from
# $\eta_{\max}/25$ to $\eta_{\max}$ over the first 30 % and then anneals far below the start.

# %%
quote(lr_scheduler.CosineAnnealingLR._get_closed_form_lr)
epochs, lr0 = 100, 0.1


def schedule(make):
    """The lr at epochs 0..epochs−1 of the scheduler make(optimizer)."""
    opt = optim.SGD([tge.zeros(1, requires_grad=True)], lr=lr0, momentum=0.9)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


schedules = {
    "StepLR(step_size=30, γ=0.1)": schedule(lambda o: lr_scheduler.StepLR(o, step_size=30, gamma=0.1)),
    "ExponentialLR(γ=0.96)": schedule(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.96)),
    "CosineAnnealingLR(T_max=100)": schedule(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=epochs)),
    "LinearLR warm-up 10 + cosine 90": schedule(
        lambda o: lr_scheduler.SequentialLR(
            o,
            [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=10), lr_scheduler.CosineAnnealingLR(o, T_max=90)],
            milestones=[10],
        )
    ),
    "OneCycleLR(max_lr=0.1)": schedule(lambda o: lr_scheduler.OneCycleLR(o, max_lr=lr0, total_steps=epochs)),
}
t = np.arange(epochs)
assert np.allclose(schedules["StepLR(step_size=30, γ=0.1)"], lr0 * 0.1 ** (t // 30))
assert np.allclose(schedules["ExponentialLR(γ=0.96)"], lr0 * 0.96**t)
assert np.allclose(schedules["CosineAnnealingLR(T_max=100)"], 0.5 * lr0 * (1 + np.cos(np.pi * t / epochs)))
warm = schedules["LinearLR warm-up 10 + cosine 90"]
assert np.allclose(warm[:10], lr0 * (0.1 + 0.9 * t[:10] / 10))
assert np.allclose(warm[10:], 0.5 * lr0 * (1 + np.cos(np.pi * (t[10:] - 10) / 90)))
one = schedules["OneCycleLR(max_lr=0.1)"]
assert math.isclose(one[0], lr0 / 25) and math.isclose(one.max(), lr0) and int(one.argmax()) == 29
assert one[-1] < one[0] / 1000

fig = Figure(figsize=(8, 4.2))
ax = fig.subplots()
for name, lrs in schedules.items():
    ax.plot(t, lrs, label=name)
ax.set(title="Learning-rate schedules from tinygrad_edu.optim.lr_scheduler (η₀ = 0.1)", xlabel="epoch",
       ylabel="learning rate η")  # fmt: skip
ax.legend(fontsize=8)
show(fig, "10_lr_schedules.png")

# %% [markdown]
# ## 5 · Adam without bias correction goes wrong
#
# $m$ and $v$ start at 0, so after one step $m_1 = (1-\beta_1)g_1$ — ten times too small with $\beta_1 = 0.9$ —
# and $v_1 = (1-\beta_2)g_1^2$, a thousand times too small. The weights of an exponential average after $t$
# steps sum to $1-\beta^t$; dividing by it is the correction. Drop it, and for a steady gradient $g$ the step
# $\eta\,m/(\sqrt v + \varepsilon)$ is, instead of $\eta\,\mathrm{sign}(g)$:
#
# - **without correcting $m$** (keeping $\hat v$): $\eta(1-\beta_1^t)$ — the first step is **10× too small**,
#   and it takes 44 steps to get within 1 % of the right size;
# - **without correcting either**: $\eta\,\frac{1-\beta_1^t}{\sqrt{1-\beta_2^t}}$ — the $v$ bias is the larger
#   one, so the first step is $0.1/\sqrt{0.001} = 3.16\times$ too *large*, peaking at about 6.6× near step 12
#   and still more than 5 % too large after two thousand steps.
#
# Measured on $f(\theta) = g\cdot\theta$ (gradient always $g$, of very different sizes per coordinate):


# %%
def adam_uncorrected(theta, g, state, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, correct_v=False):
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    v = state["v"] / (1 - beta2**t) if correct_v else state["v"]
    return theta - lr * state["m"] / (np.sqrt(v) + eps)


g_steady = np.array([1e-3, 1.0, 50.0])
T, lr = 2000, 1e-3
steps = {"Adam (library)": [], "no correction of m": [], "no correction at all": []}
p = tge.tensor(np.zeros(3), dtype=f64, requires_grad=True)
opt = optim.Adam([p], lr=lr)
th_m, th_0, st_m, st_0 = np.zeros(3), np.zeros(3), {}, {}
for t in range(1, T + 1):
    before = p.detach().numpy().copy()
    opt.zero_grad()
    (p * tge.tensor(g_steady, dtype=f64)).sum().backward()
    opt.step()
    steps["Adam (library)"].append(np.abs(p.detach().numpy() - before) / lr)
    new_m = adam_uncorrected(th_m, g_steady, st_m, t, lr, correct_v=True)
    new_0 = adam_uncorrected(th_0, g_steady, st_0, t, lr)
    steps["no correction of m"].append(np.abs(new_m - th_m) / lr)
    steps["no correction at all"].append(np.abs(new_0 - th_0) / lr)
    th_m, th_0 = new_m, new_0
steps = {k: np.array(v) for k, v in steps.items()}  # (T, 3): |Δθ| / η per step and coordinate
for k, v in steps.items():
    print(f"{k:22s} |Δθ|/η at steps 1, 10, 100, 2000: {v[0, 1]:.3f} {v[9, 1]:.3f} {v[99, 1]:.3f} {v[-1, 1]:.3f}")

# %%
tt = np.arange(1, T + 1)
assert np.allclose(steps["Adam (library)"], 1.0, atol=1e-4)  # every step η·sign(g), for g = 1e-3 as for 50
assert np.allclose(steps["no correction of m"][0], 0.1, rtol=1e-4)  # 10× too small at first
assert np.allclose(steps["no correction of m"][:, 1], 1 - 0.9**tt, rtol=1e-6)
assert int(np.argmax(steps["no correction of m"][:, 1] > 0.99)) + 1 == 44
both = steps["no correction at all"][:, 1]
assert np.allclose(both, (1 - 0.9**tt) / np.sqrt(1 - 0.999**tt), rtol=1e-6)
assert abs(both[0] - math.sqrt(10)) < 1e-6 and 6.5 < both.max() < 6.6 and int(both.argmax()) + 1 == 12
assert both[-1] > 1.05

fig = Figure(figsize=(7.5, 4.2))
ax = fig.subplots()
for k, v in steps.items():
    ax.plot(tt, v[:, 1], label=k)
ax.axhline(1.0, color="k", lw=0.6, ls=":")
ax.set_xscale("log")
ax.set(title="Step size of Adam for a steady gradient, with and without bias correction", xlabel="step t",
       ylabel="|Δθ| / η")  # fmt: skip
ax.legend()
show(fig, "10_adam_bias.png")

# %% [markdown]
# ## Exercises
#
# 1. Plain SGD on $f = \tfrac12(x^2 + 25y^2)$: which learning rate minimises the slower of the two factors
#    $|1-\eta\lambda_i|$? Show (and check by running SGD) that it is $\eta = 2/(\lambda_1+\lambda_2)$, and give the
#    resulting factor $(\kappa - 1)/(\kappa+1)$ for $\kappa = 25$.
# 2. Write `optim.Adam` with `amsgrad=True` by hand ($v_{\max} \leftarrow \max(v_{\max}, v)$, $\hat v =
#    v_{\max}/(1-\beta_2^t)$) and check it step by step against the library on the test function of section 2.
# 3. Show that AdamW's decay differs from Adam's `weight_decay`: with zero gradient ($f = 0$), how far does each
#    move a weight of value 1 in 10 steps with $\eta = 0.1$, $\lambda = 0.1$?

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Factors |1 − η| and |1 − 25η| balance at η = 2/26; the factor is then 24/26 = (κ − 1)/(κ + 1).
eta = 2 / 26
P = path(lambda ps: optim.SGD(ps, lr=eta), quad, q_start, 30)
ratio_x, ratio_y = P[1:, 0] / P[:-1, 0], P[1:, 1] / P[:-1, 1]
print(f"η = {eta:.5f}: x shrinks by {ratio_x[0]:.5f}, y by {ratio_y[0]:.5f} per step; (κ−1)/(κ+1) = {24 / 26:.5f}")
assert np.allclose(np.abs(ratio_x), 24 / 26) and np.allclose(np.abs(ratio_y), 24 / 26)
for other in (0.07, 0.078):  # any other η makes one factor worse
    assert max(abs(1 - other), abs(1 - 25 * other)) > 24 / 26


# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. AMSGrad by hand.
def amsgrad(theta, g, state, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g**2
    state["vmax"] = np.maximum(state.get("vmax", 0.0), state["v"])
    m_hat, v_hat = state["m"] / (1 - beta1**t), state["vmax"] / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


p = tge.tensor(theta0, dtype=f64, requires_grad=True)
opt = optim.Adam([p], lr=0.05, amsgrad=True)
theta, state, worst = theta0.copy(), {}, 0.0
for t in range(1, 26):
    opt.zero_grad()
    f_tensor(p).backward()
    opt.step()
    theta = amsgrad(theta, grad_np(theta), state, t, lr=0.05)
    worst = max(worst, np.abs(theta - p.detach().numpy()).max())
print(f"AMSGrad: max |by hand − library| over 25 steps = {worst:.1e}")
assert worst < 1e-12

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. g = 0: Adam's coupled decay g ← λθ is then all of the gradient, and Adam normalises it away (steps ≈ η);
#    AdamW multiplies θ by (1 − ηλ) each step: 1 → 0.99^10. Adam moves it almost 10× farther.
moved = {}
for name, make in [("Adam", optim.Adam), ("AdamW", optim.AdamW)]:
    p = tge.tensor([1.0], dtype=f64, requires_grad=True)
    opt = make([p], lr=0.1, weight_decay=0.1)
    for _ in range(10):
        opt.zero_grad()
        (p * 0.0).sum().backward()
        opt.step()
    moved[name] = 1 - p.item()
print(f"weight 1 after 10 steps: Adam moved it by {moved['Adam']:.4f}, AdamW by {moved['AdamW']:.4f}")
assert abs(moved["AdamW"] - (1 - 0.99**10)) < 1e-12
assert 0.9 < moved["Adam"] <= 1.0  # close to ten steps of η·sign(λθ) = 0.1 each

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
# # 14 · Initialisation and normalisation
#
# **You will be able to:** predict from a layer's fan-in what its initial weights do to the variance of the
# signal, forwards and backwards; choose between naive, Xavier/Glorot and Kaiming/He initialisation for tanh and
# ReLU networks (`nn.init`), and see the difference in activation and gradient histograms of a 15-layer stack;
# derive the backward pass of BatchNorm and LayerNorm, write it in NumPy, and check it against the library and
# against finite differences.
#
# **Run time:** about 4 s of CPU time (`TGE_FAST=1`: about 3 s).

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.ops.norm import Normalize

DEPTH, WIDTH = 15, 256
BATCH = sized(full=1024, fast=256)
print("fast mode" if FAST else "full mode", f"- a {DEPTH}-layer stack of width {WIDTH}, batch {BATCH}")

# %% [markdown]
# ## Why the scale of the initial weights matters
#
# A linear layer computes $z_j = \sum_{i=1}^{n} w_{ji} h_i$ with $n$ = fan-in. With weights and inputs
# independent, zero-mean, the variances multiply and add up:
# $$ \mathrm{Var}(z_j) = n\,\mathrm{Var}(w)\,\mathbb{E}[h_i^2] . $$
# Through $L$ layers this factor is applied $L$ times: if $n\,\mathrm{Var}(w)\,\mathbb{E}[h^2]/\mathrm{Var}(z)$
# is 2, the signal grows like $2^L$; if it is $\tfrac12$, it vanishes like $2^{-L}$. Backwards, the gradient
# $\partial L/\partial h_i = \sum_j w_{ji}\, \partial L/\partial z_j$ is multiplied by
# $n_\text{out}\mathrm{Var}(w)$ per layer (times the activation's derivative).
#
# - **Naive**: $w \sim \mathcal N(0, 1)$ gives a factor $n = 256$ per layer; $w \sim \mathcal N(0, 0.01^2)$
#   gives $256 \cdot 10^{-4} = 0.0256$.
# - **Xavier/Glorot** (2010), for activations that are close to linear around 0 (tanh):
#   $\mathrm{Var}(w) = \text{gain}^2 \cdot \frac{2}{n_\text{in} + n_\text{out}}$, a compromise between the
#   forward condition $n_\text{in}\mathrm{Var}(w)=1$ and the backward one $n_\text{out}\mathrm{Var}(w)=1$.
#   tanh squashes, so PyTorch recommends the gain $5/3$ for it.
# - **Kaiming/He** (2015), for ReLU: ReLU zeroes half of a symmetric $z$, so $\mathbb{E}[h^2] =
#   \tfrac12\mathrm{Var}(z)$, and $\mathrm{Var}(w) = \frac{2}{n}$ (gain $\sqrt2$) restores the factor 1.
#
# The library's code for the two rules:

# %%
quote(nn.init.xavier_normal_)
quote(nn.init.kaiming_normal_)
w = tge.empty(WIDTH, WIDTH)
nn.init.kaiming_normal_(w, nonlinearity="relu")
print(f"kaiming_normal_(relu) on {WIDTH}×{WIDTH}: std {w.numpy().std():.4f}, √(2/n) = {np.sqrt(2 / WIDTH):.4f}")
assert abs(w.numpy().std() / np.sqrt(2 / WIDTH) - 1) < 0.01
nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh"))
print(f"xavier_normal_(gain 5/3): std {w.numpy().std():.4f}, (5/3)·√(2/(n+n)) = {5 / 3 * np.sqrt(1 / WIDTH):.4f}")
assert abs(w.numpy().std() / (5 / 3 * np.sqrt(1 / WIDTH)) - 1) < 0.01

# %% [markdown]
# ## A 15-layer stack, five ways
#
# Each stack is 15 `nn.Linear(256, 256, bias=False)` layers with tanh or ReLU after each, fed a batch of
# standard-normal inputs. We keep every layer's output $h_l$ (`retain_grad()`), back-propagate a random
# upstream gradient (a loss $L = \sum h_{15}\cdot r$ with $r \sim \mathcal N(0,1)$), and record the variance of
# $h_l$ and of $\partial L/\partial h_l$ per layer.

# %%
INITS = {
    "N(0, 1)": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "N(0, 0.01²)": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "Xavier (gain 1)": lambda w: nn.init.xavier_normal_(w),
    "Xavier (gain 5/3)": lambda w: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh")),
    "Kaiming (ReLU)": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
ACTIVATIONS = {"tanh": tge.Tensor.tanh, "relu": tge.Tensor.relu}
rng = np.random.default_rng(0)
x0 = tge.tensor(rng.standard_normal((BATCH, WIDTH)).astype(np.float32))
r = tge.tensor(rng.standard_normal((BATCH, WIDTH)).astype(np.float32))


def probe(activation: str, init_name: str) -> dict:
    """Forward and backward through a fresh stack; each layer's activations and their gradients."""
    tge.manual_seed(0)
    layers = [nn.Linear(WIDTH, WIDTH, bias=False) for _ in range(DEPTH)]
    h, outputs = x0, []
    for layer in layers:
        INITS[init_name](layer.weight)
        h = ACTIVATIONS[activation](layer(h))
        h.retain_grad()
        outputs.append(h)
    (h * r).sum().backward()
    acts = [o.numpy() for o in outputs]
    grads = [o.grad.numpy() for o in outputs]
    return {
        "acts": acts,
        "grads": grads,
        "act_var": np.array([a.var(dtype=np.float64) for a in acts]),  # float64: the exploding ones reach 1e31
        "grad_var": np.array([g.var(dtype=np.float64) for g in grads]),
    }


results = {(a, i): probe(a, i) for a in ACTIVATIONS for i in INITS}
for (a, i), res in results.items():
    print(f"{a:4s} {i:18s} Var(h): layer 1 {res['act_var'][0]:9.3g}, layer 15 {res['act_var'][-1]:9.3g}   "
          f"Var(dL/dh): layer 1 {res['grad_var'][0]:9.3g}, layer 15 {res['grad_var'][-1]:9.3g}")  # fmt: skip

# %% [markdown]
# ## What the numbers say, asserted
#
# - **tanh + Xavier (gain 5/3)** keeps the activation variance flat from layer 2 to layer 15 (within a factor
#   1.5). With gain 1, Glorot's original, it drifts down slowly (tanh is below its tangent, so each layer loses
#   a little), to under a third of its first-layer value by layer 15.
# - **ReLU + Kaiming** keeps it flat too; **ReLU + Xavier (gain 1)** halves it per layer (ReLU throws half
#   away and nothing gives it back).
# - **N(0, 1)** explodes ReLU activations: their variance grows by about $n/2 = 128$ per layer, to ~$10^{31}$
#   at layer 15. Their squares already overflow float32 (whose ceiling is $3.4\cdot10^{38}$; hence the float64
#   variances here), and some twenty layers more would overflow the activations themselves. For tanh N(0, 1)
#   *saturates*: over 80 % of the units sit at ±1, where $\tanh' \approx 0$, yet the gradients towards the
#   input explode by ~$10^{13}$ (each layer multiplies them by weights of size ~$\sqrt n$).
# - Backwards, ReLU + Kaiming is flat as well. tanh + Xavier (5/3) lets the gradient grow about tenfold over 15
#   layers: for tanh no single scale makes both directions exactly 1, and the gain trades a little backward
#   growth for a flat forward pass. Compare that 10× with the naive $10^{13}$.
# - **N(0, 0.01²)** makes everything vanish, forwards and backwards (the factor 0.0256 per layer).


# %%
def spread(v: np.ndarray) -> float:
    """max/min of the variances from layer 2 on (layer 1 sees the raw input, not a previous layer)."""
    return float(v[1:].max() / v[1:].min())


tanh_x, tanh_x1 = results["tanh", "Xavier (gain 5/3)"], results["tanh", "Xavier (gain 1)"]
relu_k, relu_x = results["relu", "Kaiming (ReLU)"], results["relu", "Xavier (gain 1)"]
print(f"flatness (max/min variance, layers 2-15): tanh+Xavier(5/3) {spread(tanh_x['act_var']):.2f}, "
      f"relu+Kaiming {spread(relu_k['act_var']):.2f}, "
      f"relu+Kaiming gradients {spread(relu_k['grad_var']):.2f}")  # fmt: skip
assert spread(tanh_x["act_var"]) < 1.5 and spread(relu_k["act_var"]) < 1.5
assert tanh_x1["act_var"][-1] < tanh_x1["act_var"][0] / 3  # gain 1 drifts down
assert relu_x["act_var"][-1] < 1e-3 * relu_x["act_var"][0]  # Xavier without the ReLU gain vanishes, ~½ per layer
naive_relu, small_relu = results["relu", "N(0, 1)"], results["relu", "N(0, 0.01²)"]
per_layer = (naive_relu["act_var"][-1] / naive_relu["act_var"][0]) ** (1 / (DEPTH - 1))
print(f"ReLU N(0,1): variance ×{per_layer:.0f} per layer (n/2 = {WIDTH // 2})")
assert 100 < per_layer < 160 and 1e30 < naive_relu["act_var"][-1] < 1e32  # ~10³¹ at layer 15
assert small_relu["act_var"][-1] < 1e-25 and results["tanh", "N(0, 0.01²)"]["act_var"][-1] < 1e-20
naive_tanh = results["tanh", "N(0, 1)"]
saturated = np.mean(np.abs(naive_tanh["acts"][-1]) > 0.99)
print(f"tanh N(0,1): {saturated:.0%} of the last layer's units saturated (|h| > 0.99); "
      f"gradient variance layer 1 / layer 15 = "
      f"{naive_tanh['grad_var'][0] / naive_tanh['grad_var'][-1]:.2g}")  # fmt: skip
assert saturated > 0.8 and naive_tanh["grad_var"][0] > 1e12 * naive_tanh["grad_var"][-1]  # ~10¹³
assert spread(relu_k["grad_var"]) < 1.5 and 5 < tanh_x["grad_var"][0] / tanh_x["grad_var"][-1] < 20  # about tenfold

# %%
shown_layers = (0, 4, 9, 14)
fig = Figure(figsize=(13, 6.5))
axes = fig.subplots(2, 3)
for col, init_name in enumerate(("N(0, 1)", "N(0, 0.01²)", "Xavier (gain 5/3)")):
    res = results["tanh", init_name]
    for layer in shown_layers:
        axes[0, col].hist(res["acts"][layer].ravel(), bins=60, range=(-1, 1), histtype="step", density=True,
                          label=f"layer {layer + 1}")  # fmt: skip
        g = np.abs(res["grads"][layer].ravel().astype(np.float64)) + 1e-45
        axes[1, col].hist(np.log10(g), bins=60, histtype="step", density=True, label=f"layer {layer + 1}")
    axes[0, col].set(title=f"tanh, {init_name}: activations", xlabel="activation h", ylabel="density")
    axes[1, col].set(title=f"tanh, {init_name}: gradients", xlabel="log10 |dL/dh|", ylabel="density")
    axes[0, col].legend(fontsize=7)
    axes[1, col].legend(fontsize=7)
fig.tight_layout()
show(fig, "14_tanh_histograms.png")

# %%
fig = Figure(figsize=(13, 6.5))
axes = fig.subplots(2, 3)
for col, init_name in enumerate(("N(0, 1)", "Xavier (gain 1)", "Kaiming (ReLU)")):
    res = results["relu", init_name]
    for layer in shown_layers:
        a = res["acts"][layer].ravel().astype(np.float64)
        axes[0, col].hist(np.log10(a[a > 0]), bins=60, histtype="step", density=True, label=f"layer {layer + 1}")
        g = np.abs(res["grads"][layer].ravel().astype(np.float64))
        axes[1, col].hist(np.log10(g[g > 0]), bins=60, histtype="step", density=True, label=f"layer {layer + 1}")
    axes[0, col].set(title=f"ReLU, {init_name}: activations > 0", xlabel="log10 h", ylabel="density")
    axes[1, col].set(title=f"ReLU, {init_name}: gradients", xlabel="log10 |dL/dh|", ylabel="density")
    axes[0, col].legend(fontsize=7)
    axes[1, col].legend(fontsize=7)
fig.tight_layout()
show(fig, "14_relu_histograms.png")

# %%
fig = Figure(figsize=(12, 7.5))
axes = fig.subplots(2, 2)
layers_axis = np.arange(1, DEPTH + 1)
for row, activation in enumerate(ACTIVATIONS):
    for col, (key, what) in enumerate((("act_var", "Var(h)"), ("grad_var", "Var(dL/dh)"))):
        ax = axes[row, col]
        for init_name in INITS:
            ax.plot(layers_axis, results[activation, init_name][key], marker=".", label=init_name)
        ax.set_yscale("log")
        ax.set(title=f"{activation}: {what} per layer", xlabel="layer", ylabel=f"{what} (log scale)")
        ax.legend(fontsize=7)
fig.tight_layout()
show(fig, "14_variance_per_layer.png")

# %% [markdown]
# ## BatchNorm's backward, derived
#
# For one feature over a batch of $N$ values $x_1..x_N$ (BatchNorm2d also averages over the $H \times W$
# positions; then $N$ counts those too):
# $$ \mu = \frac1N\sum_i x_i,\qquad \sigma^2 = \frac1N\sum_i (x_i-\mu)^2,\qquad \hat\sigma = \sqrt{\sigma^2+\epsilon},
#    \qquad \hat x_i = \frac{x_i-\mu}{\hat\sigma},\qquad y_i = \gamma\hat x_i + \beta . $$
# Given the upstream gradient $dy_i = \partial L/\partial y_i$, the parameters are easy:
# $d\beta = \sum_i dy_i$, $d\gamma = \sum_i dy_i\,\hat x_i$, and $d\hat x_i = \gamma\, dy_i$.
#
# The input is the interesting part: $x_i$ reaches *every* $\hat x_j$, directly and through $\mu$ and $\sigma$.
# $\partial\mu/\partial x_i = 1/N$; $\partial\sigma^2/\partial x_i = \frac2N(x_i-\mu)$ (the term through $\mu$ is
# $-\frac2N\sum_j(x_j-\mu)\cdot\frac1N = 0$), so $\partial\hat\sigma/\partial x_i = \frac{x_i-\mu}{N\hat\sigma}
# = \hat x_i/N$. Then, by the quotient rule,
# $$ \frac{\partial \hat x_j}{\partial x_i} = \frac{\delta_{ij} - \frac1N}{\hat\sigma}
#    - \frac{x_j-\mu}{\hat\sigma^2}\cdot\frac{\hat x_i}{N}
#    = \frac{1}{N\hat\sigma}\bigl(N\delta_{ij} - 1 - \hat x_i \hat x_j\bigr), $$
# and summing over $j$:
# $$ \boxed{\; dx_i = \sum_j d\hat x_j \frac{\partial\hat x_j}{\partial x_i}
#    = \frac{1}{N\hat\sigma}\Bigl(N\,d\hat x_i - \sum_j d\hat x_j - \hat x_i\sum_j d\hat x_j\,\hat x_j\Bigr),
#    \qquad d\hat x = \gamma\, dy \;} $$
# The three terms: the direct path, the path through the mean (moving $x_i$ shifts every $\hat x_j$), and the
# path through the variance (moving $x_i$ rescales every $\hat x_j$).
#
# **LayerNorm** is the same computation with the roles of the axes swapped: $\mu$ and $\sigma$ are taken over
# the $D$ features of *each sample*, so the same formula holds with $N \to D$ and the sums running over the
# features of one sample; $d\gamma$ and $d\beta$ are then summed over the batch. One Function serves both in the
# library, written with means instead of sums (divide the bracket by $N$):

# %%
quote(Normalize)


# %% [markdown]
# ### By hand in NumPy, checked against the library and against finite differences (float64)


# %%
def norm_backward(dy: np.ndarray, x: np.ndarray, gamma: np.ndarray, axes: tuple[int, ...], eps: float):
    """dx, dγ, dβ of y = γ·x̂ + β with the statistics over ``axes``: the boxed formula, in sums."""
    n = np.prod([x.shape[a] for a in axes])
    mu = x.mean(axis=axes, keepdims=True)
    sigma = np.sqrt(((x - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    x_hat = (x - mu) / sigma
    dx_hat = dy * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=axes, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=axes, keepdims=True)) / (n * sigma)  # fmt: skip
    param_axes = tuple(a for a in range(x.ndim) if gamma.shape[a] == 1)  # where γ was broadcast
    return dx, (dy * x_hat).sum(axis=param_axes), dy.sum(axis=param_axes)


rng = np.random.default_rng(1)
EPS = 1e-5
# BatchNorm1d on (N=32, C=6): statistics over the batch axis.
x_np, dy_np = rng.normal(2.0, 3.0, (32, 6)), rng.standard_normal((32, 6))
g_np, b_np = rng.normal(1.0, 0.5, 6), rng.standard_normal(6)
x, gamma, beta = (tge.tensor(a, requires_grad=True) for a in (x_np, g_np, b_np))
F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS).backward(tge.tensor(dy_np))
dx, dg, db = norm_backward(dy_np, x_np, g_np.reshape(1, 6), (0,), EPS)
for name, mine, lib in (("dx", dx, x.grad), ("dγ", dg, gamma.grad), ("dβ", db, beta.grad)):
    print(f"BatchNorm {name}: max |by hand − library| = {np.abs(mine - lib.numpy()).max():.2e}")
    np.testing.assert_allclose(mine, lib.numpy(), rtol=1e-10, atol=1e-12)

# LayerNorm on (N=4, L=5, D=8): statistics over the last axis of each token.
x_np, dy_np = rng.normal(-1.0, 2.0, (4, 5, 8)), rng.standard_normal((4, 5, 8))
g_np, b_np = rng.normal(1.0, 0.5, 8), rng.standard_normal(8)
x, gamma, beta = (tge.tensor(a, requires_grad=True) for a in (x_np, g_np, b_np))
F.layer_norm(x, 8, gamma, beta, eps=EPS).backward(tge.tensor(dy_np))
dx, dg, db = norm_backward(dy_np, x_np, g_np.reshape(1, 1, 8), (2,), EPS)
for name, mine, lib in (("dx", dx, x.grad), ("dγ", dg, gamma.grad), ("dβ", db, beta.grad)):
    print(f"LayerNorm {name}: max |by hand − library| = {np.abs(mine - lib.numpy()).max():.2e}")
    np.testing.assert_allclose(mine, lib.numpy(), rtol=1e-10, atol=1e-12)

# %% [markdown]
# `tge.gradcheck` compares the backward of every input with central finite differences
# $\frac{f(x+h)-f(x-h)}{2h}$ in float64. Here also BatchNorm2d's layout, where one feature (channel) is
# averaged over the batch *and* the 3×3 positions, and one finite difference written out by hand.

# %%
x4 = tge.tensor(rng.standard_normal((5, 3, 3, 3)), requires_grad=True)
g3, b3 = tge.tensor(rng.normal(1, 0.3, 3), requires_grad=True), tge.tensor(rng.standard_normal(3), requires_grad=True)
assert tge.gradcheck(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), [x4, g3, b3])
x3 = tge.tensor(rng.standard_normal((2, 4, 6)), requires_grad=True)
g6, b6 = tge.tensor(rng.normal(1, 0.3, 6), requires_grad=True), tge.tensor(rng.standard_normal(6), requires_grad=True)
assert tge.gradcheck(lambda x, g, b: F.layer_norm(x, 6, g, b), [x3, g6, b6])
print("gradcheck: BatchNorm2d and LayerNorm backward agree with finite differences")

x_np, dy_np = rng.standard_normal((16, 3)), rng.standard_normal((16, 3))
loss = lambda a: float((F.batch_norm(tge.tensor(a), None, None, training=True).numpy() * dy_np).sum())  # noqa: E731
h, bump = 1e-6, np.zeros_like(x_np)
bump[7, 2] = h
numeric = (loss(x_np + bump) - loss(x_np - bump)) / (2 * h)
analytic = norm_backward(dy_np, x_np, np.ones((1, 3)), (0,), 1e-5)[0][7, 2]
print(f"dL/dx[7, 2]: by hand {analytic:.8f}, finite difference {numeric:.8f}")
assert abs(analytic - numeric) < 1e-7

# %% [markdown]
# ## Exercises
#
# 1. **BatchNorm rescues a bad initialisation.** Put `nn.BatchNorm1d(256)` after each `Linear` of the 15-layer
#    ReLU stack initialised with $\mathcal N(0,1)$ (the one that exploded to $10^{31}$). What is the variance of
#    each layer's output now? Predict it first: a standardised $z$ through ReLU has
#    $\mathrm{Var}(\mathrm{relu}(z)) = \tfrac12 - \tfrac1{2\pi}$.
# 2. **Leaky ReLU.** Derive the Kaiming gain for leaky ReLU with slope $a$ (it keeps $a^2$ of the negative
#    half's energy) and check it against `nn.init.calculate_gain("leaky_relu", 0.2)`; then verify that a 15-layer
#    leaky-ReLU stack initialised with `kaiming_normal_(w, a=0.2)` keeps its activation variance flat.
# 3. **Two sums that are always zero.** Show from the boxed formula that for BatchNorm (per feature)
#    $\sum_i dx_i = 0$ and $\sum_i dx_i\,\hat x_i = 0$, whatever $dy$ is, and check it on the library's gradient.
#    Why must it be so? (Hint: what happens to $y$ if you shift all $x_i$ by the same amount, or scale them?)

# %% tags=["solution"] jupyter={"source_hidden": true}
tge.manual_seed(0)
h, variances = x0, []
with tge.no_grad():
    for _ in range(DEPTH):
        layer = nn.Linear(WIDTH, WIDTH, bias=False)
        nn.init.normal_(layer.weight, 0.0, 1.0)
        h = nn.BatchNorm1d(WIDTH)(layer(h)).relu()  # a fresh BatchNorm1d is in training mode: batch statistics
        variances.append(h.numpy().var(dtype=np.float64))
predicted = 0.5 - 1 / (2 * np.pi)
print(f"Var(h) per layer with BatchNorm: {np.round(variances, 3)}; predicted {predicted:.3f}")
assert all(abs(v / predicted - 1) < 0.1 for v in variances)

# %% tags=["solution"] jupyter={"source_hidden": true}
# E[h²] = ½Var(z) + ½a²Var(z) = (1 + a²)/2 · Var(z), so Var(w) = 2/((1 + a²) n): gain √(2/(1 + a²)).
a = 0.2
assert np.isclose(nn.init.calculate_gain("leaky_relu", a), np.sqrt(2 / (1 + a**2)))
tge.manual_seed(0)
h, variances = x0, []
with tge.no_grad():
    for _ in range(DEPTH):
        layer = nn.Linear(WIDTH, WIDTH, bias=False)
        nn.init.kaiming_normal_(layer.weight, a=a, nonlinearity="leaky_relu")
        h = F.leaky_relu(layer(h), a)
        variances.append(h.numpy().var(dtype=np.float64))
factor = (variances[-1] / variances[0]) ** (1 / (DEPTH - 1))
print(f"leaky ReLU (a={a}) + Kaiming: Var(h) layers 2-15 from {min(variances[1:]):.3f} to {max(variances[1:]):.3f}, "
      f"×{factor:.3f} per layer on average")  # fmt: skip
assert spread(np.array(variances)) < 2 and abs(np.log(factor)) < 0.05  # vs ×128 or ×0.5 per layer above

# %% tags=["solution"] jupyter={"source_hidden": true}
# Σᵢ dxᵢ = (1/(Nσ̂))(N Σdx̂ − N Σdx̂ − Σx̂ · Σdx̂x̂) = 0 since Σx̂ = 0;
# Σᵢ dxᵢ x̂ᵢ = (1/(Nσ̂))(N Σdx̂x̂ − Σdx̂ · Σx̂ − Σx̂² · Σdx̂x̂) = 0 since Σx̂ = 0 and Σx̂² = N (ε aside).
# y does not change when all xᵢ move together or are scaled about their mean, so L cannot change either:
# the gradient has no component along those two directions.
x = tge.tensor(rng.normal(3.0, 2.0, (64, 4)), requires_grad=True)
F.batch_norm(x, None, None, training=True, eps=1e-12).backward(tge.tensor(rng.standard_normal((64, 4))))
x_hat = (x.numpy() - x.numpy().mean(0)) / x.numpy().std(0)
sum_dx, sum_dx_xhat = x.grad.numpy().sum(0), (x.grad.numpy() * x_hat).sum(0)
print(f"Σ dx per feature {sum_dx.round(12)}, Σ dx·x̂ per feature {sum_dx_xhat.round(12)}")
assert np.abs(sum_dx).max() < 1e-10 and np.abs(sum_dx_xhat).max() < 1e-10

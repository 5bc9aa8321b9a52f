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
# # 01 · One derivative, three ways
#
# **You will be able to:** compute a derivative by hand, by `backward()` and by finite differences, and check that
# the three agree; choose the finite-difference step $h$ from the trade-off between truncation and rounding error;
# apply the chain rule through one sigmoid neuron and find the same rule in the library's own code; and check any
# function's gradient with `tge.gradcheck`.
#
# **Run time:** about 1 s of CPU time (`TGE_FAST=1`: about 1 s).
#
# Everything in deep learning rests on one question: *if I nudge this number, how much does the loss
# move?* That is a derivative. In this lesson we compute the same derivatives three ways and check
# that they agree:
#
# 1. **by hand**, with the rules of calculus;
# 2. **by backward**, the way tinygrad_edu (and PyTorch) do it: each operation knows its own local
#    derivative, and the chain rule multiplies them together from the output back to the inputs;
# 3. **by finite differences**, nudging the input a tiny bit and watching the output: slow, but it
#    needs no calculus at all, so it is the referee.
#
# Run it as a script (`python tutorials/01_derivatives.py`, figures go to `tutorials/out/`) or open it as a
# notebook (`jupyter lab tutorials`, see the README's "Learn" section).

# %%
import math

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu.course import quote, show
from tinygrad_edu.ops.activation import Sigmoid

# %% [markdown]
# ## A first function: $f(x) = x^2 + 3x$ at $x = 2$
#
# **By hand.** The power rule $\frac{d}{dx} x^n = n x^{n-1}$ gives $f'(x) = 2x + 3$, so $f'(2) = \mathbf{7}$.

# %%
x0 = 2.0
by_hand = 2 * x0 + 3
print("by hand:            ", by_hand)

# %% [markdown]
# **By backward.** We build $f$ from operations on a tensor that *requires grad*; `backward()` walks
# the recorded operations in reverse and leaves $df/dx$ in `x.grad`.

# %%
x = tge.tensor(x0, dtype=tge.float64, requires_grad=True)
f = x**2 + 3 * x
f.backward()
by_backward = x.grad.item()
print("by backward:        ", by_backward)

# %% [markdown]
# **By finite differences.** The derivative is the limit of a slope. The *central* difference
#
# $$ f'(x) \approx \frac{f(x+h) - f(x-h)}{2h} $$
#
# is exact for quadratics and, in general, wrong only by about $\frac{h^2}{6} f^{(3)}(x)$ (expand both
# $f(x \pm h)$ in a Taylor series: the even terms cancel).


# %%
def f_plain(x: float) -> float:
    return x**2 + 3 * x


h = 1e-6
by_differences = (f_plain(x0 + h) - f_plain(x0 - h)) / (2 * h)
print("by finite differences:", by_differences)
assert abs(by_hand - by_backward) < 1e-12 and abs(by_hand - by_differences) < 1e-6

# %% [markdown]
# ## How small should $h$ be?
#
# Smaller $h$ means less *truncation* error, but the two values of $f$ get so close that their
# difference loses digits to *rounding*: float64 keeps about 16 digits ($\varepsilon \approx 2.2 \cdot 10^{-16}$),
# and an error of $\varepsilon |f|$ in each value becomes an error of about $\varepsilon |f| / h$ in the slope.
# Watch the error of the forward difference $\frac{f(x+h) - f(x)}{h}$ (truncation $\approx \frac{h}{2} f''$) and of
# the central one (truncation $\approx \frac{h^2}{6} f^{(3)}$) on $f(x) = e^x$ at $x = 1$, where the true
# derivative is $e$:

# %%
print(f"{'h':>8} {'forward error':>15} {'central error':>15}")
table = {}
for k in range(1, 14):
    h = 10.0**-k
    forward = (math.exp(1 + h) - math.exp(1)) / h
    central = (math.exp(1 + h) - math.exp(1 - h)) / (2 * h)
    table[h] = (abs(forward - math.e), abs(central - math.e))
    print(f"{h:8.0e} {table[h][0]:15.2e} {table[h][1]:15.2e}")
best_forward = min(table, key=lambda h: table[h][0])
best_central = min(table, key=lambda h: table[h][1])
print(f"best h: forward {best_forward:.0e} (error {table[best_forward][0]:.1e}), "
      f"central {best_central:.0e} (error {table[best_central][1]:.1e})")  # fmt: skip

# %% [markdown]
# Read the table. The forward error shrinks like $h$ (one digit per row) all the way down to
# $h \approx 10^{-8}$, where it bottoms out near $10^{-8}$: that is where truncation $\frac{h}{2}e$ meets rounding
# $\varepsilon e / h$, at $h \approx \sqrt{\varepsilon} \approx 1.5 \cdot 10^{-8}$. The central error shrinks like
# $h^2$ (two digits per row) and so reaches its floor much sooner: already at $h = 10^{-5}$
# ($\approx \varepsilon^{1/3}$) it is about $10^{-10}$, and from there down to $h = 10^{-7}$ it only wanders in
# rounding noise at that level. Below $10^{-8}$ both get *worse*, about one digit per row: rounding has taken
# over. The central difference is better by two orders of magnitude, and at a larger, safer $h$. That is why
# `tge.gradcheck` uses central differences, in float64, with $h = 10^{-6}$: inside the flat bottom of the
# central curve.

# %%
assert 1e-9 <= best_forward <= 1e-7 and table[best_forward][0] < 1e-7  # forward: best near √ε ≈ 1.5e-8
assert table[1e-5][1] < 1e-9 and table[1e-5][1] < 3 * table[best_central][1]  # central: at its floor by 1e-5
assert all(table[h][1] < 1e-9 for h in (1e-5, 1e-6, 1e-7))  # ... and stays there down to 1e-7
assert all(table[h][0] > 10 * table[best_forward][0] and table[h][1] > 10 * table[best_central][1]
           for h in (1e-11, 1e-12, 1e-13))  # fmt: skip  # for tiny h, rounding wins
assert table[best_central][1] < table[best_forward][0] / 100  # central is better by > two orders of magnitude

# %% [markdown]
# The same on a finer grid of $h$, with the error models drawn in: truncation ($\frac{h}{2}e$ and
# $\frac{h^2}{6}e$) and rounding ($\varepsilon e / h$). Where a measured curve leaves its truncation line, rounding
# has taken over.

# %%
hs = 10.0 ** np.linspace(-13, -1, 97)
forward_err = np.abs((np.exp(1 + hs) - np.exp(1)) / hs - np.e)
central_err = np.abs((np.exp(1 + hs) - np.exp(1 - hs)) / (2 * hs) - np.e)
eps = np.finfo(np.float64).eps
fig = Figure(figsize=(6.5, 4))
ax = fig.subplots()
ax.loglog(hs, forward_err, "o-", ms=3, label="forward difference, measured")
ax.loglog(hs, central_err, "s-", ms=3, label="central difference, measured")
ax.loglog(hs, hs / 2 * np.e, "--", label=r"truncation $\frac{h}{2}e$")
ax.loglog(hs, hs**2 / 6 * np.e, "--", label=r"truncation $\frac{h^2}{6}e$")
ax.loglog(hs, eps * np.e / hs, ":", color="k", label=r"rounding $\varepsilon e / h$")
ax.set_ylim(1e-13, 1)
ax.set_xlabel("step h")
ax.set_ylabel("|error| of the estimate of f'(1) = e")
ax.set_title("Finite differences of $e^x$ at x = 1: truncation against rounding")
ax.legend(fontsize=7)
show(fig, "01_step_size.png")
assert hs[np.argmin(central_err)] > hs[np.argmin(forward_err)]  # the central difference's best h is larger

# %% [markdown]
# ## The chain rule: one neuron
#
# Take $y = \sigma(w x + b)$, the sigmoid of a weighted input, with $w = 0.5$, $x = 2$, $b = -1$, and
# $\sigma(z) = \frac{1}{1 + e^{-z}}$.
#
# **By hand.** Name the middle value $z = w x + b = 0.5 \cdot 2 - 1 = 0$, so $y = \sigma(0) = 0.5$. The sigmoid's
# derivative is $\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = 0.5 \cdot 0.5 = 0.25$. The chain rule multiplies the
# local derivatives along the path from each input to $y$:
#
# $$ \frac{\partial y}{\partial w} = \sigma'(z)\,\frac{\partial z}{\partial w} = 0.25 \cdot x = \mathbf{0.5}, \qquad
#    \frac{\partial y}{\partial b} = \sigma'(z) \cdot 1 = \mathbf{0.25}, \qquad
#    \frac{\partial y}{\partial x} = \sigma'(z)\, w = \mathbf{0.125}. $$

# %%
w = tge.tensor(0.5, dtype=tge.float64, requires_grad=True)
x = tge.tensor(2.0, dtype=tge.float64, requires_grad=True)
b = tge.tensor(-1.0, dtype=tge.float64, requires_grad=True)
y = (w * x + b).sigmoid()
y.backward()
print("y =", y.item())
print("by backward:  dy/dw =", w.grad.item(), " dy/db =", b.grad.item(), " dy/dx =", x.grad.item())
assert (w.grad.item(), b.grad.item(), x.grad.item()) == (0.5, 0.25, 0.125)

# %% [markdown]
# What did backward do? `y` remembers the operation that made it (`y.grad_fn`), that operation
# remembers where each input came from (`grad_fn.next_functions`, PyTorch's name), and so on back
# to the leaves. Each operation's `backward` is a few lines in `tinygrad_edu/ops/`. Here is the sigmoid's,
# as the library has it: the docstring states $y = 1/(1+e^{-x})$ and $dx = dy \cdot y\,(1-y)$, and `backward`
# is that line, using the $y$ that `forward` saved. Then a check of $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ at three
# points.

# %%
print(y.grad_fn, "<-", y.grad_fn.next_functions[0])
source = quote(Sigmoid)
assert "dy * y * (1 - y)" in source
z = tge.tensor([-3.0, 0.0, 2.0], dtype=tge.float64, requires_grad=True)
z.sigmoid().sum().backward()
s = 1 / (1 + np.exp(-np.array([-3.0, 0.0, 2.0])))
np.testing.assert_allclose(z.grad.numpy(), s * (1 - s), rtol=1e-15)


# %% [markdown]
# **By finite differences**, nudging one input at a time:


# %%
def neuron(w: float, x: float, b: float) -> float:
    return 1 / (1 + math.exp(-(w * x + b)))


h = 1e-6
numeric = [
    (neuron(0.5 + h, 2, -1) - neuron(0.5 - h, 2, -1)) / (2 * h),
    (neuron(0.5, 2, -1 + h) - neuron(0.5, 2, -1 - h)) / (2 * h),
    (neuron(0.5, 2 + h, -1) - neuron(0.5, 2 - h, -1)) / (2 * h),
]
dw, db, dx = numeric
print(f"by finite differences: dy/dw = {dw:.6f}  dy/db = {db:.6f}  dy/dx = {dx:.6f}")
assert all(abs(a - n) < 1e-8 for a, n in zip((0.5, 0.25, 0.125), numeric))

# %% [markdown]
# ## The referee, automated: `tge.gradcheck`
#
# `gradcheck` does the finite-difference check for every element of every input that requires
# grad, in float64, and raises an error naming the input and the index if backward disagrees. Use
# it on any function you write, including your own operations.

# %%
tge.manual_seed(0)
w = tge.randn(3, 4, dtype=tge.float64, requires_grad=True)
x = tge.randn(4, dtype=tge.float64, requires_grad=True)
b = tge.randn(3, dtype=tge.float64, requires_grad=True)
print("gradcheck:", tge.gradcheck(lambda w, x, b: (w @ x + b).sigmoid(), [w, x, b]))

# %% [markdown]
# ## Exercises
#
# 1. Differentiate $g(x) = x^2 \sin x$ at $x = 1$ by hand (product rule), by `backward()` and by a central
#    difference, and check that the three agree.
# 2. Repeat the step-size experiment in **float32** (`np.float32` throughout, $\varepsilon \approx 1.2 \cdot 10^{-7}$).
#    Which $h$ is best for the central difference now, and how good is the best estimate? (Predict first: the
#    best $h$ is near $\varepsilon^{1/3}$.)
# 3. Replace the sigmoid of the neuron by $\tanh$: $y = \tanh(w x + b)$ at the same $w, x, b$. Work out
#    $\partial y/\partial w$ and $\partial y/\partial b$ with $\tanh'(z) = 1 - \tanh^2(z)$ and check them with
#    `backward()`.
#
# The answers are below, folded: click the cell's left bar (or the "…") to open one. Try first.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Product rule: g'(x) = 2x·sin x + x²·cos x.
g_by_hand = 2 * 1 * math.sin(1) + 1**2 * math.cos(1)
x = tge.tensor(1.0, dtype=tge.float64, requires_grad=True)
(x**2 * x.sin()).backward()
h = 1e-6
g_by_differences = ((1 + h) ** 2 * math.sin(1 + h) - (1 - h) ** 2 * math.sin(1 - h)) / (2 * h)
print(f"g'(1): by hand {g_by_hand:.10f}, by backward {x.grad.item():.10f}, by differences {g_by_differences:.10f}")
assert abs(x.grad.item() - g_by_hand) < 1e-12 and abs(g_by_differences - g_by_hand) < 1e-8

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. In float32, rounding is about 10⁹ times larger, so the best h is much larger and the best error far worse.
one = np.float32(1.0)
errors32 = {}
for k in range(1, 8):
    h32 = np.float32(10.0**-k)
    central32 = (np.exp(one + h32) - np.exp(one - h32)) / (np.float32(2) * h32)
    errors32[10.0**-k] = abs(float(central32) - math.e)
best32 = min(errors32, key=errors32.get)
eps32 = float(np.finfo(np.float32).eps)
print(f"float32: best h = {best32:.0e} (ε^(1/3) = {eps32 ** (1 / 3):.1e}), error {errors32[best32]:.1e}")
assert 1e-3 <= best32 <= 1e-1 and errors32[best32] > 1e-6  # far from float64's 1e-10
assert errors32[1e-6] > 100 * errors32[best32]  # float64's favourite h is useless in float32

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. z = 0, tanh(0) = 0, tanh'(0) = 1 − 0² = 1, so dy/dw = 1 · x = 2 and dy/db = 1.
w = tge.tensor(0.5, dtype=tge.float64, requires_grad=True)
b = tge.tensor(-1.0, dtype=tge.float64, requires_grad=True)
(w * 2.0 + b).tanh().backward()
print("dy/dw =", w.grad.item(), " dy/db =", b.grad.item())
assert (w.grad.item(), b.grad.item()) == (2.0, 1.0)

# %% [markdown]
# **Next:** 02 · backprop by hand through a small network, with every number written down.

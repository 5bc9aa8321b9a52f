# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # 01 · One derivative, three ways
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
# Run it as a script (`python tutorials/01_derivatives.py`) or open it as a notebook with jupytext.

# %%
import math

import tinygrad_edu as tge

# %% [markdown]
# ## A first function: f(x) = x² + 3x at x = 2
#
# **By hand.** The power rule gives f'(x) = 2x + 3, so f'(2) = **7**.

# %%
x0 = 2.0
by_hand = 2 * x0 + 3
print("by hand:            ", by_hand)

# %% [markdown]
# **By backward.** We build f from operations on a tensor that *requires grad*; `backward()` walks
# the recorded operations in reverse and leaves df/dx in `x.grad`.

# %%
x = tge.tensor(x0, dtype=tge.float64, requires_grad=True)
f = x**2 + 3 * x
f.backward()
by_backward = x.grad.item()
print("by backward:        ", by_backward)

# %% [markdown]
# **By finite differences.** The derivative is the limit of a slope. The *central* difference
# (f(x+h) − f(x−h)) / 2h is exact for quadratics and, in general, wrong only by about h²·f'''/6.


# %%
def f_plain(x: float) -> float:
    return x**2 + 3 * x


h = 1e-6
by_differences = (f_plain(x0 + h) - f_plain(x0 - h)) / (2 * h)
print("by finite differences:", by_differences)
assert abs(by_hand - by_backward) < 1e-12 and abs(by_hand - by_differences) < 1e-6

# %% [markdown]
# ## How small should h be?
#
# Smaller h means less *truncation* error, but the two values of f get so close that their
# difference loses digits to *rounding* (float64 keeps about 16). Watch the error of both the
# forward difference (f(x+h) − f(x)) / h and the central one on f(x) = eˣ at x = 1, where the
# true derivative is e:

# %%
print(f"{'h':>8} {'forward error':>15} {'central error':>15}")
for k in range(1, 13, 2):
    h = 10.0**-k
    forward = (math.exp(1 + h) - math.exp(1)) / h
    central = (math.exp(1 + h) - math.exp(1 - h)) / (2 * h)
    print(f"{h:8.0e} {abs(forward - math.e):15.2e} {abs(central - math.e):15.2e}")

# %% [markdown]
# The forward error shrinks like h, the central one like h², until rounding takes over near
# h ≈ 1e−5 … 1e−6. That is why `tge.gradcheck` uses central differences, in float64, with h = 1e−6.
#
# ## The chain rule: one neuron
#
# Take y = σ(w·x + b), the sigmoid of a weighted input, with w = 0.5, x = 2, b = −1.
#
# **By hand.** Name the middle value z = w·x + b = 0.5·2 − 1 = 0, so y = σ(0) = 0.5. The sigmoid's
# derivative is σ'(z) = σ(z)(1 − σ(z)) = 0.5 · 0.5 = 0.25. The chain rule multiplies the local
# derivatives along the path from w to y:
#
# - dy/dw = σ'(z) · dz/dw = 0.25 · x = 0.25 · 2 = **0.5**
# - dy/db = σ'(z) · dz/db = 0.25 · 1 = **0.25**
# - dy/dx = σ'(z) · dz/dx = 0.25 · w = **0.125**

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
# to the leaves. Each operation's `backward` is a few lines in
# `tinygrad_edu/ops/`; the sigmoid's is literally `dx = dy * y * (1 - y)`. Open
# `tinygrad_edu/ops/activation.py` and find it.

# %%
print(y.grad_fn, "<-", y.grad_fn.next_functions[0])


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
w = tge.randn(3, 4, dtype=tge.float64, requires_grad=True)
x = tge.randn(4, dtype=tge.float64, requires_grad=True)
b = tge.randn(3, dtype=tge.float64, requires_grad=True)
print("gradcheck:", tge.gradcheck(lambda w, x, b: (w @ x + b).sigmoid(), [w, x, b]))

# %% [markdown]
# **Next:** 02 · backprop by hand through a small network, with every number written down.

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
# # 02 · Backprop by hand, with every number written down
#
# Worked backprop examples circulate with wrong numbers: a sign slipped, a bias forgotten, a
# derivative taken at the wrong point. Here every number is *computed* from the written-out chain
# rule, then checked against `backward()` and against finite differences. If any of the three
# disagreed, this script would stop with an assertion error.
#
# The network: 2 inputs → 2 hidden units (sigmoid) → 2 outputs (sigmoid), loss
# E = ½ Σₖ (tₖ − oₖ)².
#
# | weight | from → to | | weight | from → to |
# |---|---|---|---|---|
# | w1 | i1 → h1 | | w5 | h1 → o1 |
# | w2 | i1 → h2 | | w6 | h1 → o2 |
# | w3 | i2 → h1 | | w7 | h2 → o1 |
# | w4 | i2 → h2 | | w8 | h2 → o2 |
#
# so h1 = σ(w1·i1 + w3·i2 + b1), h2 = σ(w2·i1 + w4·i2 + b1), o1 = σ(w5·h1 + w7·h2 + b2),
# o2 = σ(w6·h1 + w8·h2 + b2).

# %%
import math
from pathlib import Path

import numpy as np

import tinygrad_edu as tge
from tinygrad_edu import viz

OUT = Path(__file__).resolve().parent / "out" if "__file__" in globals() else Path("out")  # figures (git-ignored)
OUT.mkdir(exist_ok=True)


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


i1, i2 = 0.05, 0.10  # inputs
t1, t2 = 0.01, 0.99  # targets
w1, w2, w3, w4 = 0.15, 0.25, 0.20, 0.30  # input -> hidden (see the table)
w5, w6, w7, w8 = 0.40, 0.50, 0.45, 0.55  # hidden -> output
b1, b2 = 0.35, 0.60  # one bias shared by each layer's units, to keep the picture small

# %% [markdown]
# ## Forward pass, by hand

# %%
z_h1 = w1 * i1 + w3 * i2 + b1
z_h2 = w2 * i1 + w4 * i2 + b1
h1, h2 = sigma(z_h1), sigma(z_h2)
z_o1 = w5 * h1 + w7 * h2 + b2
z_o2 = w6 * h1 + w8 * h2 + b2
o1, o2 = sigma(z_o1), sigma(z_o2)
E = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
print(f"z_h1 = {z_h1:.9f}   h1 = σ(z_h1) = {h1:.9f}")
print(f"z_h2 = {z_h2:.9f}   h2 = σ(z_h2) = {h2:.9f}")
print(f"z_o1 = {z_o1:.9f}   o1 = σ(z_o1) = {o1:.9f}")
print(f"z_o2 = {z_o2:.9f}   o2 = σ(z_o2) = {o2:.9f}")
print(f"E = ½(t1 − o1)² + ½(t2 − o2)² = {E:.9f}")

# %% [markdown]
# ## Backward pass, by hand
#
# Work from the loss back. For an output unit, ∂E/∂oₖ = oₖ − tₖ, and the sigmoid contributes
# σ'(z) = o(1 − o). Their product is the unit's **delta**, δₖ = ∂E/∂zₖ. A weight's gradient is the
# delta of the unit it feeds times the value it carries: ∂E/∂w5 = δ_o1 · h1.

# %%
delta_o1 = (o1 - t1) * o1 * (1 - o1)
delta_o2 = (o2 - t2) * o2 * (1 - o2)
print(f"δ_o1 = (o1 − t1)·o1(1 − o1) = {delta_o1:.9f}")
print(f"δ_o2 = (o2 − t2)·o2(1 − o2) = {delta_o2:.9f}")
dw5, dw7 = delta_o1 * h1, delta_o1 * h2
dw6, dw8 = delta_o2 * h1, delta_o2 * h2
db2 = delta_o1 + delta_o2  # b2 feeds both outputs: its gradient collects both deltas

# %% [markdown]
# A hidden unit feeds *both* outputs, so its gradient collects both paths (the chain rule sums over
# paths): ∂E/∂h1 = δ_o1·w5 + δ_o2·w6. Then through its own sigmoid: δ_h1 = ∂E/∂h1 · h1(1 − h1).
# Note that w5 and w6 here are the weights *before* any update: all gradients are taken at one point.

# %%
delta_h1 = (delta_o1 * w5 + delta_o2 * w6) * h1 * (1 - h1)
delta_h2 = (delta_o1 * w7 + delta_o2 * w8) * h2 * (1 - h2)
print(f"δ_h1 = (δ_o1·w5 + δ_o2·w6)·h1(1 − h1) = {delta_h1:.9f}")
print(f"δ_h2 = (δ_o1·w7 + δ_o2·w8)·h2(1 − h2) = {delta_h2:.9f}")
dw1, dw3 = delta_h1 * i1, delta_h1 * i2
dw2, dw4 = delta_h2 * i1, delta_h2 * i2
db1 = delta_h1 + delta_h2
by_hand = {"w1": dw1, "w2": dw2, "w3": dw3, "w4": dw4, "w5": dw5, "w6": dw6, "w7": dw7, "w8": dw8, "b1": db1, "b2": db2}

# %% [markdown]
# ## The same network with tensors, and `backward()`
#
# The weights become matrices: row j of W1 holds the weights *into* hidden unit j. The whole
# forward pass is two lines, and `backward()` computes every gradient above at once.

# %%
f64 = tge.float64
W1 = tge.tensor([[w1, w3], [w2, w4]], dtype=f64, requires_grad=True)
W2 = tge.tensor([[w5, w7], [w6, w8]], dtype=f64, requires_grad=True)
B1 = tge.tensor(b1, dtype=f64, requires_grad=True)
B2 = tge.tensor(b2, dtype=f64, requires_grad=True)
i = tge.tensor([i1, i2], dtype=f64)
t = tge.tensor([t1, t2], dtype=f64)


def network(W1, W2, B1, B2):
    h = (W1 @ i + B1).sigmoid()
    o = (W2 @ h + B2).sigmoid()
    return 0.5 * ((t - o) ** 2).sum()


loss = network(W1, W2, B1, B2)
loss.backward()
by_backward = {
    "w1": W1.grad[0, 0].item(), "w3": W1.grad[0, 1].item(), "w2": W1.grad[1, 0].item(), "w4": W1.grad[1, 1].item(),
    "w5": W2.grad[0, 0].item(), "w7": W2.grad[0, 1].item(), "w6": W2.grad[1, 0].item(), "w8": W2.grad[1, 1].item(),
    "b1": B1.grad.item(), "b2": B2.grad.item(),
}  # fmt: skip
assert abs(loss.item() - E) < 1e-15

# %% [markdown]
# ## The referee: finite differences on every parameter

# %%
params = {"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5": w5, "w6": w6, "w7": w7, "w8": w8, "b1": b1, "b2": b2}


def loss_of(p: dict) -> float:
    h1 = sigma(p["w1"] * i1 + p["w3"] * i2 + p["b1"])
    h2 = sigma(p["w2"] * i1 + p["w4"] * i2 + p["b1"])
    o1 = sigma(p["w5"] * h1 + p["w7"] * h2 + p["b2"])
    o2 = sigma(p["w6"] * h1 + p["w8"] * h2 + p["b2"])
    return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2


def numeric_gradient(name: str, h: float = 1e-6) -> float:
    up, down = dict(params), dict(params)
    up[name] += h
    down[name] -= h
    return (loss_of(up) - loss_of(down)) / (2 * h)


print(f"{'':>4} {'by hand':>14} {'by backward':>14} {'finite diff.':>14}")
for name in params:
    numeric = numeric_gradient(name)
    print(f"{name:>4} {by_hand[name]:14.9f} {by_backward[name]:14.9f} {numeric:14.9f}")
    assert abs(by_hand[name] - by_backward[name]) < 1e-15
    assert abs(by_hand[name] - numeric) < 1e-9
assert tge.gradcheck(network, [W1, W2, B1, B2])

# %% [markdown]
# ## One step of gradient descent
#
# With learning rate η = 0.5, every parameter moves against its gradient: θ ← θ − η·∂E/∂θ, all at
# once, using the gradients computed above (never a gradient taken after another weight has already
# moved). The loss goes down:

# %%
eta = 0.5
with tge.no_grad():
    for p in (W1, W2, B1, B2):
        p -= eta * p.grad
new_loss = network(W1, W2, B1, B2).item()
print(f"E before: {E:.9f}   E after one step: {new_loss:.9f}")
assert new_loss < E
updated = {name: params[name] - eta * by_hand[name] for name in params}
assert abs(loss_of(updated) - new_loss) < 1e-15
print("updated w5 =", f"{updated['w5']:.9f}", " updated w1 =", f"{updated['w1']:.9f}")

# %% [markdown]
# ## See the graph backward walked
#
# `tge.viz.draw_graph(loss)` draws every operation between the parameters and the loss; `backward()`
# visits them right to left, each applying its own local derivative.

# %%
fig = viz.draw_graph(network(W1, W2, B1, B2), names={"W1": W1, "W2": W2, "b1": B1, "b2": B2}, path=OUT / "02_graph.png")
print("graph drawn to", OUT / "02_graph.png")
np.testing.assert_allclose(W1.numpy(), [[w1 - eta * dw1, w3 - eta * dw3], [w2 - eta * dw2, w4 - eta * dw4]])

# %% [markdown]
# **Next:** 03 · broadcasting, and why a bias gradient is a sum over the batch.

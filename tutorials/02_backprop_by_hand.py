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
# **You will be able to:** run the forward and backward pass of a 2-2-2 sigmoid network by hand, naming every
# intermediate value; explain why a hidden unit's delta *sums* over the paths through it; check the hand-made
# gradients against `backward()` and finite differences; take one gradient-descent step correctly (every
# gradient taken at the same point); and read the computation graph that `backward()` walks.
#
# **Run time:** about 1 s of CPU time (`TGE_FAST=1`: about 1 s).
#
# Worked backprop examples circulate with wrong numbers: a sign slipped, a bias forgotten, a
# derivative taken at the wrong point. Here every number is *computed* from the written-out chain
# rule, then checked against `backward()` and against finite differences. If any of the three
# disagreed, this lesson would stop with an assertion error.
#
# The network: 2 inputs → 2 hidden units (sigmoid) → 2 outputs (sigmoid), loss
# $E = \frac{1}{2} \sum_k (t_k - o_k)^2$.
#
# | weight | from → to | | weight | from → to |
# |---|---|---|---|---|
# | $w_1$ | $i_1 \to h_1$ | | $w_5$ | $h_1 \to o_1$ |
# | $w_2$ | $i_1 \to h_2$ | | $w_6$ | $h_1 \to o_2$ |
# | $w_3$ | $i_2 \to h_1$ | | $w_7$ | $h_2 \to o_1$ |
# | $w_4$ | $i_2 \to h_2$ | | $w_8$ | $h_2 \to o_2$ |
#
# so
#
# $$ h_1 = \sigma(w_1 i_1 + w_3 i_2 + b_1), \quad h_2 = \sigma(w_2 i_1 + w_4 i_2 + b_1), \quad
#    o_1 = \sigma(w_5 h_1 + w_7 h_2 + b_2), \quad o_2 = \sigma(w_6 h_1 + w_8 h_2 + b_2). $$

# %%
import math

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu import viz
from tinygrad_edu.course import quote, show, sized
from tinygrad_edu.ops.matmul import MatMul


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
assert abs(z_h1 - 0.3775) < 1e-12 and abs(E - 0.298371109) < 1e-9

# %% [markdown]
# ## Backward pass, by hand
#
# Work from the loss back. For an output unit, $\frac{\partial E}{\partial o_k} = o_k - t_k$, and the sigmoid
# contributes $\sigma'(z) = o\,(1 - o)$. Their product is the unit's **delta**,
#
# $$ \delta_k = \frac{\partial E}{\partial z_k} = (o_k - t_k)\, o_k (1 - o_k). $$
#
# A weight's gradient is the delta of the unit it feeds times the value it carries:
# $\frac{\partial E}{\partial w_5} = \delta_{o_1} h_1$.

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
# paths):
#
# $$ \frac{\partial E}{\partial h_1} = \delta_{o_1} w_5 + \delta_{o_2} w_6, \qquad
#    \delta_{h_1} = \frac{\partial E}{\partial h_1}\, h_1 (1 - h_1). $$
#
# Note that $w_5$ and $w_6$ here are the weights *before* any update: all gradients are taken at one point.

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
# The weights become matrices: row $j$ of $W_1$ holds the weights *into* hidden unit $j$. The whole
# forward pass is two lines, $h = \sigma(W_1 i + b_1)$ and $o = \sigma(W_2 h + b_2)$, and `backward()` computes
# every gradient above at once. In matrix form the rule "delta of the unit it feeds times the value it
# carries" is an outer product, $\frac{\partial E}{\partial W_2} = \delta_o\, h^\top$: that is the matmul's backward,
# $dY = X^\top dZ$, in the library's own code:

# %%
source = quote(MatMul)
assert "dZ @ Yᵀ" in source and "Xᵀ @ dZ" in source

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
np.testing.assert_allclose(W2.grad.numpy(), np.outer([delta_o1, delta_o2], [h1, h2]), rtol=1e-14)  # δ_o hᵀ

# %% [markdown]
# ## The referee: finite differences on every parameter
#
# $\frac{\partial E}{\partial \theta} \approx \frac{E(\theta + h) - E(\theta - h)}{2h}$ for each of the ten parameters
# in turn (lesson 01: central differences, $h = 10^{-6}$).

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
# With learning rate $\eta = 0.5$, every parameter moves against its gradient,
# $\theta \leftarrow \theta - \eta\, \frac{\partial E}{\partial \theta}$, all at once, using the gradients computed
# above (never a gradient taken after another weight has already moved). The loss goes down:

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
graph = viz.draw_graph(network(W1, W2, B1, B2), names={"W1": W1, "W2": W2, "b1": B1, "b2": B2})
show(graph, "02_graph.png")
np.testing.assert_allclose(W1.numpy(), [[w1 - eta * dw1, w3 - eta * dw3], [w2 - eta * dw2, w4 - eta * dw4]])

# %% [markdown]
# ## Exercises
#
# 1. Give each hidden unit its own bias, $b_{1}^{(1)}$ for $h_1$ and $b_{1}^{(2)}$ for $h_2$ (a vector `B1` of two).
#    What is the gradient of each? Check with `backward()`.
# 2. Keep stepping: run gradient descent with $\eta = 0.5$ from the original weights, and plot $E$ against the
#    step. Does $E$ fall at every step? How far has it fallen after the run?
# 3. Swap the squared error for binary cross-entropy on each output,
#    $E = -\sum_k [t_k \log o_k + (1 - t_k) \log (1 - o_k)]$. Show by hand that the output delta becomes
#    $\delta_k = o_k - t_k$ (the sigmoid's $o(1-o)$ cancels), and check it with `backward()`.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Each bias feeds one hidden unit, so its gradient is that unit's delta alone: δ_h1 and δ_h2 (sum: db1).
W1_ = tge.tensor([[w1, w3], [w2, w4]], dtype=f64, requires_grad=True)
B1_ = tge.tensor([b1, b1], dtype=f64, requires_grad=True)
network(W1_, tge.tensor([[w5, w7], [w6, w8]], dtype=f64), B1_, tge.tensor(b2, dtype=f64)).backward()
print("per-unit bias gradients:", B1_.grad.numpy(), " δ_h1, δ_h2 =", (delta_h1, delta_h2))
np.testing.assert_allclose(B1_.grad.numpy(), [delta_h1, delta_h2], rtol=1e-14)
assert abs(B1_.grad.numpy().sum() - db1) < 1e-15

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. The loss falls at every step (the step is small enough for this smooth, nearly flat loss).
steps = sized(full=1000, fast=200)
P = [tge.tensor(a, dtype=f64, requires_grad=True) for a in ([[w1, w3], [w2, w4]], [[w5, w7], [w6, w8]], b1, b2)]
losses = []
for _ in range(steps):
    loss = network(*P)
    losses.append(loss.item())
    for p in P:
        p.grad = None
    loss.backward()
    with tge.no_grad():
        for p in P:
            p -= eta * p.grad
fig = Figure(figsize=(5.5, 3.2))
ax = fig.subplots()
ax.plot(losses)
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("E")
ax.set_title(f"02: the 2-2-2 network, η = {eta}, {steps} steps")
show(fig, "02_descent.png")
print(f"E: {losses[0]:.6f} at the start, {losses[-1]:.6f} after {steps} steps")
assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < losses[0] / 2

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. ∂E/∂o = (o − t)/(o(1 − o)); times σ'(z) = o(1 − o) leaves δ = o − t.
Z_o = tge.tensor([z_o1, z_o2], dtype=f64, requires_grad=True)
o = Z_o.sigmoid()
(-(t * o.log() + (1 - t) * (1 - o).log())).sum().backward()
print("δ_o by backward:", Z_o.grad.numpy(), " o − t:", [o1 - t1, o2 - t2])
np.testing.assert_allclose(Z_o.grad.numpy(), [o1 - t1, o2 - t2], rtol=1e-12)

# %% [markdown]
# **Next:** 03 · broadcasting, and why a bias gradient is a sum over the batch.

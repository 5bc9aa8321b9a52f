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
# # 09 · One neuron: the numbers that circulate, and the right ones
#
# **You will be able to:** compute the forward pass, the loss and every gradient of a sigmoid neuron with
# binary cross-entropy by hand; check them with `backward()` and with finite differences; say exactly what is
# wrong with the worked example that circulates with wrong numbers; take one gradient-descent step and see the
# loss fall; and do all of it again, with matrices, for a 3-4-2 network.
#
# **Run time:** about 1 s of CPU time, the same with `TGE_FAST=1` (nothing here needs shrinking).
#
# The example: one neuron with four inputs,
#
# $$ x = [1, 2, 3, 4],\qquad w = [0.1, 0.2, 0.3, 0.4],\qquad b = 0.5, $$
#
# a sigmoid output and binary cross-entropy. The circulating version never says which target it uses; we take
# **y = 1** (the neuron should say "yes") and say so. The neuron computes
#
# $$ z = w \cdot x + b = \sum_i w_i x_i + b,\qquad a = \sigma(z) = \frac{1}{1+e^{-z}},\qquad
#    L = -\bigl(y \log a + (1-y)\log(1-a)\bigr). $$

# %%
import math

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu.course import FAST, quote, show, sized  # noqa: F401  (FAST/sized: the course's shared names)

np.set_printoptions(precision=6, suppress=True)
x = np.array([1.0, 2.0, 3.0, 4.0])
w = np.array([0.1, 0.2, 0.3, 0.4])
b = 0.5
y = 1.0  # the target: our choice, stated


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# %% [markdown]
# ## 1 · By hand
#
# The dot product: $z = 0.1\cdot 1 + 0.2\cdot 2 + 0.3\cdot 3 + 0.4\cdot 4 + 0.5 = 0.1 + 0.4 + 0.9 + 1.6 + 0.5 = 3.5$.
# One neuron gives **one** number $z$, not a vector.

# %%
z = float(w @ x + b)
a = float(sigmoid(z))
L = -(y * math.log(a) + (1 - y) * math.log(1 - a))
print(f"z = w·x + b = {z}")
print(f"a = σ(3.5)  = {a:.6f}")
print(f"L = −log a  = {L:.6f}")
assert z == 3.5
assert abs(a - 0.970688) < 1e-6 and abs(L - 0.029750) < 1e-6

# %% [markdown]
# ### The gradient: why it is just $(a-y)\,x$
#
# The chain rule goes $L \leftarrow a \leftarrow z \leftarrow w$:
#
# $$ \frac{\partial L}{\partial a} = -\frac{y}{a} + \frac{1-y}{1-a} = \frac{a-y}{a(1-a)},\qquad
#    \frac{\partial a}{\partial z} = \sigma'(z) = \sigma(z)\bigl(1-\sigma(z)\bigr) = a(1-a). $$
#
# Multiplied, the $a(1-a)$ cancels — this is why sigmoid and cross-entropy are used together:
#
# $$ \delta = \frac{\partial L}{\partial z} = \frac{a-y}{a(1-a)}\cdot a(1-a) = a - y,\qquad
#    \frac{\partial L}{\partial w} = \delta\,\frac{\partial z}{\partial w} = (a-y)\,x,\qquad
#    \frac{\partial L}{\partial b} = a - y. $$
#
# The library's sigmoid has exactly $\sigma' = y(1-y)$ in its backward, and its BCE has $\partial L/\partial p =
# (p-y)/(p(1-p))$:

# %%
quote(tge.ops.activation.Sigmoid)
quote(tge.ops.loss.BinaryCrossEntropy)

# %%
dL_da = (a - y) / (a * (1 - a))
da_dz = a * (1 - a)
delta = dL_da * da_dz
dw_hand = (a - y) * x
db_hand = a - y
print(f"∂L/∂a = {dL_da:.6f}   ∂a/∂z = {da_dz:.6f}   δ = their product = {delta:.6f} = a − y = {a - y:.6f}")
print(f"∂L/∂w = (a − y)·x = {dw_hand}")
print(f"∂L/∂b = a − y     = {db_hand:.6f}")
assert abs(delta - (a - y)) < 1e-15 and abs(da_dz - 0.028453) < 1e-6
assert abs(db_hand - (-0.029312)) < 1e-6
assert np.allclose(dw_hand, [-0.0293, -0.0586, -0.0879, -0.1172], atol=5e-5)  # the table in section 4

# %% [markdown]
# ## 2 · By `backward()`
#
# The same neuron with tensors (float64, so that it can be compared to many digits):

# %%
f64 = tge.float64
w_t = tge.tensor(w, dtype=f64, requires_grad=True)
b_t = tge.tensor(b, dtype=f64, requires_grad=True)
x_t = tge.tensor(x, dtype=f64)
y_t = tge.tensor(y, dtype=f64)


def neuron_loss(w_t, b_t):
    a_t = ((w_t * x_t).sum() + b_t).sigmoid()
    return F.binary_cross_entropy(a_t, y_t)


loss_t = neuron_loss(w_t, b_t)
loss_t.backward()
print("loss      :", loss_t.item())
print("w.grad    :", w_t.grad.numpy())
print("b.grad    :", b_t.grad.item())
assert abs(loss_t.item() - L) < 1e-12
assert np.allclose(w_t.grad.numpy(), dw_hand, atol=1e-12) and abs(b_t.grad.item() - db_hand) < 1e-12

# %% [markdown]
# ## 3 · By finite differences
#
# The derivative is a limit; with a small step $h$ the **central difference**
# $\frac{\partial L}{\partial w_i} \approx \frac{L(w + h e_i) - L(w - h e_i)}{2h}$ has an error of order $h^2$
# (lesson 01). In float64 with $h = 10^{-6}$ it agrees with the exact gradient to about $10^{-10}$.


# %%
def loss_np(w, b):
    a = sigmoid(w @ x + b)
    return -(y * np.log(a) + (1 - y) * np.log(1 - a))


def numeric_grad(f, p, h=1e-6):
    """Central differences of the scalar f at every entry of the float64 array p."""
    g = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + h
        up = f()
        p[i] = old - h
        down = f()
        p[i] = old
        g[i] = (up - down) / (2 * h)
    return g


wb = np.append(w, b)  # the five parameters in one array
g_num = numeric_grad(lambda: loss_np(wb[:4], wb[4]), wb)
print("finite differences:", g_num)
print("by hand           :", np.append(dw_hand, db_hand))
assert np.allclose(g_num, np.append(dw_hand, db_hand), atol=1e-9)
assert tge.gradcheck(neuron_loss, [w_t.detach().requires_grad_(), b_t.detach().requires_grad_()])
print("three ways agree: by hand, backward(), finite differences (and tge.gradcheck)")

# %% [markdown]
# ## 4 · The circulating numbers, next to the right ones
#
# | quantity | circulating | right |
# |---|---|---|
# | $z$ | [0.1, 0.4, 0.7, 1.0] | 3.5 |
# | $a$ | [0.532, 0.697, 0.865, 0.952] | σ(3.5) ≈ 0.970688 |
# | $\partial L/\partial w$ | $a\,\delta\,x^\top$ | $(a-y)\,x$ ≈ [−0.0293, −0.0586, −0.0879, −0.1172] |
#
# **The wrong z.** A vector is the wrong *kind* of answer: a neuron has one pre-activation. The slip is to
# multiply elementwise, $w \odot x$, and stop (no sum, no bias). But even that slip gives
# $w\odot x = [0.1, 0.4, 0.9, 1.6]$: the circulating vector matches it in its first two entries only, and
# then grows by 0.3 a step. Summing $w\odot x$ and adding $b$ gives the right $z = 3.5$.

# %%
z_circ = np.array([0.1, 0.4, 0.7, 1.0])
a_circ = np.array([0.532, 0.697, 0.865, 0.952])
print("w ⊙ x            :", w * x, "  (the elementwise product)")
print("circulating z    :", z_circ)
print("sum(w ⊙ x) + b   :", (w * x).sum() + b)
assert np.allclose(w * x, [0.1, 0.4, 0.9, 1.6]) and np.allclose((w * x)[:2], z_circ[:2])
assert not np.allclose(w * x, z_circ) and np.isclose((w * x).sum() + b, 3.5)
assert np.allclose(np.diff(z_circ), 0.3)  # the circulating z grows by 0.3 a step

# %% [markdown]
# **The wrong a.** Which $z$ would give the circulating $a$? Invert the sigmoid: $z = \sigma^{-1}(a) =
# \log\frac{a}{1-a}$ (the *logit*). That gives $z \approx [0.128, 0.833, 1.857, 2.987]$ — yet another $z$:
# it is neither the circulating $z$, nor $w\odot x$, nor $w\odot x + b$ (the sigmoid of each is printed below,
# none is the circulating $a$). So the circulating $a$ is not even $\sigma$ of the circulating $z$: the two lines
# of the example contradict each other, whatever was meant.

# %%
z_behind = np.log(a_circ / (1 - a_circ))
print("the z behind the circulating a: logit(a) =", z_behind)
for name, zz in [("circulating z", z_circ), ("w ⊙ x", w * x), ("w ⊙ x + b", w * x + b)]:
    print(f"σ({name:13s}) = {sigmoid(zz)}")
    assert np.abs(sigmoid(zz) - a_circ).max() > 0.05  # none of them gives the circulating a
assert np.allclose(z_behind, [0.128, 0.833, 1.857, 2.987], atol=2e-3)
assert np.allclose(sigmoid(z_behind), a_circ)

# %% [markdown]
# **The wrong gradient.** "$\partial L/\partial w = a\,\delta\,x^\top$" puts one factor too many in front of
# $x$. With $\delta = a - y$ it is $a(a-y)x$, off by the factor $a$; with the delta of a *squared-error* loss,
# $\delta = (a-y)\,a(1-a)$, the $a(1-a)$ that cross-entropy cancels is back. Neither is the gradient of this
# loss; finite differences decide:

# %%
wrong_a_delta = a * (a - y) * x
wrong_mse_delta = a * ((a - y) * a * (1 - a)) * x
print("right (a − y)·x      :", dw_hand)
print("a·δ·x, δ = a − y     :", wrong_a_delta)
print("a·δ·x, δ = MSE delta :", wrong_mse_delta)
print("finite differences   :", g_num[:4])
assert np.allclose(g_num[:4], dw_hand, atol=1e-9)
assert not np.allclose(g_num[:4], wrong_a_delta, atol=1e-4) and not np.allclose(g_num[:4], wrong_mse_delta, atol=1e-4)

# %% [markdown]
# ## 5 · One step of gradient descent
#
# $w \leftarrow w - \eta\,\partial L/\partial w$, $b \leftarrow b - \eta\,\partial L/\partial b$. With $\eta = 0.5$
# the loss goes down; `optim.SGD` takes the same step.

# %%
lr = 0.5
w1, b1 = w - lr * dw_hand, b - lr * db_hand
L1 = float(loss_np(w1, b1))
print(f"new w = {w1}, new b = {b1:.6f}")
print(f"loss {L:.6f} → {L1:.6f}")
assert L1 < L

opt = tge.optim.SGD([w_t, b_t], lr=lr)  # w_t, b_t still hold the gradients from section 2
opt.step()
assert np.allclose(w_t.detach().numpy(), w1, atol=1e-12) and abs(b_t.item() - b1) < 1e-12
assert abs(neuron_loss(w_t, b_t).item() - L1) < 1e-12

# %% [markdown]
# ## A picture: the sigmoid, its derivative, and the loss along $w_1$
#
# Left: $\sigma$ and $\sigma' = \sigma(1-\sigma)$; at $z = 3.5$ the slope is small ($a(1-a) \approx 0.028$). With a
# squared-error loss that small slope would multiply the gradient; with cross-entropy it cancels. Right: the loss
# as a function of $w_1$ alone (the other weights fixed), and its tangent at $w_1 = 0.1$ with slope
# $\partial L/\partial w_1 = (a-y)\cdot x_1$.

# %%
zs = np.linspace(-6, 6, 200)
w1s = np.linspace(-6, 2, 200)
losses_w1 = [float(loss_np(np.array([v, *w[1:]]), b)) for v in w1s]
fig = Figure(figsize=(10, 3.8))
ax1, ax2 = fig.subplots(1, 2)
ax1.plot(zs, sigmoid(zs), label="σ(z)")
ax1.plot(zs, sigmoid(zs) * (1 - sigmoid(zs)), label="σ'(z) = σ(z)(1 − σ(z))")
ax1.plot([z], [a], "o", color="k", label=f"our neuron: z = 3.5, a = {a:.3f}")
ax1.set(title="The sigmoid and its derivative", xlabel="z", ylabel="value")
ax1.legend()
ax2.plot(w1s, losses_w1, label="L(w₁), other weights fixed")
ax2.plot(w1s, L + dw_hand[0] * (w1s - w[0]), "--", label=f"tangent, slope (a − y)·x₁ = {dw_hand[0]:.4f}")
ax2.plot([w[0]], [L], "o", color="k", label="w₁ = 0.1")
ax2.set(title="Binary cross-entropy along w₁ (y = 1)", xlabel="w₁", ylabel="loss L")
ax2.legend()
show(fig, "09_one_neuron.png")

# %% [markdown]
# ## 6 · A 3-4-2 network, the same three ways
#
# Three inputs, four sigmoid hidden units, two sigmoid outputs, each output with its own binary cross-entropy
# (summed). Values chosen to be easy to read:
#
# $$ x = \begin{bmatrix}1\\ 2\\ -1\end{bmatrix},\quad
#    W_1 = \begin{bmatrix}0.1&0.2&0.3\\ -0.2&0.1&0.4\\ 0.3&-0.1&0.2\\ 0.0&0.2&-0.3\end{bmatrix},\quad
#    b_1 = \begin{bmatrix}0.1\\ 0.0\\ -0.1\\ 0.2\end{bmatrix},\quad
#    W_2 = \begin{bmatrix}0.5&-0.4&0.3&0.2\\ -0.3&0.2&0.1&0.4\end{bmatrix},\quad
#    b_2 = \begin{bmatrix}0.1\\ -0.2\end{bmatrix},\quad y = \begin{bmatrix}1\\ 0\end{bmatrix}. $$
#
# Forward: $h = \sigma(W_1 x + b_1)$, $a = \sigma(W_2 h + b_2)$, $L = -\sum_k \bigl(y_k\log a_k +
# (1-y_k)\log(1-a_k)\bigr)$.
#
# Backward, with the chain rule, one layer at a time (each $\delta$ is $\partial L/\partial z$ of its layer):
#
# $$ \delta_2 = a - y,\qquad \frac{\partial L}{\partial W_2} = \delta_2\,h^\top,\qquad
#    \frac{\partial L}{\partial b_2} = \delta_2, $$
# $$ \delta_1 = \bigl(W_2^\top \delta_2\bigr) \odot h \odot (1-h),\qquad
#    \frac{\partial L}{\partial W_1} = \delta_1\,x^\top,\qquad \frac{\partial L}{\partial b_1} = \delta_1. $$
#
# Here the outer product $\delta\,x^\top$ *is* right: $W$ is a matrix, and entry $(j, i)$ of its gradient is
# $\delta_j x_i$. That is where the "$x^\top$" of the circulating formula comes from — for one neuron it is the
# vector $(a - y)\,x$.

# %%
x3 = np.array([1.0, 2.0, -1.0])
W1 = np.array([[0.1, 0.2, 0.3], [-0.2, 0.1, 0.4], [0.3, -0.1, 0.2], [0.0, 0.2, -0.3]])
B1 = np.array([0.1, 0.0, -0.1, 0.2])
W2 = np.array([[0.5, -0.4, 0.3, 0.2], [-0.3, 0.2, 0.1, 0.4]])
B2 = np.array([0.1, -0.2])
y2 = np.array([1.0, 0.0])


def net_loss(W1, B1, W2, B2):
    h = sigmoid(W1 @ x3 + B1)
    a = sigmoid(W2 @ h + B2)
    return -np.sum(y2 * np.log(a) + (1 - y2) * np.log(1 - a))


z1 = W1 @ x3 + B1
h = sigmoid(z1)
z2 = W2 @ h + B2
a2 = sigmoid(z2)
L2 = net_loss(W1, B1, W2, B2)
print("z1 = W1 x + b1 =", z1, "\nh  = σ(z1)     =", h)
print("z2 = W2 h + b2 =", z2, "\na  = σ(z2)     =", a2, f"\nL = {L2:.6f}")
assert np.allclose(z1, [0.3, -0.4, -0.2, 0.9])

delta2 = a2 - y2
dW2, dB2 = np.outer(delta2, h), delta2
delta1 = (W2.T @ delta2) * h * (1 - h)
dW1, dB1 = np.outer(delta1, x3), delta1
print("δ2 =", delta2, "\nδ1 =", delta1)
print("∂L/∂W1 =\n", dW1, "\n∂L/∂W2 =\n", dW2)

# %% [markdown]
# `backward()` on the same network written with tensors, and finite differences for every one of the
# $12 + 4 + 8 + 2 = 26$ parameters:

# %%
params = [tge.tensor(p, dtype=f64, requires_grad=True) for p in (W1, B1, W2, B2)]
x3_t, y2_t = tge.tensor(x3, dtype=f64), tge.tensor(y2, dtype=f64)


def net_loss_t(W1, B1, W2, B2):
    h = (W1 @ x3_t + B1).sigmoid()
    a = (W2 @ h + B2).sigmoid()
    return F.binary_cross_entropy(a, y2_t, reduction="sum")


loss3 = net_loss_t(*params)
loss3.backward()
by_hand = [dW1, dB1, dW2, dB2]
arrays = [W1.copy(), B1.copy(), W2.copy(), B2.copy()]
numeric = [numeric_grad(lambda: net_loss(*arrays), p) for p in arrays]
for name, hand, t, num in zip(["W1", "b1", "W2", "b2"], by_hand, params, numeric):
    diff_bw, diff_fd = np.abs(hand - t.grad.numpy()).max(), np.abs(hand - num).max()
    print(f"{name}: max |hand − backward| = {diff_bw:.1e}   max |hand − finite diff| = {diff_fd:.1e}")
    assert diff_bw < 1e-12 and diff_fd < 1e-9
assert abs(loss3.item() - L2) < 1e-12
assert sum(p.size for p in arrays) == 26

# %% [markdown]
# One SGD step on all 26 parameters lowers this loss too:

# %%
opt3 = tge.optim.SGD(params, lr=0.5)
opt3.step()
with tge.no_grad():
    L2_after = net_loss_t(*params).item()
print(f"loss {L2:.6f} → {L2_after:.6f}")
assert L2_after < L2

# %% [markdown]
# ## Exercises
#
# 1. Redo the neuron with target **y = 0**. What are $L$, $\partial L/\partial b$ and $\partial L/\partial w$ now?
#    Is the gradient large or small, and why (look at $a$)?
# 2. Replace BCE by the squared error $L = \tfrac12(a-y)^2$ (y = 1). Derive $\partial L/\partial w$ — the
#    $a(1-a)$ no longer cancels — and check it with finite differences. How many times smaller is it than the
#    BCE gradient at this point?
# 3. How many SGD steps with $\eta = 0.5$ does the neuron (y = 1) need before its loss is below 0.01?
# 4. In the 3-4-2 network, set $W_2 = 0$. Which gradients become exactly zero, and why does $\partial L/\partial
#    W_2$ not?

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. y = 0: δ = a − 0 = a ≈ 0.97, a large gradient: the neuron is confidently wrong.
a0 = sigmoid(w @ x + b)
L_y0 = -np.log(1 - a0)
db_y0, dw_y0 = a0 - 0.0, (a0 - 0.0) * x
g_fd = numeric_grad(lambda: float(-np.log(1 - sigmoid(wb[:4] @ x + wb[4]))), wb)
print(f"y = 0: L = {L_y0:.6f}, ∂L/∂b = {db_y0:.6f}, ∂L/∂w = {dw_y0}")
assert np.allclose(g_fd, np.append(dw_y0, db_y0), atol=1e-8)
assert abs(L_y0 - 3.529750) < 1e-6 and db_y0 > 30 * abs(db_hand)

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. L = ½(a − y)²: ∂L/∂w = (a − y)·a(1 − a)·x; the slope a(1 − a) ≈ 0.028 stays in.
dw_mse = (a - y) * a * (1 - a) * x
g_fd = numeric_grad(lambda: float(0.5 * (sigmoid(wb[:4] @ x + wb[4]) - y) ** 2), wb)
ratio = dw_hand[0] / dw_mse[0]
print("MSE gradient:", dw_mse, f"— {ratio:.1f}× smaller than BCE's")
assert np.allclose(g_fd[:4], dw_mse, atol=1e-10)
assert abs(ratio - 1 / (a * (1 - a))) < 1e-9 and ratio > 35

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Gradient descent until L < 0.01.
wk, bk, steps = w.copy(), b, 0
while loss_np(wk, bk) >= 0.01:
    ak = sigmoid(wk @ x + bk)
    wk, bk, steps = wk - 0.5 * (ak - y) * x, bk - 0.5 * (ak - y), steps + 1
print(f"{steps} steps, loss {loss_np(wk, bk):.5f}")
assert 1 <= steps <= 10

# %% tags=["solution"] jupyter={"source_hidden": true}
# 4. W2 = 0: δ1 = (W2ᵀ δ2) ⊙ h(1 − h) = 0, so ∂L/∂W1 = ∂L/∂b1 = 0 (no signal reaches layer 1);
#    ∂L/∂W2 = δ2 hᵀ needs only δ2 = a − y = σ(b2) − y and h, neither zero.
W2z = np.zeros_like(W2)
hz = sigmoid(W1 @ x3 + B1)
d2 = sigmoid(W2z @ hz + B2) - y2
d1 = (W2z.T @ d2) * hz * (1 - hz)
print("δ1 =", d1, " ∂L/∂W2 =\n", np.outer(d2, hz))
arrays_z = [W1.copy(), B1.copy(), W2z.copy(), B2.copy()]
num_z = [numeric_grad(lambda: net_loss(*arrays_z), p) for p in arrays_z]
assert np.abs(num_z[0]).max() < 1e-9 and np.abs(num_z[1]).max() < 1e-9
assert np.allclose(num_z[2], np.outer(d2, hz), atol=1e-9) and np.abs(num_z[2]).min() > 0.01

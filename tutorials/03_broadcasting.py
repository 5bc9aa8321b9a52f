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
# # 03 · Broadcasting, and why a bias gradient is a sum over the batch
#
# **You will be able to:** predict the shape two arrays broadcast to; explain why the gradient of a broadcast
# input is a *sum* over the axes it was stretched along, and find that sum (`unbroadcast`) in the library's code;
# check a bias's and a weight's gradient against the formulas; and spot the $(N, 1) - (N,)$ bug that broadcasting
# hides.
#
# **Run time:** about 1 s of CPU time (`TGE_FAST=1`: about 1 s).
#
# A linear layer computes $y = x W^\top + b$ for a whole batch at once: $x$ is (batch, in), $b$ is (out,).
# NumPy (and PyTorch) *broadcast* $b$: it behaves as if it were copied once per row. Copies are
# exactly where gradients pile up, and this lesson shows how backward undoes a broadcast.

# %%
import inspect

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu.course import quote, show
from tinygrad_edu.ops.elementwise import Add, unbroadcast
from tinygrad_edu.ops.loss import mse_loss  # the same function as tinygrad_edu.nn.functional.mse_loss

# %% [markdown]
# ## The rule, forwards
#
# Shapes are lined up from the right. Two sizes fit if they are equal or one of them is 1; a missing
# leading axis counts as 1. The result takes the larger size on every axis.

# %%
for a, b in [((4, 3), (3,)), ((4, 1), (1, 5)), ((2, 1, 3), (4, 1)), ((5,), ())]:
    print(f"{str(a):>10} with {str(b):>7} -> {np.broadcast_shapes(a, b)}")

# %% [markdown]
# ## The rule, backwards
#
# In $z = x + b$ with $x$ of shape (4, 3) and $b$ of shape (3,), the element $b_j$ is used by all four rows. A
# small change $db_j$ changes four outputs, so
#
# $$ \frac{\partial L}{\partial b_j} = \sum_i \frac{\partial L}{\partial z_{ij}}: $$
#
# **the gradient of a broadcast input is the sum of the gradient over every axis that broadcasting created or
# stretched.** That sum is written once in tinygrad_edu, as `unbroadcast`, and every binary op calls it; `Add`'s
# backward ($dx = dz$, $dy = dz$) is nothing else:

# %%
print(inspect.getsource(unbroadcast))
source = quote(Add)
assert "unbroadcast(dz, x_shape), unbroadcast(dz, y_shape)" in source
np.testing.assert_array_equal(unbroadcast(np.ones((4, 3)), (3,)), [4.0, 4.0, 4.0])  # four rows, summed

# %% [markdown]
# ## Check it: a bias in a linear layer
#
# For $y = x W^\top + b$ and an upstream gradient $dy = \partial L / \partial y$ (one row per example), the rule gives
# $\frac{\partial L}{\partial b} = \sum_n dy_n$ and $\frac{\partial L}{\partial W} = dy^\top x
# = \sum_n dy_n\, x_n^\top$:

# %%
tge.manual_seed(0)
x = tge.randn(4, 3, dtype=tge.float64)
W = tge.randn(2, 3, dtype=tge.float64, requires_grad=True)
b = tge.randn(2, dtype=tge.float64, requires_grad=True)
y = x @ W.T + b  # (4, 2) + (2,)
dy = tge.randn(4, 2, dtype=tge.float64)  # pretend this came from the layers above
y.backward(dy)
print("b.grad          =", b.grad.numpy())
print("dy summed over rows =", dy.numpy().sum(axis=0))
np.testing.assert_allclose(b.grad.numpy(), dy.numpy().sum(axis=0))
# and the weight: dW = dyᵀ @ x, the sum over the batch of one outer product per example (the rows of x)
np.testing.assert_allclose(W.grad.numpy(), dy.numpy().T @ x.numpy())

# %% [markdown]
# A stretched axis (size 1, not missing) is summed *but kept*, so the gradient has the input's shape: for
# $z_{ij} = c_i\, r_j$ with $c$ of shape (4, 1) and $r$ of shape (1, 5),
# $\frac{\partial}{\partial c_i} \sum_{ij} z_{ij} = \sum_j r_j$ and $\frac{\partial}{\partial r_j} \sum_{ij} z_{ij}
# = \sum_i c_i$:

# %%
col = tge.tensor(np.ones((4, 1)), requires_grad=True)
row = tge.tensor(np.arange(5.0)[None, :], requires_grad=True)
(col * row).sum().backward()  # a (4, 5) outer product
print("col.grad.shape =", col.grad.shape, " each entry =", col.grad.numpy()[0, 0], "(= 0+1+2+3+4)")
print("row.grad.shape =", row.grad.shape, " each entry =", row.grad.numpy()[0, 0], "(= four ones)")
assert col.grad.shape == (4, 1) and np.all(col.grad.numpy() == 10)
assert row.grad.shape == (1, 5) and np.all(row.grad.numpy() == 4)

# %% [markdown]
# ## A classic bug that broadcasting hides
#
# A regression model outputs $(N, 1)$ but the targets are $(N,)$. Subtracting them broadcasts to
# $(N, N)$: every prediction is compared with every target, the loss is wrong, and nothing crashes.
# The picture shows the $N$ differences you meant (left) and the $N^2$ you get (right): the meant ones are only
# its diagonal. tinygrad_edu's losses refuse the mismatch and say how to fix it:

# %%
pred = tge.randn(8, 1)
target = tge.randn(8)
print("pred - target has shape", (pred - target).shape, "<- not what you meant")
try:
    mse_loss(pred, target)
    raise AssertionError("mse_loss accepted (8, 1) against (8,)")
except ValueError as e:
    print("mse_loss says:", e)
meant = (pred.squeeze(1) - target).numpy()
got = (pred - target).numpy()
np.testing.assert_array_equal(np.diag(got), meant)  # the meant differences are the diagonal of the (8, 8)

fig = Figure(figsize=(7, 3.4))
left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 6]})
for ax, values, title in ((left, meant[:, None], "meant: (8,)"), (right, got, "got: (8, 1) − (8,) = (8, 8)")):
    image = ax.imshow(values, cmap="coolwarm", vmin=-4, vmax=4)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("target j" if values.shape[1] > 1 else "")
    ax.set_ylabel("prediction i")
left.set_xticks([])
fig.colorbar(image, ax=fig.axes, shrink=0.8, label="prediction − target")
fig.suptitle("03: a broadcast that compares every prediction with every target")
show(fig, "03_broadcast_bug.png")

# %% [markdown]
# ## Exercises
#
# 1. In $z = x \odot s$ with $x$ of shape (4, 3) and a per-column scale $s$ of shape (1, 3), what shape and value
#    does `s.grad` have after `z.sum().backward()`? Work it out, then check.
# 2. Compute the *wrong* mean squared error of the bug above, `((pred - target) ** 2).mean()`, and the right one.
#    By how much do they differ? (Hint: the wrong one averages all $N^2$ pairs.)
# 3. A bias of shape (2, 1, 3) added to activations of shape (2, 4, 3): which axis does backward sum over, and
#    what shape is the bias's gradient? Check against `unbroadcast` and against NumPy.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. ∂(Σ x_ij s_j)/∂s_j = Σ_i x_ij: the column sums of x, shape (1, 3), the stretched axis kept.
xs = tge.randn(4, 3, dtype=tge.float64)
s = tge.tensor(np.ones((1, 3)), requires_grad=True)
(xs * s).sum().backward()
print("s.grad =", s.grad.numpy(), " column sums of x =", xs.numpy().sum(axis=0))
assert s.grad.shape == (1, 3)
np.testing.assert_allclose(s.grad.numpy(), xs.numpy().sum(axis=0, keepdims=True))

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. The wrong loss averages (p_i − t_j)² over all pairs: mean(p²) − 2·mean(p)·mean(t) + mean(t²).
p, tt = pred.numpy()[:, 0].astype(np.float64), target.numpy().astype(np.float64)
wrong = float(((pred - target) ** 2).mean().item())
right = mse_loss(pred.squeeze(1), target).item()
print(f"wrong (all pairs): {wrong:.4f}   right (matching pairs): {right:.4f}")
assert abs(wrong - ((p[:, None] - tt[None, :]) ** 2).mean()) < 1e-5
assert abs(wrong - ((p**2).mean() - 2 * p.mean() * tt.mean() + (tt**2).mean())) < 1e-5
assert abs(right - ((p - tt) ** 2).mean()) < 1e-5 and abs(wrong - right) > 1e-3

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Axis 1 (size 1 in the bias, 4 in the activations) is stretched: it is summed and kept, giving (2, 1, 3).
a = tge.randn(2, 4, 3, dtype=tge.float64)
bias = tge.randn(2, 1, 3, dtype=tge.float64, requires_grad=True)
upstream = np.random.default_rng(0).standard_normal((2, 4, 3))
(a + bias).backward(tge.tensor(upstream))
print("bias.grad.shape =", bias.grad.shape)
assert bias.grad.shape == (2, 1, 3)
np.testing.assert_allclose(bias.grad.numpy(), upstream.sum(axis=1, keepdims=True))
np.testing.assert_allclose(unbroadcast(upstream, (2, 1, 3)), upstream.sum(axis=1, keepdims=True))

# %% [markdown]
# **Next:** 04 · softmax and cross-entropy, computed without overflow.

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
# A linear layer computes y = x @ W.T + b for a whole batch at once: x is (batch, in), b is (out,).
# NumPy (and PyTorch) *broadcast* b: it behaves as if it were copied once per row. Copies are
# exactly where gradients pile up, and this lesson shows how backward undoes a broadcast.

# %%
import inspect

import numpy as np

import tinygrad_edu as tge
from tinygrad_edu.ops.elementwise import unbroadcast
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
# In z = x + b with x (4, 3) and b (3,), the element b[j] is used by all four rows. A small change
# db[j] changes four outputs, so ∂L/∂b[j] = Σᵢ ∂L/∂z[i, j]: **the gradient of a broadcast input is
# the sum of the gradient over every axis that broadcasting created or stretched.** That sum is
# written once in tinygrad_edu, as `unbroadcast`, and every binary op calls it:

# %%
print(inspect.getsource(unbroadcast))

# %% [markdown]
# ## Check it: a bias in a linear layer

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
# and the weight: dW = dyᵀ @ x, the sum over the batch of one outer product per example
np.testing.assert_allclose(W.grad.numpy(), dy.numpy().T @ x.numpy())

# %% [markdown]
# A stretched axis (size 1, not missing) is summed *but kept*, so the gradient has the input's shape:

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
# A regression model outputs (N, 1) but the targets are (N,). Subtracting them broadcasts to
# (N, N): every prediction is compared with every target, the loss is wrong, and nothing crashes.
# tinygrad_edu's losses refuse the mismatch and say how to fix it:

# %%
pred = tge.randn(8, 1)
target = tge.randn(8)
print("pred - target has shape", (pred - target).shape, "<- not what you meant")
try:
    mse_loss(pred, target)
except ValueError as e:
    print("mse_loss says:", e)

# %% [markdown]
# **Next:** 04 · softmax and cross-entropy, computed without overflow.

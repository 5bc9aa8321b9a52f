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
# # 04 · Softmax and cross-entropy, without overflow
#
# A classifier outputs one score (logit) per class; softmax turns them into probabilities and
# cross-entropy scores the probability given to the right class. Written naively, both overflow.
# Written right, the gradient of the pair is the simplest formula in deep learning:
# **softmax(x) − onehot(target)**.

# %%
import numpy as np

import tinygrad_edu as tge
from tinygrad_edu.ops.loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy

# %% [markdown]
# ## Naive softmax breaks on big logits
#
# softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ. In float32, e^89 is already infinite, and inf / inf is nan.

# %%
logits = np.array([1000.0, 1001.0, 1002.0], dtype=np.float32)
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum()
print("naive softmax:  ", naive)

# %% [markdown]
# Multiplying top and bottom by e^−m changes nothing mathematically, and with m = max(x) every
# exponent is ≤ 0, so nothing overflows: softmax(x) = softmax(x − m).

# %%
shifted = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
print("shifted softmax:", shifted)
print("tge softmax:    ", tge.tensor(logits).softmax(0).numpy())
np.testing.assert_allclose(tge.tensor(logits).softmax(0).numpy(), shifted, rtol=1e-6)

# %% [markdown]
# ## Log-sum-exp and log-softmax
#
# Cross-entropy needs log pᵢ. Taking the log of a softmax that rounded to 0 gives −inf; instead,
# log softmax(x)ᵢ = xᵢ − logsumexp(x), and logsumexp(x) = m + log Σⱼ e^(xⱼ − m) is safe.

# %%
x = tge.tensor([0.0, -200.0, 10.0])
print("log(softmax):   ", np.log(x.softmax(0).numpy(), where=x.softmax(0).numpy() > 0, out=np.full(3, -np.inf)))
print("log_softmax:    ", x.log_softmax(0).numpy())

# %% [markdown]
# ## Cross-entropy and its gradient, three ways
#
# For logits x = [2.0, 1.0, 0.1] and target class 0:
#
# **By hand.** p = softmax(x) = [0.6590, 0.2424, 0.0986]; the loss is −log p₀ = 0.4170. Writing
# the loss as L = logsumexp(x) − x_t and differentiating, ∂L/∂xᵢ = softmax(x)ᵢ − [i = t], so the
# gradient is p − onehot(0) = [−0.3410, 0.2424, 0.0986]: push the right class up, the others down,
# each in proportion to how much probability it took.

# %%
x_np = np.array([2.0, 1.0, 0.1])
p = np.exp(x_np - x_np.max()) / np.exp(x_np - x_np.max()).sum()
by_hand = p - np.array([1.0, 0.0, 0.0])
print("p =", p.round(4), " loss =", round(-np.log(p[0]), 4), " gradient by hand =", by_hand.round(4))

x = tge.tensor(x_np, requires_grad=True)
loss = cross_entropy(x[None], tge.tensor([0]))  # a batch of one
loss.backward()
print("gradient by backward =", x.grad.numpy().round(4))
np.testing.assert_allclose(x.grad.numpy(), by_hand, atol=1e-12)

h = 1e-6
numeric = [
    (cross_entropy(tge.tensor(x_np + h * e)[None], tge.tensor([0])).item()
     - cross_entropy(tge.tensor(x_np - h * e)[None], tge.tensor([0])).item()) / (2 * h)
    for e in np.eye(3)
]  # fmt: skip
print("gradient by finite differences =", np.round(numeric, 4))
np.testing.assert_allclose(numeric, by_hand, atol=1e-8)

# %% [markdown]
# With a batch and reduction="mean", each row's gradient is divided by the batch size.
#
# ## Extreme logits are fine

# %%
big = tge.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
loss = cross_entropy(big, tge.tensor([1]))  # the right class got a hopeless score
loss.backward()
print("loss =", loss.item(), " gradient =", big.grad.numpy())
assert np.isfinite(loss.item()) and np.all(np.isfinite(big.grad.numpy()))

# %% [markdown]
# ## The binary case: sigmoid + BCE, or BCE with logits
#
# For one yes/no output, p = σ(x) and BCE = −(y log p + (1 − y) log(1 − p)). Apply the sigmoid
# first and a logit of 40 gives p = 1.0 exactly in float32, so log(1 − p) = −inf: PyTorch (and we)
# clamp each log at −100, a patch. `binary_cross_entropy_with_logits` instead folds the sigmoid in,
# BCE = max(x, 0) − x·y + log(1 + e^−|x|), exact for every x, with gradient σ(x) − y.

# %%
xl = tge.tensor([40.0, -40.0, 3.0])
y = tge.tensor([0.0, 1.0, 1.0])
print("sigmoid then BCE:", binary_cross_entropy(xl.sigmoid(), y, reduction="none").numpy())
print("BCE with logits: ", binary_cross_entropy_with_logits(xl, y, reduction="none").numpy())

# %% [markdown]
# σ(40) rounds to exactly 1.0 in float32, so the clamped version reports 100 for the first loss
# instead of the true 40; σ(−40) ≈ 4·10⁻¹⁸ is still representable, so the second one survives (this
# time). The logits version gives the true value every time, and both agree on the well-behaved
# third one. Prefer the logits form.
#
# **Next:** 05 · a training loop, with SGD and Adam written out.

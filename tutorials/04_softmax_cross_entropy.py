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
# **You will be able to:** compute softmax and log-softmax without overflow (the max shift and log-sum-exp);
# derive the gradient of cross-entropy, $\mathrm{softmax}(x) - \mathrm{onehot}(t)$, and find it in the library's
# code; check it by backward and finite differences; and say why `binary_cross_entropy_with_logits` beats a
# sigmoid followed by BCE.
#
# **Run time:** about 1 s of CPU time (`TGE_FAST=1`: about 1 s).
#
# A classifier outputs one score (logit) per class; softmax turns them into probabilities and
# cross-entropy scores the probability given to the right class. Written naively, both overflow.
# Written right, the gradient of the pair is the simplest formula in deep learning:
# $\frac{\partial L}{\partial x} = \mathrm{softmax}(x) - \mathrm{onehot}(t)$.

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
from tinygrad_edu.course import quote, show
from tinygrad_edu.ops.loss import (
    BCEWithLogits,
    CrossEntropy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
)

# %% [markdown]
# ## Naive softmax breaks on big logits
#
# $\mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}$. In float32, $e^{89}$ is already infinite, and
# $\infty / \infty$ is nan.

# %%
logits = np.array([1000.0, 1001.0, 1002.0], dtype=np.float32)
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum()
print("naive softmax:  ", naive)
assert np.isnan(naive).all()
with np.errstate(over="ignore"):
    assert np.isinf(np.exp(np.float32(89))) and np.isfinite(np.exp(np.float32(88)))  # float32 ends at 3.4·10³⁸

# %% [markdown]
# Multiplying top and bottom by $e^{-m}$ changes nothing mathematically, and with $m = \max_j x_j$ every
# exponent is $\le 0$, so nothing overflows: $\mathrm{softmax}(x) = \mathrm{softmax}(x - m)$.

# %%
shifted = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
print("shifted softmax:", shifted)
print("tge softmax:    ", tge.tensor(logits).softmax(0).numpy())
np.testing.assert_allclose(tge.tensor(logits).softmax(0).numpy(), shifted, rtol=1e-6)

# %% [markdown]
# ## Log-sum-exp and log-softmax
#
# Cross-entropy needs $\log p_i$. Taking the log of a softmax that rounded to 0 gives $-\infty$; instead,
#
# $$ \log \mathrm{softmax}(x)_i = x_i - \mathrm{logsumexp}(x), \qquad
#    \mathrm{logsumexp}(x) = m + \log \sum_j e^{x_j - m}, $$
#
# and that is safe.

# %%
x = tge.tensor([0.0, -200.0, 10.0])
print("log(softmax):   ", np.log(x.softmax(0).numpy(), where=x.softmax(0).numpy() > 0, out=np.full(3, -np.inf)))
print("log_softmax:    ", x.log_softmax(0).numpy())
assert x.softmax(0).numpy()[1] == 0 and abs(x.log_softmax(0).numpy()[1] - (-210.0)) < 1e-3  # finite, and right

# %% [markdown]
# ## Cross-entropy and its gradient, three ways
#
# For logits $x = [2.0, 1.0, 0.1]$ and target class $t = 0$:
#
# **By hand.** $p = \mathrm{softmax}(x) = [0.6590, 0.2424, 0.0986]$; the loss is $-\log p_0 = 0.4170$. Writing
# the loss as $L = \mathrm{logsumexp}(x) - x_t$ and differentiating,
#
# $$ \frac{\partial L}{\partial x_i} = \mathrm{softmax}(x)_i - [i = t], $$
#
# so the gradient is $p - \mathrm{onehot}(0) = [-0.3410, 0.2424, 0.0986]$: push the right class up, the others
# down, each in proportion to how much probability it took. In the library's code that is the last line of
# `CrossEntropy.backward`, `p_total - a` (with $a$ the one-hot target, and `p_total` $= p$ for a plain target):

# %%
source = quote(CrossEntropy)
assert "softmax(x) − onehot(t)" in source and "(p_total - a)" in source

# %%
x_np = np.array([2.0, 1.0, 0.1])
p = np.exp(x_np - x_np.max()) / np.exp(x_np - x_np.max()).sum()
by_hand = p - np.array([1.0, 0.0, 0.0])
print("p =", p.round(4), " loss =", round(-np.log(p[0]), 4), " gradient by hand =", by_hand.round(4))
np.testing.assert_allclose(p, [0.6590, 0.2424, 0.0986], atol=5e-5)
assert abs(-np.log(p[0]) - 0.4170) < 5e-5

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
# With a batch and `reduction="mean"`, each row's gradient is divided by the batch size $N$.
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
# For one yes/no output, $p = \sigma(x)$ and $\mathrm{BCE} = -(y \log p + (1 - y) \log(1 - p))$. Apply the
# sigmoid first and a logit of 40 gives $p = 1.0$ exactly in float32, so $\log(1 - p) = -\infty$: PyTorch (and
# we) clamp each log at $-100$, a patch. `binary_cross_entropy_with_logits` instead folds the sigmoid in,
#
# $$ \mathrm{BCE} = \max(x, 0) - x y + \log\left(1 + e^{-|x|}\right), \qquad
#    \frac{\partial\, \mathrm{BCE}}{\partial x} = \sigma(x) - y, $$
#
# exact for every $x$. The library's version (with PyTorch's `pos_weight`; for `pos_weight` = 1 it is the formula
# above, rearranged):

# %%
source = quote(BCEWithLogits)
assert "σ(x) − y" in source

# %%
xl = tge.tensor([40.0, -40.0, 3.0])
y = tge.tensor([0.0, 1.0, 1.0])
print("sigmoid then BCE:", binary_cross_entropy(xl.sigmoid(), y, reduction="none").numpy())
print("BCE with logits: ", binary_cross_entropy_with_logits(xl, y, reduction="none").numpy())
clamped = binary_cross_entropy(xl.sigmoid(), y, reduction="none").numpy()
exact = binary_cross_entropy_with_logits(xl, y, reduction="none").numpy()
assert clamped[0] == 100 and abs(exact[0] - 40) < 1e-5 and abs(clamped[1] - exact[1]) < 1e-4
assert abs(clamped[2] - exact[2]) < 1e-6
assert xl.sigmoid().numpy()[0] == 1.0 and 3e-18 < xl.sigmoid().numpy()[1] < 5e-18  # σ(40) = 1 exactly; σ(−40) ≈ 4·10⁻¹⁸

# %% [markdown]
# σ(40) rounds to exactly 1.0 in float32, so the clamped version reports 100 for the first loss
# instead of the true 40; σ(−40) ≈ 4·10⁻¹⁸ is still representable, so the second one survives (this
# time). The logits version gives the true value every time, and both agree on the well-behaved
# third one. Prefer the logits form. Over a range of logits with target $y = 0$ (the true loss is about $x$ for
# large $x$):

# %%
logit = tge.tensor(np.linspace(-5, 120, 251).astype(np.float32))
zero = tge.zeros(251)
loss_clamped = binary_cross_entropy(logit.sigmoid(), zero, reduction="none").numpy()
loss_exact = binary_cross_entropy_with_logits(logit, zero, reduction="none").numpy()
fig = Figure(figsize=(6, 3.6))
ax = fig.subplots()
ax.plot(logit.numpy(), loss_exact, label="binary_cross_entropy_with_logits (exact)")
ax.plot(logit.numpy(), loss_clamped, "--", label="sigmoid, then binary_cross_entropy (clamped at 100)")
ax.set_xlabel("logit x (target y = 0)")
ax.set_ylabel("loss")
ax.set_title("04: BCE of a confident wrong answer, two ways, float32")
ax.legend(fontsize=8)
show(fig, "04_bce.png")
first_wrong = logit.numpy()[np.argmax(np.abs(loss_clamped - loss_exact) > 0.01 * loss_exact)]
print(f"sigmoid-then-BCE is off by more than 1 % from x ≈ {first_wrong:.1f} on")
assert 10 < first_wrong < 20 and np.allclose(loss_exact[logit.numpy() > 20], logit.numpy()[logit.numpy() > 20])

# %% [markdown]
# ## Exercises
#
# 1. Show numerically that softmax does not change when you add the same constant to every logit, and that
#    log-softmax does not either: check `softmax(x + 1000)` against `softmax(x)` with the library.
# 2. For a batch of $N$ rows and `reduction="mean"`, write the gradient by hand,
#    $\frac{1}{N}(\mathrm{softmax}(x) - \mathrm{onehot}(t))$, and check it with `backward()` on a random (5, 4) batch.
# 3. Why does every row of the cross-entropy gradient sum to zero? Prove it in one line, then check it.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. softmax(x + c) = e^c e^x / (e^c Σ e^x) = softmax(x); log_softmax likewise (x + c − logsumexp(x + c)).
# (In float64: in float32, x + 1000 itself rounds to steps of 6e-5.)
xs = tge.tensor([2.0, 1.0, 0.1], dtype=tge.float64)
np.testing.assert_allclose((xs + 1000).softmax(0).numpy(), xs.softmax(0).numpy(), rtol=1e-11)
np.testing.assert_allclose((xs + 1000).log_softmax(0).numpy(), xs.log_softmax(0).numpy(), atol=1e-11)
print("softmax(x + 1000) =", (xs + 1000).softmax(0).numpy(), "= softmax(x)")

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. The mean divides each row's gradient by N.
rng = np.random.default_rng(0)
logits_np, targets_np = rng.standard_normal((5, 4)), rng.integers(0, 4, size=5)
logits_t = tge.tensor(logits_np, requires_grad=True)
cross_entropy(logits_t, tge.tensor(targets_np)).backward()
soft = np.exp(logits_np - logits_np.max(1, keepdims=True))
soft /= soft.sum(1, keepdims=True)
by_hand_batch = (soft - np.eye(4)[targets_np]) / 5
print("max |backward − by hand| =", np.abs(logits_t.grad.numpy() - by_hand_batch).max())
np.testing.assert_allclose(logits_t.grad.numpy(), by_hand_batch, atol=1e-12)

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Σᵢ (pᵢ − [i = t]) = Σᵢ pᵢ − 1 = 1 − 1 = 0: probabilities sum to 1, and so does a one-hot.
row_sums = logits_t.grad.numpy().sum(axis=1)
print("row sums of the gradient:", row_sums)
np.testing.assert_allclose(row_sums, 0, atol=1e-15)

# %% [markdown]
# **Next:** 05 · a training loop, with SGD and Adam written out.

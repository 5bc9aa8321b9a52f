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
# # 05 · The training loop, from scratch to PyTorch style
#
# **You will be able to:** write gradient descent by hand (forward, backward, update inside `no_grad`, clear the
# gradients) and say why each line is there; move to `nn.Sequential`, `DataLoader` and an optimizer without
# changing the numbers; check SGD with momentum and Adam against their equations; explain what Adam's bias
# correction does to the first steps (and what leaving it out does); and train and read the curves of an MLP on
# the digits.
#
# **Run time:** about 3 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# Lessons 01–04 computed gradients. Training is what we *do* with them: step every weight a little
# against its gradient, many times. This lesson writes that loop out by hand first, then replaces
# each hand-written piece by the library's (`nn.Sequential`, `optim.SGD`, `optim.Adam`) and checks
# that the library computes *the same numbers*. Then it looks hard at one piece of Adam that many
# write-ups get wrong, its bias correction, and ends with the recipe behind `tinygrad-edu train`.
#
# The update rules live in `tinygrad_edu/optim/sgd.py` and `tinygrad_edu/optim/adam.py`: each
# `update()` is the equations of its docstring, line for line.

# %%
import itertools

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim, viz
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.data import DataLoader, Standardize, TensorDataset, train_test_split
from tinygrad_edu.datasets import load_digits, make_moons

# %% [markdown]
# ## Two moons, and a model that is one line
#
# 400 points in two interleaved half-moons, 80 % to learn from and 20 % to *validate* on (points
# the model never trains on, so they tell us whether it learned the shape or memorised the points).
# The model is logistic regression: $p(\text{class } 1 \mid x) = \sigma(x \cdot w + b)$, two weights and a bias.

# %%
X, y = make_moons(n=400, noise=0.2, seed=0)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
x, t = tge.tensor(X_train), tge.tensor(y_train.astype(np.float32))  # t: the targets as 0.0 / 1.0
print("train", X_train.shape, " validation", X_val.shape)

# %% [markdown]
# ## The gradient, three ways, before we trust it
#
# With $z = x \cdot w + b$ and the mean binary cross-entropy
# $L = -\frac{1}{N} \sum_n \left[t_n \log \sigma(z_n) + (1 - t_n) \log(1 - \sigma(z_n))\right]$,
# lesson 04's rule "prediction minus target" gives
#
# $$ \frac{\partial L}{\partial w} = \frac{1}{N} \sum_n (\sigma(z_n) - t_n)\, x_n, \qquad
#    \frac{\partial L}{\partial b} = \frac{1}{N} \sum_n (\sigma(z_n) - t_n). $$
#
# We check it at a random point, in float64, by hand, by backward and by finite differences.

# %%
rng = np.random.default_rng(0)
w0, b0 = rng.standard_normal(2), rng.standard_normal(1)
X64, t64 = X_train.astype(np.float64), y_train.astype(np.float64)
residual = 1 / (1 + np.exp(-(X64 @ w0 + b0))) - t64  # σ(z) − t
dw_by_hand, db_by_hand = X64.T @ residual / len(t64), residual.mean(keepdims=True)

w = tge.tensor(w0, requires_grad=True)
b = tge.tensor(b0, requires_grad=True)
F.binary_cross_entropy_with_logits(tge.tensor(X64) @ w + b, tge.tensor(t64)).backward()
print("by hand:     dw =", dw_by_hand.round(6), " db =", db_by_hand.round(6))
print("by backward: dw =", w.grad.numpy().round(6), " db =", b.grad.numpy().round(6))
np.testing.assert_allclose(w.grad.numpy(), dw_by_hand, rtol=1e-12)
np.testing.assert_allclose(b.grad.numpy(), db_by_hand, rtol=1e-12)
assert tge.gradcheck(lambda w, b: F.binary_cross_entropy_with_logits(tge.tensor(X64) @ w + b, tge.tensor(t64)), [w, b])
print("finite differences agree (tge.gradcheck)")

# %% [markdown]
# ## Gradient descent, written out
#
# $\theta \leftarrow \theta - \eta\, \frac{\partial L}{\partial \theta}$, in four lines per step: forward,
# backward, move every parameter against its gradient, and clear the gradients. The move happens inside
# `tge.no_grad()`: it is bookkeeping, not part of the model, so it must not be recorded in the graph (tinygrad_edu
# refuses in-place changes to a tensor that requires grad otherwise). Clearing matters because gradients
# *accumulate*: a second `backward()` adds to `.grad`, which is what you want when a parameter is used twice, and
# a bug when you forget.

# %%
w = tge.zeros(2, requires_grad=True)
b = tge.zeros(1, requires_grad=True)
lr = 1.0
for step in range(200):
    loss = F.binary_cross_entropy_with_logits(x @ w + b, t)
    loss.backward()
    with tge.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad, b.grad = None, None  # forget this step's gradients
    if step in (0, 1, 10, 199):
        print(f"step {step:3d}  loss {loss.item():.4f}")


def accuracy(logits: tge.Tensor, labels: np.ndarray) -> float:
    """The share of points on the right side: logit > 0 means class 1."""
    return float(((logits.numpy() > 0) == labels).mean())


with tge.no_grad():
    linear_val = accuracy(tge.tensor(X_val) @ w + b, y_val)
print(f"logistic regression: validation accuracy {linear_val:.3f}")
assert loss.item() < 0.35 and 0.8 < linear_val < 0.95  # better than chance, but a line cannot follow the moons

# %% [markdown]
# **Running totals take `loss.item()`.** To average the loss over an epoch, add up numbers, not
# tensors: `total += loss.item()`. A tensor `total = total + loss` is itself a result in the graph,
# so it keeps every step's graph alive (one node per op per step: memory grows with every batch),
# and its value is only needed for printing. `.item()` is a plain Python float with no history.

# %%
total = 0.0
for _ in range(5):
    loss = F.binary_cross_entropy_with_logits(x @ w + b, t)
    total += loss.item()  # a float: nothing of the graph is kept
print(f"mean loss over 5 batches {total / 5:.4f}")

# %% [markdown]
# ## The same loop, PyTorch style
#
# A straight line cannot separate two moons. A small network can: `nn.Sequential` chains layers,
# `model.parameters()` finds every weight, and an optimizer owns the update. The loop keeps its
# shape; the four lines become `zero_grad`, `backward`, `step`, and the data arrive in shuffled
# mini-batches from a `DataLoader`.

# %%
tge.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
opt = optim.Adam(model.parameters(), lr=0.01)
loader = DataLoader(TensorDataset(X_train, y_train.astype(np.float32)), batch_size=32, shuffle=True, seed=0)
for _epoch in range(sized(full=60, fast=20)):
    for xb, tb in loader:
        loss = F.binary_cross_entropy_with_logits(model(xb).squeeze(1), tb)
        opt.zero_grad()
        loss.backward()
        opt.step()
with tge.no_grad():
    mlp_val = accuracy(model(tge.tensor(X_val)).squeeze(1), y_val)
print(f"MLP 2-32-32-1: validation accuracy {mlp_val:.3f}  (the line: {linear_val:.3f})")
assert mlp_val > linear_val + 0.08 and mlp_val >= 0.9

# %% [markdown]
# The two models' decisions on the plane: each colour is the region the model calls that class, the points are
# the validation set (which neither model trained on), and the black line is the boundary, logit $= 0$.

# %%
grid = np.stack(np.meshgrid(np.linspace(-1.5, 2.5, 120), np.linspace(-1.0, 1.5, 100)), axis=-1).reshape(-1, 2)
gx, gy = grid[:, 0].reshape(100, 120), grid[:, 1].reshape(100, 120)
fig = Figure(figsize=(10, 3.8))
with tge.no_grad():
    surfaces = [(tge.tensor(grid.astype(np.float32)) @ w + b, "logistic regression", linear_val),
                (model(tge.tensor(grid.astype(np.float32))).squeeze(1), "MLP 2-32-32-1", mlp_val)]  # fmt: skip
for i, (logits, title, val_acc) in enumerate(surfaces):
    ax = fig.add_subplot(1, 2, i + 1)
    ax.contourf(gx, gy, logits.numpy().reshape(100, 120) > 0, levels=[-0.5, 0.5, 1.5], colors=["#dbe9f6", "#fde9c9"])
    ax.contour(gx, gy, logits.numpy().reshape(100, 120), levels=[0.0], colors="k", linewidths=1)
    for label, colour in ((0, "tab:blue"), (1, "tab:red")):
        ax.scatter(*X_val[y_val == label].T, s=10, color=colour, label=f"class {label} (validation)")
    ax.plot([], [], "k-", lw=1, label="decision boundary (logit = 0)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"{title}: validation accuracy {val_acc:.3f}", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
fig.suptitle("05: two moons, the regions each model assigns to the classes")
print("decision regions drawn to", show(fig, "05_moons.png"))

# %% [markdown]
# ## SGD with momentum, written out and checked
#
# PyTorch's momentum (and ours) keeps a running *velocity* $b$ per parameter:
#
# $$ b \leftarrow \mu\, b + g \quad (b = g \text{ at the first step}), \qquad
#    \theta \leftarrow \theta - \mathrm{lr}\cdot b. $$
#
# Here is `optim.SGD.update` as the library has it (the docstring also covers dampening, weight decay and
# Nesterov):

# %%
source = quote(optim.SGD, names=("update",))
assert "b ← μ·b + (1 − τ)·g" in source and "theta -= lr * g" in source

# %% [markdown]
# Below, two copies of one network start from the same weights and see the same batches. One is
# updated by `optim.SGD(momentum=0.9)`, the other by those two lines on plain NumPy arrays. If the
# library's rule were anything else, the weights would drift apart within a step or two.


# %%
def make_net() -> nn.Module:
    tge.manual_seed(1)  # the same initial weights every call
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))


def gradients(net: nn.Module, xb: tge.Tensor, tb: tge.Tensor) -> list[np.ndarray]:
    """Forward and backward on one batch; the gradient of every parameter, as arrays."""
    net.zero_grad()
    F.binary_cross_entropy_with_logits(net(xb).squeeze(1), tb).backward()
    return [p.grad.numpy() for p in net.parameters()]


batches = list(itertools.islice(DataLoader(TensorDataset(X_train, t.numpy()), batch_size=32), 5))  # 5 fixed batches
by_library, by_hand = make_net(), make_net()
opt = optim.SGD(by_library.parameters(), lr=0.1, momentum=0.9)
velocity = [None] * len(list(by_hand.parameters()))
for xb, tb in batches:
    gradients(by_library, xb, tb)
    opt.step()
    for i, (theta, g) in enumerate(zip(by_hand.parameters(), gradients(by_hand, xb, tb))):
        velocity[i] = g.copy() if velocity[i] is None else 0.9 * velocity[i] + g  # b ← μ·b + g
        theta.array[...] -= 0.1 * velocity[i]  # θ ← θ − lr·b
for p, q in zip(by_library.parameters(), by_hand.parameters()):
    np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-7)
print("SGD(momentum=0.9): 5 steps by hand == optim.SGD")

# %% [markdown]
# ## Adam, written out and checked
#
# Adam (Kingma & Ba, 2015) keeps two running averages per weight, of the gradient and of its square,
# and divides one by the root of the other. At step $t = 1, 2, \dots$, with $\beta_1 = 0.9$, $\beta_2 = 0.999$,
# $\varepsilon = 10^{-8}$:
#
# $$ m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2, $$
#
# $$ \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
#    \theta \leftarrow \theta - \mathrm{lr} \cdot \frac{\hat m}{\sqrt{\hat v} + \varepsilon}. $$
#
# Same test as before: by hand on arrays against `optim.Adam`, five steps. We also follow one
# weight through the first three, every intermediate number printed.

# %%
beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 1e-3
by_library, by_hand = make_net(), make_net()
opt = optim.Adam(by_library.parameters(), lr=lr)
n_params = len(list(by_hand.parameters()))
m, v = [0.0] * n_params, [0.0] * n_params
print(f"{'t':>2} {'g':>10} {'m':>11} {'v':>11} {'m̂':>10} {'v̂':>11} {'Δθ':>11}   (weight [0, 0] of the first layer)")
for step, (xb, tb) in enumerate(batches, start=1):
    gradients(by_library, xb, tb)
    opt.step()
    for i, (theta, g) in enumerate(zip(by_hand.parameters(), gradients(by_hand, xb, tb))):
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g**2
        m_hat, v_hat = m[i] / (1 - beta1**step), v[i] / (1 - beta2**step)
        delta = -lr * m_hat / (np.sqrt(v_hat) + eps)
        theta.array[...] += delta
        if i == 0 and step <= 3:
            print(f"{step:>2} {g[0, 0]:10.6f} {m[i][0, 0]:11.7f} {v[i][0, 0]:11.4e} {m_hat[0, 0]:10.6f} "
                  f"{v_hat[0, 0]:11.4e} {delta[0, 0]:11.4e}")  # fmt: skip
for p, q in zip(by_library.parameters(), by_hand.parameters()):
    np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-7)
print("Adam: 5 steps by hand == optim.Adam")

# %% [markdown]
# ## Why Adam divides by (1 − βᵗ): the bias correction
#
# $m$ and $v$ start at 0, so early on they are mostly that 0. After one step $m = (1 - \beta_1) g = 0.1\, g$, ten
# times too small, and $v = (1 - \beta_2) g^2 = 0.001\, g^2$, a thousand times too small. Versions of Adam
# without the correction are easy to find, and it is tempting to think that leaving it out only makes
# the first steps timid, since $m$ is small. The opposite is true: the *step* is $m/\sqrt{v}$, and $v$ is shrunk
# much more than $m$, so
#
# $$ \frac{m}{\sqrt{v}} = \frac{0.1\, g}{\sqrt{0.001}\, |g|} = 3.16 \cdot \mathrm{sign}(g): $$
#
# **the first step is 3.16 times too large**, not small.
#
# With the correction, $\hat m = g$ and $\hat v = g^2$, so the first step is
# $\mathrm{lr} \cdot g / (|g| + \varepsilon) \approx \mathrm{lr} \cdot \mathrm{sign}(g)$:
# every weight moves by the learning rate, whatever its gradient's size. Here are both, computed
# from a real gradient, next to what `optim.Adam` did on its first step:

# %%
net = make_net()
g = gradients(net, *batches[0])[0]  # the first layer's weight gradient, (16, 2)
theta_before = net[0].weight.numpy().copy()
opt = optim.Adam(net.parameters(), lr=lr)
opt.step()
step_by_adam = net[0].weight.numpy() - theta_before

m1, v1 = (1 - beta1) * g, (1 - beta2) * g**2
uncorrected = -lr * m1 / (np.sqrt(v1) + eps)
corrected = -lr * (m1 / (1 - beta1)) / (np.sqrt(v1 / (1 - beta2)) + eps)
big = np.abs(g) > 1e-4  # where ε (1e-8) is negligible next to |g|
print("m / m̂ at t = 1:", (m1[big] / (m1[big] / (1 - beta1))).mean().round(6), "(= 1 − β1)")
print("first step / lr, with the correction:   ", (corrected[0] / lr).round(4))
print("first step / lr, without the correction:", (uncorrected[0] / lr).round(4))
print("optim.Adam's first step / lr:           ", (step_by_adam[0] / lr).round(4))
ratio = uncorrected[big] / corrected[big]
print(f"uncorrected / corrected: {ratio.min():.4f} … {ratio.max():.4f}   (0.1/√0.001 = {0.1 / np.sqrt(0.001):.4f})")
np.testing.assert_allclose(ratio, 0.1 / np.sqrt(0.001), rtol=1e-3)
np.testing.assert_allclose(step_by_adam[big], -lr * np.sign(g[big]), atol=1e-6)  # lr·sign(g), to float32 rounding
np.testing.assert_allclose(step_by_adam, corrected, atol=1e-6)

# %% [markdown]
# How long does the distortion last? For a gradient that stays the same, the uncorrected step is
# $\frac{1 - \beta_1^t}{\sqrt{1 - \beta_2^t}}$ times the corrected one. $\beta_1$'s average warms up within tens of
# steps, $\beta_2$'s within thousands, so the error *grows* before it fades:

# %%
ts = np.array([1, 2, 5, 10, 20, 50, 100, 1000, 10000])
factor = (1 - beta1**ts) / np.sqrt(1 - beta2**ts)
for step, f in zip(ts, factor):
    print(f"t = {step:>5}: uncorrected step = {f:5.2f} × the corrected one")
peak = np.argmax((1 - beta1 ** np.arange(1, 5001)) / np.sqrt(1 - beta2 ** np.arange(1, 5001))) + 1
print(f"largest at t = {peak}: {(1 - beta1**peak) / np.sqrt(1 - beta2**peak):.2f} ×")
assert abs(factor[0] - 3.1623) < 1e-4 and factor[3] > 6.5 and peak == 12 and factor[-1] < 1.0001
assert abs((1 - beta1**peak) / np.sqrt(1 - beta2**peak) - 6.6) < 0.05  # 6.6× at t = 12
assert factor[6] > 3  # still more than three times at t = 100

t_all = np.arange(1, 10001)
fig = Figure(figsize=(6, 3.4))
ax = fig.subplots()
ax.semilogx(t_all, (1 - beta1**t_all) / np.sqrt(1 - beta2**t_all), label="uncorrected / corrected step")
ax.axhline(1.0, color="k", lw=0.8, ls=":", label="1 (no distortion)")
ax.set_xlabel("step t")
ax.set_ylabel("step-size ratio")
ax.set_title("05: Adam without bias correction, for a constant gradient")
ax.legend(fontsize=8)
show(fig, "05_adam_bias.png")

# %% [markdown]
# Ten-odd steps in, an Adam without its correction steps more than six times too far (6.6× at
# t = 12), still more than three times at t = 100, and the error fades only after thousands of steps.
# It often still converges, which is how the mistake survives in copied code, but for its first
# hundreds of steps it behaves like Adam with a learning rate several times larger than the one you
# chose: exactly when the weights are random and the gradients largest.
#
# ## The default recipe of `tinygrad-edu train`, in a dozen lines
#
# An MLP 64-128-10 on the 8×8 digits: a stratified 80/20 train/test split, 10 % of the training
# part held out for validation, pixels standardised with statistics of the *training* part only,
# Adam with lr = 1e−3, batches of 32, 30 epochs. Each epoch we record the loss and accuracy on the
# training and validation data for `viz.plot_history`.

# %%
digits = load_digits()  # 1797 images, flattened to 64 pixels in [0, 1]
pixels, labels = digits.data, digits.targets
X_all, X_test, y_all, y_test = train_test_split(pixels, labels, test_size=0.2, seed=0, stratify=labels)
X_train, X_val, y_train, y_val = train_test_split(X_all, y_all, test_size=0.1, seed=0, stratify=y_all)
scale = Standardize().fit(X_train)  # μ and σ of each pixel, from the training part only
X_train, X_val, X_test = scale(X_train), scale(X_val), scale(X_test)
tge.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
opt = optim.Adam(model.parameters(), lr=1e-3)
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
history = []
for epoch in range(1, sized(full=30, fast=8) + 1):
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with tge.no_grad():  # evaluate: no graph needed
        row = {"epoch": epoch}
        for split, (xs, ys) in {"train": (X_train, y_train), "val": (X_val, y_val)}.items():
            logits = model(tge.tensor(xs))
            row[f"{split}_loss"] = F.cross_entropy(logits, tge.tensor(ys)).item()
            row[f"{split}_acc"] = float((logits.argmax(dim=1).numpy() == ys).mean())
    history.append(row)

with tge.no_grad():
    test_acc = float((model(tge.tensor(X_test)).argmax(dim=1).numpy() == y_test).mean())
last = history[-1]
print(f"after {last['epoch']} epochs: train acc {last['train_acc']:.3f}, val acc {last['val_acc']:.3f}, "
      f"test acc {test_acc:.3f}")  # fmt: skip
fig = viz.plot_history(history)
fig.suptitle("05: MLP 64-128-10 on the digits, Adam lr = 1e-3", y=1.02)
print("curves drawn to", show(fig, "05_history.png"))
assert test_acc >= (0.93 if FAST else 0.96)
assert history[-1]["train_loss"] < history[0]["train_loss"]
if not FAST:  # the claims of the next cell, on the full 30 epochs
    val_loss = [row["val_loss"] for row in history]
    assert val_loss[14] - val_loss[-1] < 0.05 * (val_loss[0] - val_loss[14])  # flat after the first fifteen epochs
    assert history[-1]["train_loss"] < 0.01 < 0.05 < history[-1]["val_loss"]  # while the training loss heads to 0

# %% [markdown]
# About 97 % of digits the network has never seen are right. Read the curves: the training loss
# keeps falling towards 0 while the validation loss flattens after ten-odd epochs. From there the
# network mostly gets more *confident* on the training images; when the validation loss starts to
# *rise*, it has begun to memorise them, and that is the moment to stop
# (`optim.EarlyStopping(patience=...)` does it for you and keeps the best weights).
#
# `tinygrad-edu train` runs these same lines (`tinygrad_edu/trainer.py`, `train_epoch`), with a
# progress bar, checkpoints and a confusion matrix around them.
#
# ## Exercises
#
# 1. Count the parameters of the MLP 64-128-10 by hand ($64 \cdot 128 + 128 + 128 \cdot 10 + 10$) and check
#    `num_parameters()`; compare with the 6,090 of lesson 06's CNN.
# 2. Weight decay: `optim.SGD(..., weight_decay=λ)` should take the same step as plain SGD on the loss plus
#    $\frac{\lambda}{2}\lVert\theta\rVert^2$, i.e. on the gradient $g + \lambda \theta$. Check it for one step.
# 3. Nesterov momentum in PyTorch's form is $b \leftarrow \mu b + g$,
#    $\theta \leftarrow \theta - \mathrm{lr}(g + \mu b)$. Write it by hand on arrays and check five steps
#    against `optim.SGD(momentum=0.9, nesterov=True)`.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Weights plus biases of each layer.
by_hand_count = 64 * 128 + 128 + 128 * 10 + 10
print("parameters by hand:", by_hand_count, " num_parameters():", model.num_parameters())
assert by_hand_count == model.num_parameters() == 9610 and by_hand_count > 6090

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. One step with weight_decay = λ equals one step of plain SGD with the gradient g + λθ.
lam = 0.01
decayed, plain = make_net(), make_net()
before = [p.numpy().copy() for p in plain.parameters()]
gradients(decayed, *batches[0])
optim.SGD(decayed.parameters(), lr=0.1, weight_decay=lam).step()
for theta, theta0, g in zip(plain.parameters(), before, gradients(plain, *batches[0])):
    theta.array[...] -= 0.1 * (g + lam * theta0)
for p, q in zip(decayed.parameters(), plain.parameters()):
    np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-7)
print("SGD(weight_decay=0.01) == SGD on g + λθ")

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Nesterov: the step looks ahead along the updated buffer.
by_library, by_hand = make_net(), make_net()
opt = optim.SGD(by_library.parameters(), lr=0.1, momentum=0.9, nesterov=True)
velocity = [None] * len(list(by_hand.parameters()))
for xb, tb in batches:
    gradients(by_library, xb, tb)
    opt.step()
    for i, (theta, g) in enumerate(zip(by_hand.parameters(), gradients(by_hand, xb, tb))):
        velocity[i] = g.copy() if velocity[i] is None else 0.9 * velocity[i] + g
        theta.array[...] -= 0.1 * (g + 0.9 * velocity[i])
for p, q in zip(by_library.parameters(), by_hand.parameters()):
    np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-7)
print("SGD(momentum=0.9, nesterov=True): 5 steps by hand == optim.SGD")

# %% [markdown]
# **Next:** 06 · convolution, by hand, as a matmul, and backward.

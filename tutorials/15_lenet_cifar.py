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
# # 15 · LeNet: the classic convolutional network
#
# **You will be able to:** build LeNet-5 (conv 6 → pool → conv 16 → pool → 120 → 84 → 10) from `nn.Conv2d`,
# `nn.MaxPool2d` and `nn.Linear`, predicting every layer's output shape and parameter count; normalise image
# channels with statistics of the training set; train it with SGD and momentum 0.9; and look inside it at the
# first layer's filters and feature maps.
#
# **Run time:** about 8 s of CPU time on the digits (`TGE_FAST=1`: about 4 s); a few minutes on CIFAR-10.
#
# **Which data.** The lesson uses the real CIFAR-10 (60 000 colour photos, 32×32, in 10 classes) *if its files
# are on this machine*: the binary release unpacked as `cifar-10-batches-bin/` under the folder named by the
# environment variable `TGE_DATA`, or under `data/` at the top of the repository (where
# `tinygrad-edu train --dataset cifar10 --download` puts it). It never downloads. Without those files it uses the
# 8×8 digits bundled with scikit-learn, scaled up to 24×24 and padded to 3×32×32, the input shape LeNet expects.
# (LeCun et al. padded their 28×28 MNIST digits to 32×32 too.) The cell below prints which one it used.

# %%
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.data import DataLoader, Normalize, TensorDataset, train_test_split
from tinygrad_edu.datasets import DatasetError, cifar10, load_digits

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # tutorials/
CANDIDATES = [Path(p) for p in (os.environ.get("TGE_DATA"), HERE.parent / "data") if p]


def load_cifar() -> tuple | None:
    """(X_train, y_train, X_test, y_test, class names) from the first folder holding CIFAR-10, or None."""
    for root in CANDIDATES:
        if not (root / "cifar-10-batches-bin" / "data_batch_1.bin").is_file():
            continue
        try:
            train, test = cifar10(root, train=True), cifar10(root, train=False)  # never download=True
        except DatasetError as e:
            print(f"found CIFAR-10 files under {root} but could not read them: {e}")
            continue
        as_images = lambda d: (d.data.transpose(0, 3, 1, 2) / np.float32(255)).astype(np.float32)  # noqa: E731
        print(f"CIFAR-10 files found under {root}")
        return as_images(train), train.targets, as_images(test), test.targets, list(train.classes)
    return None


def digits_as_32x32() -> tuple:
    """The 8×8 digits, each pixel repeated 3×3 (24×24), padded by 4 (32×32), copied into 3 channels."""
    digits = load_digits()
    big = digits.images.repeat(3, axis=2).repeat(3, axis=3)  # (N, 1, 24, 24)
    padded = np.pad(big, ((0, 0), (0, 0), (4, 4), (4, 4)))  # (N, 1, 32, 32)
    X = np.ascontiguousarray(np.broadcast_to(padded, (len(padded), 3, 32, 32)), dtype=np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, digits.targets, test_size=0.25, seed=0,
                                                        stratify=digits.targets)  # fmt: skip
    return X_train, y_train, X_test, y_test, digits.classes


cifar = load_cifar()
DATA = "CIFAR-10" if cifar is not None else "digits"
if cifar is not None:
    X_train, y_train, X_test, y_test, CLASSES = cifar
    n_train, n_test = sized(full=20_000, fast=5_000), sized(full=5_000, fast=1_000)
    X_train, y_train, X_test, y_test = X_train[:n_train], y_train[:n_train], X_test[:n_test], y_test[:n_test]
    EPOCHS = sized(full=4, fast=2)
else:
    X_train, y_train, X_test, y_test, CLASSES = digits_as_32x32()
    EPOCHS = sized(full=12, fast=4)
print(f"data: {DATA}" + ("" if cifar is not None else " (no CIFAR-10 files found in "
      f"{', '.join(str(c) for c in CANDIDATES)}): the 8×8 digits padded to 3×32×32"))  # fmt: skip
print(f"train {X_train.shape}, test {X_test.shape}, {EPOCHS} epochs")
assert X_train.shape[1:] == (3, 32, 32) and X_test.shape[1:] == (3, 32, 32)

# %% [markdown]
# ## Per-channel normalisation
#
# Each colour channel $c$ is shifted and scaled by the mean $\mu_c$ and standard deviation $\sigma_c$ of that
# channel over **the training images only** (every pixel of every image):
# $$ x'_{c,i,j} = \frac{x_{c,i,j} - \mu_c}{\sigma_c} . $$
# Inputs centred at 0 with unit spread give the first layer's gradients a balanced sign and a sensible size: with
# pixels in $[0,1]$, all positive, the gradient $dw = dy\cdot x$ of every weight feeding one unit has the sign
# of that unit's $dy$, so those weights can only all grow or all shrink together. The test images use the
# training set's $\mu_c, \sigma_c$: the test set must not leak into training. The library's transform, applied
# to one sample at a time:

# %%
quote(Normalize.__call__)
mean = X_train.mean(axis=(0, 2, 3), dtype=np.float64)  # float64 sums: 20 million pixels for CIFAR-10
std = X_train.std(axis=(0, 2, 3), dtype=np.float64)
normalize = Normalize(mean, std)
X_train_n = ((X_train - mean[:, None, None]) / std[:, None, None]).astype(np.float32)
X_test_n = ((X_test - mean[:, None, None]) / std[:, None, None]).astype(np.float32)
print("channel means", mean.round(4), " stds", std.round(4))
np.testing.assert_allclose(normalize(X_train[0]), X_train_n[0], rtol=1e-5, atol=1e-5)  # one sample, same numbers
np.testing.assert_allclose(X_train_n.mean(axis=(0, 2, 3), dtype=np.float64), 0, atol=1e-4)
np.testing.assert_allclose(X_train_n.std(axis=(0, 2, 3), dtype=np.float64), 1, rtol=1e-4)

# %% [markdown]
# ## LeNet, layer by layer
#
# A convolution with a $K\times K$ kernel, stride $S$ and padding $P$ maps a side of $H$ pixels to
# $\lfloor (H + 2P - K)/S \rfloor + 1$, and has $(C_\text{in} K^2 + 1)\,C_\text{out}$ parameters (one bias per
# output channel). With $K=5$, $P=0$, $S=1$ and 2×2 max pooling:
# $$ 3{\times}32{\times}32 \xrightarrow{\text{conv }5\times5} 6{\times}28{\times}28 \xrightarrow{\text{pool}}
#    6{\times}14{\times}14 \xrightarrow{\text{conv }5\times5} 16{\times}10{\times}10 \xrightarrow{\text{pool}}
#    16{\times}5{\times}5 = 400 \to 120 \to 84 \to 10 . $$
# LeCun's 1998 original used scaled tanh units and trainable average pooling ("subsampling"); we use the modern
# choices, ReLU and max pooling. The optimiser is SGD with momentum $\mu = 0.9$:
# $b \leftarrow \mu b + g,\; \theta \leftarrow \theta - \eta\, b$, as in the library:

# %%
quote(optim.SGD.update)


def lenet() -> nn.Sequential:
    """LeNet-5 for 3×32×32 inputs, with ReLU and max pooling."""
    return nn.Sequential(
        nn.Conv2d(3, 6, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )  # fmt: skip


tge.manual_seed(0)
model = lenet()
h = tge.tensor(X_train_n[:2])
shapes = []
with tge.no_grad():
    for layer in model:
        h = layer(h)
        shapes.append(tuple(h.shape[1:]))
        print(f"{type(layer).__name__:10s} → {tuple(h.shape)}")
assert shapes[0] == (6, 28, 28) and shapes[2] == (6, 14, 14) and shapes[3] == (16, 10, 10)
assert shapes[5] == (16, 5, 5) and shapes[6] == (400,) and shapes[-1] == (10,)
by_formula = (3 * 25 + 1) * 6 + (6 * 25 + 1) * 16 + (400 + 1) * 120 + (120 + 1) * 84 + (84 + 1) * 10
n_params = sum(p.numel() for p in model.parameters())
print(f"parameters: {n_params} (by the formula: {by_formula})")
assert n_params == by_formula == 62_006

# %% [markdown]
# ## Training
#
# Mini-batches of 32, SGD with learning rate 0.01 and momentum 0.9, cross-entropy loss; after every epoch the
# test accuracy is measured in evaluation mode.

# %%
loader = DataLoader(TensorDataset(X_train_n, y_train), batch_size=32, shuffle=True, seed=0)
opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def test_accuracy(model: nn.Module) -> float:
    """Accuracy on the test images, in batches of 500."""
    model.eval()
    with tge.no_grad():
        hits = sum(int((model(tge.tensor(X_test_n[i : i + 500])).numpy().argmax(1) == y_test[i : i + 500]).sum())
                   for i in range(0, len(X_test_n), 500))  # fmt: skip
    model.train()
    return hits / len(X_test_n)


batch_losses, epoch_losses, accuracies = [], [], [test_accuracy(model)]
for epoch in range(EPOCHS):
    total = 0.0
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        batch_losses.append(loss.item())
        total += loss.item() * len(yb)
    epoch_losses.append(total / len(X_train_n))
    accuracies.append(test_accuracy(model))
    print(f"epoch {epoch + 1}: training loss {epoch_losses[-1]:.4f}, test accuracy {accuracies[-1]:.3f}")

# %% [markdown]
# The accuracy it should reach is what we assert: on the digits LeNet gets about 96 % in 12 epochs (asserted:
# above 93 %; above 85 % in the 4 epochs of fast mode). On CIFAR-10, a much harder problem, this small net
# trained on 20 000 photos for 4 epochs should get roughly 40-50 % (chance is 10 %); we assert above 35 %
# (above 15 % in fast mode's short run).

# %%
threshold = {("digits", False): 0.93, ("digits", True): 0.85, ("CIFAR-10", False): 0.35, ("CIFAR-10", True): 0.15}
print(f"{DATA}: test accuracy {accuracies[0]:.3f} before training, {accuracies[-1]:.3f} after {EPOCHS} epochs "
      f"(asserted > {threshold[DATA, FAST]})")  # fmt: skip
assert accuracies[-1] > threshold[DATA, FAST]
assert epoch_losses[-1] < epoch_losses[0] and np.mean(batch_losses[-20:]) < np.mean(batch_losses[:20])

fig = Figure(figsize=(11, 3.8))
ax_loss, ax_acc = fig.subplots(1, 2)
steps_per_epoch = len(batch_losses) / EPOCHS
ax_loss.plot(np.arange(1, len(batch_losses) + 1) / steps_per_epoch, batch_losses, lw=0.5, alpha=0.5,
             label="each mini-batch")  # fmt: skip
ax_loss.plot(np.arange(1, EPOCHS + 1), epoch_losses, marker="o", label="epoch mean")
ax_loss.set(title=f"LeNet on {DATA}: training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
ax_loss.legend()
ax_acc.plot(np.arange(0, EPOCHS + 1), accuracies, marker="o")
ax_acc.set(title=f"LeNet on {DATA}: test accuracy", xlabel="epoch", ylabel="test accuracy", ylim=(0, 1))
show(fig, "15_lenet_training.png")

# %% [markdown]
# ## Inside the first layer
#
# The first convolution has six 3×5×5 filters. Each output map is one filter slid over the image: a strong value
# where the patch under it looks like the filter. Below, the filters (averaged over the three colour channels,
# which are identical copies for the digits) and the six maps they make of one test image.

# %%
filters = model[0].weight.detach().numpy()  # (6, 3, 5, 5)
image = X_test_n[:1]
with tge.no_grad():
    maps = model[1](model[0](tge.tensor(image))).numpy()[0]  # after the ReLU: (6, 28, 28)
assert filters.shape == (6, 3, 5, 5) and maps.shape == (6, 28, 28)
fig = Figure(figsize=(12, 4.4))
axes = fig.subplots(2, 7)
shown = X_test[0].transpose(1, 2, 0)
axes[0, 0].imshow(shown if DATA == "CIFAR-10" else shown[:, :, 0], cmap="gray")
axes[0, 0].set_title(f"input ({CLASSES[y_test[0]]})", fontsize=8)
axes[1, 0].set_visible(False)
for k in range(6):
    axes[0, k + 1].imshow(filters[k].mean(0), cmap="RdBu_r")
    axes[0, k + 1].set_title(f"filter {k}", fontsize=8)
    axes[1, k + 1].imshow(maps[k], cmap="viridis")
    axes[1, k + 1].set_title(f"map {k}", fontsize=8)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"LeNet's first layer on {DATA}: filters (top) and the ReLU feature maps of one test image (bottom)")
show(fig, "15_lenet_filters.png")

# %% [markdown]
# ## Exercises
#
# 1. **Why 32×32?** Feed LeNet a batch of 28×28 images (MNIST's size) without padding. Work out by the formula
#    what size arrives at `Flatten`, and check that the first `Linear` refuses it, naming both shapes.
# 2. **Receptive field.** Each of the 400 numbers that leave the second pooling layer depends on only part of the
#    32×32 input. Work out how large that part is, then measure it: back-propagate from one of them to the input
#    and see where the gradient is non-zero.
# 3. **Momentum's effective step.** With a gradient that stays the same, step after step, how far does SGD with
#    momentum $\mu=0.9$ move per step once the buffer has filled up? Check it with `optim.SGD` on one parameter.

# %% tags=["solution"] jupyter={"source_hidden": true}
side = 28
for kernel, pool in ((5, 2), (5, 2)):
    side = (side - kernel + 1) // pool  # 28 → 24 → 12 → 8 → 4
print(f"28×28 input: 16×{side}×{side} = {16 * side * side} features reach Flatten, Linear expects 400")
assert side == 4
try:
    model(tge.zeros(2, 3, 28, 28))
    raise AssertionError("a 28×28 input should not fit")
except (ValueError, RuntimeError) as e:
    print("the library says:", e)
    assert "256" in str(e) and "400" in str(e)

# %% tags=["solution"] jupyter={"source_hidden": true}
# conv 5×5: 5 pixels; pool 2: +1 (steps of 2 now); conv 5×5: +4·2; pool 2: +1·2 → 5 + 1 + 8 + 2 = 16.
x = tge.tensor(X_test_n[:1], requires_grad=True)
features = model[:6](x)  # up to the second pooling layer: (1, 16, 5, 5)
channel = int(features.detach().numpy()[0, :, 2, 2].argmax())  # a channel active at position (2, 2): ReLU > 0
features[0, channel, 2, 2].backward()
rows, cols = np.nonzero(np.abs(x.grad.numpy()[0]).sum(0))
print(f"feature ({channel}, 2, 2) sees rows {rows.min()}..{rows.max()}, columns {cols.min()}..{cols.max()}")
# Its window is rows/columns 8..23; max pooling passes the gradient to one position of each 2×2, so the
# non-zero part can be a little smaller than the window, never larger.
assert 8 <= rows.min() and rows.max() <= 23 and 8 <= cols.min() and cols.max() <= 23
assert rows.max() - rows.min() + 1 >= 12 and cols.max() - cols.min() + 1 >= 12

# %% tags=["solution"] jupyter={"source_hidden": true}
# b ← 0.9·b + g with g fixed converges to g/(1 − 0.9) = 10·g: each step moves lr·10·g, ten times plain SGD.
theta = tge.tensor(np.array([0.0]), requires_grad=True)
sgd = optim.SGD([theta], lr=0.01, momentum=0.9)
positions = []
for _ in range(100):
    theta.grad = tge.ones(1, dtype=tge.float64)  # the same gradient every step
    sgd.step()
    positions.append(theta.item())
last_step = positions[-2] - positions[-1]
print(f"step 100 moves by {last_step:.5f} = {last_step / 0.01:.3f} × lr")
assert abs(last_step / 0.01 - 10) < 0.01

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
# # 16 · Residual networks
#
# **You will be able to:** write a ResNet basic block (two 3×3 convolutions with BatchNorm, and an identity or a
# 1×1 projection shortcut) from the library's `nn` layers; explain with one line of calculus why a skip
# connection keeps the gradient alive through many layers; measure the gradient norm of every block of a
# 20-layer network at initialisation with and without skips; and see the residual network train faster.
#
# **Run time:** about 12 s of CPU time (`TGE_FAST=1`: about 5 s).

# %%
import inspect
import math

import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.data import train_test_split
from tinygrad_edu.datasets import load_digits
from tinygrad_edu.ops.elementwise import Add

N_TRAIN = sized(full=1347, fast=640)
EPOCHS = sized(full=4, fast=2)
print("fast mode" if FAST else "full mode", f"- {N_TRAIN} training digits, {EPOCHS} epochs")

# %% [markdown]
# ## The idea: learn a correction, not a whole new mapping
#
# A plain network computes $h_{l+1} = F_l(h_l)$ layer after layer. A residual block computes
# $$ y = x + F(x), $$
# so a block that has nothing useful to add can simply learn $F \approx 0$ and pass its input on. The chain
# rule for that sum is
# $$ \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x}
#    = \frac{\partial L}{\partial y}\Bigl(I + \frac{\partial F}{\partial x}\Bigr)
#    = \frac{\partial L}{\partial y} + \frac{\partial L}{\partial y}\,\frac{\partial F}{\partial x} . $$
# Through $n$ blocks the plain network's gradient is a product of $n$ Jacobians,
# $\prod_l \partial F_l/\partial h_l$, which shrinks or grows geometrically (lesson 14); the residual network's is
# $\prod_l (I + \partial F_l/\partial h_l)$, which always contains the term $I$: the gradient from the loss reaches
# the first block *unchanged*, plus corrections. In code, the whole trick is the backward of an addition, which
# hands the same upstream gradient to both of its inputs:

# %%
quote(Add)

# %% [markdown]
# ## The basic block
#
# He et al. (2015)'s basic block: 3×3 convolution → BatchNorm → ReLU → 3×3 convolution → BatchNorm, plus the
# shortcut, then ReLU. When the block changes the shape (more channels, stride 2 to halve the image) $x$ cannot be
# added as it is; a **1×1 convolution with stride 2** (and BatchNorm), the *projection shortcut*, maps it to the
# new shape. The convolutions have no bias: the BatchNorm after them has its own shift β. `skip=False` gives the
# same block without the shortcut: the "plain" twin we compare against.


# %%
class BasicBlock(nn.Module):
    """y = relu(F(x) + shortcut(x)), F = conv3×3 → BN → ReLU → conv3×3 → BN; shortcut = identity or 1×1 conv + BN."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, skip: bool = True, batchnorm: bool = True) -> None:
        super().__init__()
        norm = nn.BatchNorm2d if batchnorm else (lambda c: nn.Identity())
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=not batchnorm)
        self.bn1 = norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=not batchnorm)
        self.bn2 = norm(c_out)
        self.skip = skip
        if stride == 1 and c_in == c_out:
            self.shortcut = nn.Identity()
        else:  # the projection shortcut: a 1×1 convolution to the new shape
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), norm(c_out))

    def forward(self, x: tge.Tensor) -> tge.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))  # F(x)
        if self.skip:
            out = out + self.shortcut(x)  # y = x + F(x)
        return F.relu(out)


def resnet(skip: bool = True, batchnorm: bool = True, blocks: tuple[int, int] = (6, 3)) -> nn.Sequential:
    """A small ResNet for 1×8×8 digits: a 3×3 stem (8 channels), `blocks[0]` blocks at 8 channels and 8×8,
    then `blocks[1]` at 16 channels and 4×4 (the first one with stride 2 and a projection shortcut), global
    average pooling and a linear classifier. With (6, 3) that is 1 + 2·9 = 19 convolutions + 1 linear = 20 layers.
    """
    tge.manual_seed(0)  # the same initial weights for every variant
    norm = [nn.BatchNorm2d(8)] if batchnorm else []
    layers = [nn.Conv2d(1, 8, 3, padding=1, bias=not batchnorm), *norm, nn.ReLU()]
    layers += [BasicBlock(8, 8, skip=skip, batchnorm=batchnorm) for _ in range(blocks[0])]
    layers += [BasicBlock(8, 16, stride=2, skip=skip, batchnorm=batchnorm)]
    layers += [BasicBlock(16, 16, skip=skip, batchnorm=batchnorm) for _ in range(blocks[1] - 1)]
    layers += [nn.AvgPool2d(4), nn.Flatten(), nn.Linear(16, 10)]
    return nn.Sequential(*layers)


print(inspect.getsource(BasicBlock.forward))
x = tge.randn(2, 8, 8, 8)
same, down = BasicBlock(8, 8), BasicBlock(8, 16, stride=2)
print("identity block:", tuple(same(x).shape), " projection block:", tuple(down(x).shape))
assert same(x).shape == (2, 8, 8, 8) and down(x).shape == (2, 16, 4, 4)
assert isinstance(same.shortcut, nn.Identity) and down.shortcut[0].weight.shape == (16, 8, 1, 1)
model = resnet()
n_convs = sum(isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1) for m in model.modules())
print(f"small ResNet: {n_convs} 3×3 convolutions, {sum(p.numel() for p in model.parameters())} parameters")
assert n_convs == 19

# %% [markdown]
# The chain rule above, checked on one block's branch $F$ (float64): the gradient of $x + F(x)$ minus the
# gradient of $F(x)$ alone is exactly the upstream gradient $\partial L/\partial y$, the $I$ term.

# %%
tge.manual_seed(1)
branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
branch = branch.double()
x_np, dy_np = np.random.default_rng(0).standard_normal((2, 2, 4, 5, 5))
x_res, x_plain = tge.tensor(x_np, requires_grad=True), tge.tensor(x_np, requires_grad=True)
(x_res + branch(x_res)).backward(tge.tensor(dy_np))
branch(x_plain).backward(tge.tensor(dy_np))
difference = x_res.grad.numpy() - x_plain.grad.numpy()
print(f"max |(dL/dx with skip − without) − dL/dy| = {np.abs(difference - dy_np).max():.1e}")
np.testing.assert_allclose(difference, dy_np, atol=1e-12)

# %% [markdown]
# ## Gradient norms at initialisation, block by block
#
# One batch of 32 digits, one backward pass through each of four fresh networks: with and without skips, with
# and without BatchNorm, all 20 layers deep and initialised the same way (the library's default,
# PyTorch's: $w \sim U(-1/\sqrt{n}, 1/\sqrt{n})$). For each block we record $\lVert \partial L/\partial W\rVert$
# of its first convolution.

# %%
digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.images, digits.targets, test_size=0.25, seed=0, stratify=digits.targets
)
mu, sigma = X_train.mean(), X_train.std()  # one channel: its mean and std over the training images
X_train, X_test = (X_train - mu) / sigma, (X_test - mu) / sigma
X_train, y_train = X_train[:N_TRAIN], y_train[:N_TRAIN]
xb, yb = tge.tensor(X_train[:32]), tge.tensor(y_train[:32])


def block_gradient_norms(net: nn.Sequential) -> np.ndarray:
    """‖dL/dW‖ of the first convolution of every block, after one backward pass on (xb, yb)."""
    F.cross_entropy(net(xb), yb).backward()
    return np.array([np.linalg.norm(m.conv1.weight.grad.numpy()) for m in net if isinstance(m, BasicBlock)])


norms = {
    (bn, skip): block_gradient_norms(resnet(skip=skip, batchnorm=bn)) for bn in (False, True) for skip in (False, True)
}  # noqa: E501
for (bn, skip), g in norms.items():
    kind = ("ResNet" if skip else "plain") + (" + BatchNorm" if bn else ", no normalisation")
    print(f"{kind:26s} block 1: {g[0]:9.2e}   block 9: {g[-1]:9.2e}   ratio first/last {g[0] / g[-1]:9.2e}")

# %%
fig = Figure(figsize=(11, 4))
axes = fig.subplots(1, 2)
blocks_axis = np.arange(1, 10)
for ax, bn in zip(axes, (False, True)):
    ax.plot(blocks_axis, norms[bn, False], marker="o", label="plain (no skips)")
    ax.plot(blocks_axis, norms[bn, True], marker="s", label="residual (y = x + F(x))")
    ax.set_yscale("log")
    ax.set(title="with BatchNorm" if bn else "no normalisation, default init",
           xlabel="block (1 = next to the input)", ylabel="‖dL/dW‖ of the block's first conv")  # fmt: skip
    ax.legend()
fig.suptitle("Gradient norm per block at initialisation, 20 layers deep")
fig.tight_layout()
show(fig, "16_gradient_norms.png")

# %% [markdown]
# What the figure shows (asserted below):
#
# - **Without normalisation**, the plain network's gradient vanishes geometrically towards the input: the first
#   block gets a gradient millions of times smaller than the last one; it would hardly learn at all. With
#   skips the gradient norm is about the same in every block.
# - **With BatchNorm**, the plain network's gradients do not vanish; they *grow* towards the input (a known
#   property of deep BatchNorm stacks at initialisation), by more than the residual network's do. The skips do not
#   make every block's gradient equal, but they keep the spread smaller.

# %%
plain, residual = norms[False, False], norms[False, True]
assert plain[0] < 1e-6 * plain[-1], "plain, no normalisation: millions of times smaller in the first block"
assert plain[0] < 1e-4 * residual[0], "while the residual net's first block gets a healthy gradient"
assert residual.max() / residual.min() < 5, "roughly equal in every block"
plain_bn, residual_bn = norms[True, False], norms[True, True]
assert plain_bn[0] / plain_bn[-1] > 1.5 * residual_bn[0] / residual_bn[-1]

# %% [markdown]
# ## Training both
#
# The small ResNet (with BatchNorm) against its plain twin: same initial weights, same batches, SGD with
# learning rate 0.05 and momentum 0.9, mini-batches of 32. The loss per mini-batch tells how fast each learns.
#
# One detail about evaluating after a *short* run. In evaluation mode BatchNorm uses running averages of the
# batch statistics (momentum 0.1: mostly the last ten or twenty batches). Early in training the weights still
# change fast, so those averages describe a network of a few steps ago, and evaluation-mode accuracy comes out
# far below what the network can do. Before each evaluation we therefore recompute the statistics over the
# training set with the current weights (`momentum=None` makes them a plain average over the batches seen), as
# "precise BatchNorm" does. Training is untouched.


# %%
def recalibrate_batchnorm(net: nn.Module) -> None:
    """Recompute every BatchNorm's running mean and variance over the training set, with the current weights."""
    layers = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in layers:
        bn.reset_running_stats()
        bn.momentum = None  # a cumulative average over the batches below
    net.train()
    with tge.no_grad():
        for start in range(0, len(X_train), 128):
            net(tge.tensor(X_train[start : start + 128]))
    for bn in layers:
        bn.momentum = 0.1


def train(net: nn.Sequential) -> tuple[list[float], list[float]]:
    """SGD momentum 0.9; returns the loss of every mini-batch and the test accuracy after every epoch."""
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    losses, accuracies = [], []
    for _epoch in range(EPOCHS):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            loss = F.cross_entropy(net(tge.tensor(X_train[idx])), tge.tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        recalibrate_batchnorm(net)
        net.eval()
        with tge.no_grad():
            accuracies.append(float((net(tge.tensor(X_test)).numpy().argmax(1) == y_test).mean()))
        net.train()
    return losses, accuracies


histories = {name: train(resnet(skip=skip)) for name, skip in (("plain", False), ("ResNet", True))}
smooth = lambda v: np.convolve(v, np.ones(10) / 10, mode="valid")  # noqa: E731  a 10-batch moving average
for name, (losses, accuracies) in histories.items():
    print(f"{name:7s} loss: first 10 batches {np.mean(losses[:10]):.3f}, last 10 {np.mean(losses[-10:]):.3f};"
          f"  test accuracy per epoch {np.round(accuracies, 3)}")  # fmt: skip

fig = Figure(figsize=(11, 4))
ax_loss, ax_acc = fig.subplots(1, 2)
for name, (losses, accuracies) in histories.items():
    steps = np.arange(10, len(losses) + 1)
    ax_loss.plot(steps, smooth(losses), label=name)
    ax_acc.plot(np.arange(1, EPOCHS + 1), accuracies, marker="o", label=name)
ax_loss.set(title="Training loss (10-batch moving average)", xlabel="mini-batch", ylabel="cross-entropy")
ax_acc.set(title="Test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
ax_loss.legend()
ax_acc.legend()
show(fig, "16_training.png")

# %%
plain_loss, res_loss = np.mean(histories["plain"][0][-10:]), np.mean(histories["ResNet"][0][-10:])
plain_acc, res_acc = histories["plain"][1][-1], histories["ResNet"][1][-1]
print(f"last 10 batches: plain {plain_loss:.3f}, ResNet {res_loss:.3f}; test accuracy plain {plain_acc:.3f}, "
      f"ResNet {res_acc:.3f}")  # fmt: skip
assert res_loss < 0.6 * plain_loss, "the residual network's training loss falls much faster"
assert res_acc > plain_acc + 0.1
if not FAST:
    assert res_acc > 0.9

# %% [markdown]
# ## Exercises
#
# 1. **Many paths.** Unroll $n$ residual blocks whose branches are linear, $F_l(h) = a_l h$ with scalars $a_l$.
#    Show that $\partial h_n/\partial h_0 = \prod_l (1 + a_l)$ is a sum over all $2^n$ subsets of blocks (the
#    "ensemble of paths" view of Veit et al., 2016), and check it numerically for $n = 10$ with the library's
#    autograd.
# 2. **Start as the identity.** Set the γ of every block's *last* BatchNorm to 0 (PyTorch's
#    `zero_init_residual`). What does each block compute at initialisation? Check that a block then passes a
#    non-negative input through unchanged.
# 3. **How fast does the plain gradient vanish?** From the gradient norms of the plain network without
#    normalisation, estimate the factor by which the gradient shrinks per block. Compare with the prediction of
#    lesson 14: with the default init $\mathrm{Var}(w) = \frac{1}{3n}$ and ReLU, each convolution multiplies the
#    gradient's variance by about $\frac{1}{6}$, so a block of two multiplies its norm by about $\frac16$.

# %% tags=["solution"] jupyter={"source_hidden": true}
rng = np.random.default_rng(0)
a = rng.uniform(-0.5, 0.5, 10)
h0 = tge.tensor(np.array([1.0]), requires_grad=True)
h = h0
for a_l in a:
    h = h + float(a_l) * h  # y = x + F(x) with F(x) = a·x
h.backward()
product = np.prod(1 + a)
paths = sum(math.prod(a[i] for i in range(10) if mask >> i & 1) for mask in range(2**10))  # every subset
print(f"autograd {h0.grad.item():.10f}, product {product:.10f}, sum over {2**10} paths {paths:.10f}")
assert np.isclose(h0.grad.item(), product, rtol=1e-12) and np.isclose(product, paths, rtol=1e-12)

# %% [markdown]
# *(Answer 2.)* With γ = 0 (and β = 0) the last BatchNorm outputs 0, so $F(x) = 0$ and $y = \mathrm{relu}(x)$:
# for the non-negative output of a previous ReLU, exactly $x$. The network starts as a shallow one and each block
# learns how far to move away from the identity.

# %% tags=["solution"] jupyter={"source_hidden": true}
block = BasicBlock(8, 8)
nn.init.zeros_(block.bn2.weight)
x = F.relu(tge.randn(4, 8, 8, 8))  # the output of a previous ReLU: non-negative
assert np.array_equal(block(x).numpy(), x.numpy())
print("with the last γ = 0 the block is the identity on non-negative inputs")

# %% tags=["solution"] jupyter={"source_hidden": true}
stage1 = plain[:6]  # the six 8-channel blocks: the same shape, so the same factor for each
shrink = float(np.exp(np.mean(np.diff(np.log(stage1)))))  # norm of block l+1 / norm of block l, on average
print(f"plain, no normalisation: the gradient norm shrinks by ×{shrink:.1f} per block towards the input "
      f"(predicted about ×6)")  # fmt: skip
assert 3 < shrink < 12

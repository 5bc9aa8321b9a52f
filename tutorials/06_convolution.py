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
# # 06 · Convolution: by hand, as a matmul, and backward
#
# **You will be able to:** compute a convolution with loops and as im2col + one matmul; work out its backward
# ($dw$, $dx$, $db$) by hand and see that both gradients are convolutions too; say where max-pooling sends its
# gradient; check all of it against `backward()` and finite differences; and train a small CNN on the digits and
# look at what its filters learned.
#
# **Run time:** about 4 s of CPU time (`TGE_FAST=1`: about 3 s).
#
# A convolutional layer slides a small filter over an image and, at every position, takes the dot
# product of the filter with the pixels under it. The same few weights are used everywhere, which is
# why a CNN needs so few of them and why it finds a stroke wherever it is. This lesson computes one
# convolution with loops, then the way fast libraries do it (*im2col* + one matmul), works out its
# backward and checks it three ways, does the same for max-pooling, and finally trains a CNN.
#
# The op, with its forward and backward math in the docstring, is `Conv2d` in
# `tinygrad_edu/ops/conv.py`; the arithmetic is in `kernels/numpy_ref.py`.

# %%
import inspect

import numpy as np
from matplotlib.figure import Figure
from tinygrad_edu.kernels import numpy_ref

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import optim
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.data import DataLoader, Standardize, TensorDataset, train_test_split
from tinygrad_edu.datasets import load_digits
from tinygrad_edu.models import SmallCNN
from tinygrad_edu.ops.conv import Conv2d, MaxPool2d

# %% [markdown]
# ## A convolution with loops
#
# Images come as $(N, C, H, W)$: $N$ images of $C$ channels, $H \times W$ pixels. Filters come as
# $(F, C, K_H, K_W)$: $F$ filters, each spanning all $C$ input channels. With stride $s$ and $p$ pixels of zero
# padding,
#
# $$ y_{n,f,i,j} = b_f + \sum_{c} \sum_{k_h} \sum_{k_w}
#    x^{\text{pad}}_{n,c,\,i s + k_h,\,j s + k_w}\; w_{f,c,k_h,k_w} $$
#
# and the output has $O_H = \left\lfloor \frac{H + 2p - K_H}{s} \right\rfloor + 1$ rows. (Strictly speaking this is a
# *cross-correlation*: the filter is not flipped. PyTorch calls it convolution, and so do we.)


# %%
def conv2d_by_loops(x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The formula above, one output number at a time."""
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    OH, OW = (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1
    y = np.zeros((N, F_, OH, OW))
    for n in range(N):
        for f in range(F_):
            for oh in range(OH):
                for ow in range(OW):
                    window = x_pad[n, :, oh * stride : oh * stride + KH, ow * stride : ow * stride + KW]
                    y[n, f, oh, ow] = (window * w[f]).sum()  # Σ over c, kh, kw
    return y


# %% [markdown]
# A 4×4 image and a 2×2 filter, small enough to do on paper. The top-left output covers the
# top-left 2×2 block $\begin{pmatrix} 1 & 2 \\ 0 & 1 \end{pmatrix}$: $y_{0,0} = 1 \cdot 1 + 2 \cdot 0 + 0 \cdot (-1) +
# 1 \cdot 2 = \mathbf{3}$.

# %%
image = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 1, 3]], dtype=np.float64)
kernel = np.array([[1, 0], [-1, 2]], dtype=np.float64)
x_np, w_np = image[None, None], kernel[None, None]  # (N, C, H, W) = (1, 1, 4, 4), (F, C, KH, KW) = (1, 1, 2, 2)
y_loops = conv2d_by_loops(x_np, w_np)
print("y by loops:\n", y_loops[0, 0])
assert y_loops[0, 0, 0, 0] == 3
np.testing.assert_allclose(F.conv2d(tge.tensor(x_np), tge.tensor(w_np)).numpy(), y_loops)

# the loops are the general definition: many channels, several filters, stride 2, padding 1
rng = np.random.default_rng(0)
xr, wr = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
y_lib = F.conv2d(tge.tensor(xr), tge.tensor(wr), stride=2, padding=1).numpy()
np.testing.assert_allclose(y_lib, conv2d_by_loops(xr, wr, stride=2, padding=1), atol=1e-12)
print("F.conv2d == loops, also with 3 channels, 4 filters, stride 2, padding 1:", y_lib.shape)

# %% [markdown]
# ## The same as one matmul: im2col
#
# Seven nested loops in Python are slow, and even in C they would not use the CPU well. The trick of
# every fast library: copy each output pixel's receptive field (C·KH·KW numbers) into one column of a
# matrix, *im2col* ("image to columns"). The filters, flattened, are the rows of another. Then the
# whole convolution is a single matrix product, the operation that BLAS (and lesson 08's Numba
# kernel) runs at full speed. Here is the reference version:

# %%
print(inspect.getsource(numpy_ref.im2col))

# %%
cols = numpy_ref.im2col(x_np, kernel=(2, 2), stride=(1, 1), padding=(0, 0))  # (N, C, KH, KW, OH, OW)
cols_matrix = cols.reshape(1 * 2 * 2, 3 * 3)  # C·KH·KW rows, one column per output pixel
print("cols: column j holds the 2×2 window of output pixel j, read row by row\n", cols_matrix)
y_matmul = kernel.reshape(1, 4) @ cols_matrix  # (F, C·KH·KW) @ (C·KH·KW, OH·OW)
print("filter row @ cols =", y_matmul.ravel(), "= y, flattened")
np.testing.assert_array_equal(y_matmul.reshape(3, 3), y_loops[0, 0])
np.testing.assert_array_equal(cols_matrix[:, 0], [1, 2, 0, 1])  # the window of y[0, 0]

# %% [markdown]
# The price is memory: an interior pixel is copied into KH·KW columns (here up to 4 of the 9).
# For a 3×3 filter, im2col is nine times the image; that buys one large, regular matmul.
#
# ## Backward, worked out
#
# Suppose the layers above hand back $dy = \partial L / \partial y$, one number per output pixel. Since $y$ is
# *linear* in $w$ and in $x$, each gradient is $dy$ times whatever that input was multiplied by:
#
# - $\displaystyle dw_{k_h,k_w} = \sum_{i} \sum_{j} dy_{i,j}\, x_{i + k_h,\, j + k_w}$: weight $(k_h, k_w)$ met
#   pixel $(i + k_h, j + k_w)$ at every output position. Slide $dy$ over $x$, like a filter.
# - $\displaystyle dx_{h,w} = \sum_{i + k_h = h,\; j + k_w = w} dy_{i,j}\, w_{k_h,k_w}$: a pixel collects one term
#   from every window it was in (4 for an interior pixel here, 1 for a corner). Written as a loop, it
#   *scatters*: `dx[i:i+KH, j:j+KW] += dy[i, j] * w`.
# - $db = \sum_{i,j} dy_{i,j}$: the bias was added to every output.
#
# The library's `Conv2d` states the same three lines in its docstring (with batch, channels, stride and padding)
# and hands the sums to the kernels (`conv2d_backward_bias` is `dy.sum(axis=(0, 2, 3))` in NumPy):

# %%
source = quote(Conv2d)
assert "db[f]         = Σ_n Σ_oh Σ_ow dy[n,f,oh,ow]" in source and "db = k.conv2d_backward_bias(dy)" in source

# %% [markdown]
# With $dy = \begin{pmatrix} 1 & -1 & 0 \\ 2 & 0 & 1 \\ 0 & 1 & -1 \end{pmatrix}$, the first weight's gradient is
# $dy$ against the top-left 3×3 block of $x$:
# $dw_{0,0} = 1 \cdot 1 - 1 \cdot 2 + 0 \cdot 0 + 2 \cdot 0 + 0 \cdot 1 + 1 \cdot 3 + 0 \cdot 2 + 1 \cdot 1 - 1 \cdot 0
# = \mathbf{3}$. Pixel (1, 1) sits in four windows, under weights 2, −1, 0 and 1 of windows (0, 0), (0, 1),
# (1, 0), (1, 1): $dx_{1,1} = 1 \cdot 2 + (-1)(-1) + 2 \cdot 0 + 0 \cdot 1 = \mathbf{3}$.

# %%
dy = np.array([[1, -1, 0], [2, 0, 1], [0, 1, -1]], dtype=np.float64)
dw_by_hand = np.zeros((2, 2))
for kh in range(2):
    for kw in range(2):
        dw_by_hand[kh, kw] = (dy * image[kh : kh + 3, kw : kw + 3]).sum()
dx_by_hand = np.zeros((4, 4))
for oh in range(3):
    for ow in range(3):
        dx_by_hand[oh : oh + 2, ow : ow + 2] += dy[oh, ow] * kernel  # the scatter: col2im
db_by_hand = dy.sum()
print("dw by hand:\n", dw_by_hand, "\ndx by hand:\n", dx_by_hand, "\ndb by hand:", db_by_hand)
assert dw_by_hand[0, 0] == 3 and dx_by_hand[1, 1] == 3

# %% [markdown]
# **By backward.** To feed that $dy$ into backward, use the loss $L = \sum dy \odot y$: its gradient with
# respect to $y$ is exactly $dy$.

# %%
x = tge.tensor(x_np, requires_grad=True)
w = tge.tensor(w_np, requires_grad=True)
b = tge.tensor([0.5], dtype=tge.float64, requires_grad=True)
(F.conv2d(x, w, b) * tge.tensor(dy)).sum().backward()
np.testing.assert_allclose(w.grad.numpy()[0, 0], dw_by_hand)
np.testing.assert_allclose(x.grad.numpy()[0, 0], dx_by_hand)
np.testing.assert_allclose(b.grad.numpy(), [db_by_hand])
print("backward agrees: dw, dx and db")

# %% [markdown]
# **By finite differences**, each of the 4 weights and 16 pixels nudged by ±h, then `tge.gradcheck`
# on the bigger example with 3 channels, stride 2 and padding 1, where the index arithmetic is easiest
# to get wrong.


# %%
def loss_of(image: np.ndarray, kernel: np.ndarray) -> float:
    return float((conv2d_by_loops(image[None, None], kernel[None, None])[0, 0] * dy).sum())


def central_difference(f, a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """(f(a + h·e) − f(a − h·e)) / 2h for every unit vector e of a's shape."""
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


np.testing.assert_allclose(central_difference(lambda k: loss_of(image, k), kernel), dw_by_hand, atol=1e-8)
np.testing.assert_allclose(central_difference(lambda im: loss_of(im, kernel), image), dx_by_hand, atol=1e-8)
xr_t = tge.tensor(xr, requires_grad=True)
wr_t = tge.tensor(wr, requires_grad=True)
br_t = tge.tensor(rng.standard_normal(4), requires_grad=True)
assert tge.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [xr_t, wr_t, br_t])
print("finite differences agree (by hand on the 4×4 example, tge.gradcheck on the strided, padded one)")

# %% [markdown]
# Look again at the two formulas: **both gradients are convolutions too**. $dw$ is $x$ convolved with $dy$
# ($dy$ plays the filter), and $dx$ is $dy$, padded by $K_H - 1$ zeros all round, convolved with the filter
# rotated by 180°. That second one has a name, the *transposed convolution*, and it is what the
# scatter in col2im computes.

# %%
dw_as_conv = F.conv2d(tge.tensor(x_np), tge.tensor(dy[None, None])).numpy()[0, 0]
dx_as_conv = F.conv2d(tge.tensor(np.pad(dy, 1)[None, None]), tge.tensor(kernel[::-1, ::-1].copy()[None, None]))
np.testing.assert_allclose(dw_as_conv, dw_by_hand)
np.testing.assert_allclose(dx_as_conv.numpy()[0, 0], dx_by_hand)
print("dw = conv(x, dy) and dx = conv(pad(dy), rotated w): both checked")

# %% [markdown]
# ## Max-pooling routes the gradient to the winner
#
# `max_pool2d(x, 2)` keeps the largest number of each 2×2 block. Only that number moved the output, so
# only it receives gradient: $\partial y / \partial x$ is 1 for the winner of each window and 0 for the three
# others. The forward remembers where each winner was (`indices`), and backward sends $dy$ there:

# %%
source = quote(MaxPool2d)
assert "dx[n,c].flat[indices[n,c,oh,ow]] += dy[n,c,oh,ow]" in source

# %% [markdown]
# On a 4×4 example:

# %%
x_pool = np.array([[1, 5, 2, 0], [3, 2, 8, 1], [0, 4, 1, 6], [7, 1, 2, 3]], dtype=np.float64)
dy_pool = np.array([[10, 20], [30, 40]], dtype=np.float64)
dx_pool_by_hand = np.zeros((4, 4))
for oh in range(2):
    for ow in range(2):
        window = x_pool[2 * oh : 2 * oh + 2, 2 * ow : 2 * ow + 2]
        kh, kw = np.unravel_index(window.argmax(), window.shape)
        dx_pool_by_hand[2 * oh + kh, 2 * ow + kw] = dy_pool[oh, ow]
xp_t = tge.tensor(x_pool[None, None], requires_grad=True)
y_pool = F.max_pool2d(xp_t, 2)
(y_pool * tge.tensor(dy_pool)).sum().backward()
print(
    "max-pool output:\n", y_pool.numpy()[0, 0], "\ndx: each window's dy lands on its maximum\n", xp_t.grad.numpy()[0, 0]
)
np.testing.assert_array_equal(y_pool.numpy()[0, 0], [[5, 8], [7, 6]])
np.testing.assert_array_equal(xp_t.grad.numpy()[0, 0], dx_pool_by_hand)


def pool_loss(a: np.ndarray) -> float:
    return float((F.max_pool2d(tge.tensor(a[None, None]), 2).numpy()[0, 0] * dy_pool).sum())


np.testing.assert_allclose(central_difference(pool_loss, x_pool), dx_pool_by_hand, atol=1e-6)
print("finite differences agree (no ties, so the max is differentiable here)")

# %% [markdown]
# When windows overlap (stride smaller than the kernel), one pixel can win several of them and then
# collects the sum of their gradients. Below, the 9 in the middle wins all four 2×2 windows of a 3×3
# image with stride 1:

# %%
xo = tge.tensor([[[[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]]], requires_grad=True)
(F.max_pool2d(xo, 2, stride=1) * tge.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
print("dx:\n", xo.grad.numpy()[0, 0])
assert xo.grad.numpy()[0, 0, 1, 1] == 1 + 2 + 3 + 4 and xo.grad.numpy().sum() == 10

# %% [markdown]
# ## Training a CNN on the 8×8 digits
#
# `models.SmallCNN` (in `tinygrad_edu/models.py`) is two padded 3×3 convolutions of 16 and 32
# filters, each followed by ReLU and a 2×2 max-pool, then one linear layer: 6,090 weights, fewer than
# the 9,610 of lesson 05's MLP. The images keep their shape (1, 8, 8), standardised per pixel with
# the training part's statistics.
#
# These images are tiny, so an epoch takes well under a second with the NumPy reference kernels,
# less than Numba needs to compile its kernels on a first run; lesson 08 compares the backends on
# bigger work. To try them here anyway, set `TINYGRAD_EDU_KERNELS=numba` (every backend that has
# the conv and pool kernels gives the same numbers to rounding).

# %%
digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.images, digits.targets, test_size=0.2, seed=0, stratify=digits.targets
)
raw_test = X_test  # kept for the pictures
scale = Standardize().fit(X_train)
X_train, X_test = scale(X_train), scale(X_test)
tge.manual_seed(0)
model = SmallCNN(in_channels=1, num_classes=10, image_size=8)
opt = optim.Adam(model.parameters(), lr=3e-3)
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
print(model, f"\n{model.num_parameters():,} parameters, kernels: {tge.kernels.current().name}")
epochs = sized(full=12, fast=4)
for epoch in range(1, epochs + 1):
    model.train()
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with tge.no_grad():
        predicted = model(tge.tensor(X_test)).argmax(dim=1).numpy()
    test_acc = float((predicted == y_test).mean())
    print(f"epoch {epoch:2d}  last batch loss {loss.item():.4f}  test accuracy {test_acc:.3f}")
assert model.num_parameters() == 6090
assert test_acc >= (0.93 if FAST else 0.97)

# %% [markdown]
# ## What did it learn?
#
# The top row shows test digits with the network's answer (red when it is wrong); below it, the 16
# filters of the first layer. Each is a 3×3 pattern that the layer looks for at every position: its
# output is largest where the (standardised) ink matches the light cells of the filter and avoids the
# dark ones. Several look like small edges or corners.

# %%
wrong = np.flatnonzero(predicted != y_test)
shown = np.concatenate([wrong[:4], np.flatnonzero(predicted == y_test)[: 8 - min(4, len(wrong))]])
filters = model.conv1.weight.numpy()[:, 0]  # (16, 3, 3)
fig = Figure(figsize=(8, 3.4))
for i, k in enumerate(shown):
    ax = fig.add_subplot(3, 8, i + 1)
    ax.imshow(raw_test[k, 0], cmap="gray_r")
    ok = predicted[k] == y_test[k]
    ax.set_title(f"{predicted[k]}" + ("" if ok else f" (is {y_test[k]})"), fontsize=8, color="k" if ok else "r")
    ax.set_axis_off()
for i, f in enumerate(filters):
    ax = fig.add_subplot(3, 8, 9 + i)
    ax.imshow(f, cmap="gray")
    ax.set_axis_off()
fig.suptitle(f"test digits ({len(wrong)} of {len(y_test)} wrong) and conv1's 16 learned 3×3 filters", fontsize=9)
path = show(fig, "06_cnn.png")
print(f"{len(wrong)} mistakes out of {len(y_test)}; figure drawn to", path)

# %% [markdown]
# ## Exercises
#
# 1. Predict the output shape, $O_H = \lfloor (H + 2p - K_H)/s \rfloor + 1$, of a 3×3 convolution with padding 1
#    on 28×28 images with stride 1, and with stride 2; of a 5×5 one without padding on 32×32. Check with
#    `F.conv2d`.
# 2. Average pooling: `avg_pool2d(x, 2)` takes the mean of each 2×2 block. What is its backward? Check your
#    answer on the 4×4 `x_pool` with the same `dy_pool`.
# 3. Count `SmallCNN`'s 6,090 parameters by hand, layer by layer (conv1, conv2, the linear head on the
#    $32 \times 2 \times 2$ features left after two poolings).


# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. (28 + 2 − 3)/1 + 1 = 28; (28 + 2 − 3)//2 + 1 = 14; (32 − 5)/1 + 1 = 28.
def out_size(h: int, k: int, s: int = 1, p: int = 0) -> int:
    return (h + 2 * p - k) // s + 1


cases = [(28, 3, 1, 1), (28, 3, 2, 1), (32, 5, 1, 0)]
for h, k, s_, p_ in cases:
    y_shape = F.conv2d(tge.zeros(1, 1, h, h), tge.zeros(2, 1, k, k), stride=s_, padding=p_).shape
    print(f"H = {h}, K = {k}, s = {s_}, p = {p_}: predicted {out_size(h, k, s_, p_)}, F.conv2d gives {y_shape}")
    assert y_shape == (1, 2, out_size(h, k, s_, p_), out_size(h, k, s_, p_))
assert [out_size(*c) for c in cases] == [28, 14, 28]

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. Every pixel of a window moved the mean by 1/4, so each gets a quarter of its window's dy.
xa = tge.tensor(x_pool[None, None], requires_grad=True)
(F.avg_pool2d(xa, 2) * tge.tensor(dy_pool)).sum().backward()
expected = np.kron(dy_pool, np.ones((2, 2))) / 4  # dy spread evenly over each 2×2 block
print("avg-pool dx:\n", xa.grad.numpy()[0, 0])
np.testing.assert_allclose(xa.grad.numpy()[0, 0], expected)


def avg_pool_loss(a: np.ndarray) -> float:
    return float((F.avg_pool2d(tge.tensor(a[None, None]), 2).numpy()[0, 0] * dy_pool).sum())


np.testing.assert_allclose(central_difference(avg_pool_loss, x_pool), expected, atol=1e-6)

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. conv1: 16 filters of 1×3×3 + 16 biases; conv2: 32 of 16×3×3 + 32; head: (32·2·2)·10 + 10.
conv1, conv2, head = 16 * 1 * 9 + 16, 32 * 16 * 9 + 32, 32 * 2 * 2 * 10 + 10
print(f"conv1 {conv1} + conv2 {conv2} + head {head} = {conv1 + conv2 + head}")
assert (conv1, conv2, head) == (160, 4640, 1290) and conv1 + conv2 + head == model.num_parameters() == 6090

# %% [markdown]
# **Next:** 07 · attention, from the formula to a tiny transformer.

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
# # 18 · Your own op: a `Function` with its forward and backward, checked, drawn, and kept honest
#
# **You will be able to:** write a new differentiable operation as a `Function` (forward, backward, and the math
# in its docstring), as every op of the library is written; prove its backward right with `tge.gradcheck` and
# see what a wrong one looks like; give it a learnable parameter and use it in a module; find it in the drawing
# of the computation graph; and say what `retain_graph`, `no_grad`, in-place operations and version counters do,
# and why backward refuses a tensor that was changed after it was saved.
#
# **Run time:** about 1 s of CPU time (`TGE_FAST=1`: about 1 s).

# %%
import numpy as np
from matplotlib.figure import Figure

import tinygrad_edu as tge
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, viz
from tinygrad_edu.autograd import Function
from tinygrad_edu.course import FAST, quote, show, sized
from tinygrad_edu.ops.activation import Sigmoid
from tinygrad_edu.ops.elementwise import unbroadcast
from tinygrad_edu.tensor_version import check_saved_versions

tge.manual_seed(0)
rng = np.random.default_rng(0)
print("fast mode:", FAST)

# %% [markdown]
# ## 1. What an op is
#
# Every differentiable operation of the library is a small class with two static methods side by side:
# `forward(ctx, *inputs)` computes the output from plain NumPy arrays and keeps what the backward will need with
# `ctx.save_for_backward(...)`; `backward(ctx, dy)` receives $\mathrm{d}y = \partial L/\partial y$ and returns
# $\partial L/\partial x$ for each input, by the chain rule. `MyOp.apply(x, ...)` runs forward on the arrays
# inside the tensors and records the node in the graph. The sigmoid, $y = \sigma(x)$ with
# $\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$, as the library has it:

# %%
quote(Sigmoid)

# %% [markdown]
# ## 2. Write one: softplus
#
# Softplus is a smooth ReLU:
#
# $$ y = \log(1 + e^{x}), \qquad \frac{\mathrm{d}y}{\mathrm{d}x} = \frac{e^{x}}{1 + e^{x}} = \sigma(x). $$
#
# Written as it stands, $e^{x}$ overflows for $x \gtrsim 89$ in float32. Since
# $\log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|})$, that form never exponentiates a positive number.
# The backward only needs $\sigma(x)$, so forward saves $x$; the chain rule multiplies by $\mathrm{d}y$.

# %%


class MySoftplus(Function):
    """y = log(1 + e^x) = max(x, 0) + log1p(e^−|x|)        dx = dy · σ(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        e = np.exp(-np.abs(x))  # σ(x) without overflow: 1/(1+e) for x ≥ 0, e/(1+e) for x < 0
        return dy * np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def my_softplus(x):
    """The function a user calls (like F.softplus)."""
    return MySoftplus.apply(x)


x = tge.tensor([-100.0, -2.0, 0.0, 0.5, 3.0, 100.0, 1000.0], requires_grad=True)
y = my_softplus(x)
y.sum().backward()
print("y  =", y.numpy())
print("dx =", x.grad.numpy())

x_ref = tge.tensor(x.numpy(), requires_grad=True)
F.softplus(x_ref).sum().backward()  # the library's own softplus, for comparison
assert np.allclose(y.numpy(), F.softplus(x_ref).numpy(), rtol=1e-6)
assert np.allclose(x.grad.numpy(), x_ref.grad.numpy(), rtol=1e-6)
assert np.isfinite(y.numpy()).all() and y.numpy()[-1] == 1000.0  # no overflow at x = 1000
assert np.isclose(y.numpy()[2], np.log(2)) and np.isclose(x.grad.numpy()[2], 0.5)  # softplus(0) = log 2, σ(0) = ½
with np.errstate(over="ignore"):
    print("the formula as written, at x = 1000:", np.log(1 + np.exp(np.float32(1000.0))))
    assert np.isinf(np.exp(np.float32(89.0))) and np.isfinite(np.exp(np.float32(88.0)))  # e^x overflows past ~88.7

# %% [markdown]
# ### Proving the backward right: `gradcheck`
#
# `tge.gradcheck(fn, inputs)` copies the inputs to float64, computes $L = \sum v \odot f(x)$ for a random
# direction $v$, and compares the backward's $\partial L/\partial x_k$ with the central difference
# $\big(L(x + \varepsilon e_k) - L(x - \varepsilon e_k)\big) / 2\varepsilon$ for every element $k$. It returns
# `True`, or raises `GradcheckError` naming the input, the element and both numbers. A wrong backward — here one
# that forgot the sign in $e^{-x}$ and returns $1 - \sigma(x)$ — is caught at once:

# %%
x64 = tge.tensor(rng.normal(size=(3, 4)) * 3, dtype=tge.float64, requires_grad=True)
assert tge.gradcheck(my_softplus, [x64])


class WrongSoftplus(MySoftplus):
    """The same forward with a wrong backward: dx = dy · σ(−x)."""

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * (1 - 1 / (1 + np.exp(-x)))


try:
    tge.gradcheck(WrongSoftplus.apply, [x64])
    raise AssertionError("gradcheck should have caught the wrong backward")
except tge.GradcheckError as err:
    print(err)
    assert "backward gives" in str(err) and "finite differences" in str(err)

# %%
grid = np.linspace(-5, 5, 201, dtype=np.float32)
xg = tge.tensor(grid, requires_grad=True)
my_softplus(xg).sum().backward()
fig = Figure(figsize=(7, 4))
ax = fig.subplots()
ax.plot(grid, my_softplus(tge.tensor(grid)).numpy(), label="softplus(x) = log(1 + eˣ)")
ax.plot(grid, xg.grad.numpy(), label="its backward: σ(x)")
ax.plot(grid, np.maximum(grid, 0), "k:", label="relu(x)")
ax.set_title("MySoftplus: the forward and the gradient its backward returns")
ax.set_xlabel("x")
ax.set_ylabel("value")
ax.legend()
show(fig, "18_softplus.png")

# %% [markdown]
# ## 3. An op with a learnable parameter: Swish-β
#
# $y = x\,\sigma(\beta x)$ with a learnable $\beta$ (at $\beta = 1$ it is SiLU). With $s = \sigma(\beta x)$ and
# $\sigma' = \sigma(1-\sigma)$:
#
# $$ \frac{\partial y}{\partial x} = s + \beta x\, s(1-s), \qquad \frac{\partial y}{\partial \beta} = x^2\, s(1-s). $$
#
# $\beta$ is one number broadcast over every element of $x$, so every element sends it a gradient: backward sums
# them back to $\beta$'s shape. The library does that in one named place, `unbroadcast`:

# %%
quote(unbroadcast)

# %%


class SwishBeta(Function):
    """y = x σ(βx)        dx = dy · (s + βx s(1 − s)),   dβ = Σ dy · x² s(1 − s),   s = σ(βx)"""

    @staticmethod
    def forward(ctx, x, beta):
        s = 1 / (1 + np.exp(-beta * x))
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, dy):
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)
        dx = dy * (s + beta * x * ds)
        dbeta = unbroadcast(dy * x * x * ds, beta.shape)  # β was broadcast over x: sum its gradients
        return unbroadcast(dx, x.shape), dbeta


class Swish(nn.Module):
    """A module around the Function: β is a Parameter, so optimizers train it."""

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = nn.Parameter(tge.tensor([beta]))

    def forward(self, x):
        return SwishBeta.apply(x, self.beta)


xs = tge.tensor(rng.normal(size=(4, 5)) * 2, dtype=tge.float64, requires_grad=True)
beta = tge.tensor([0.7], dtype=tge.float64, requires_grad=True)
assert tge.gradcheck(SwishBeta.apply, [xs, beta])  # both inputs, x and β
xf = tge.tensor(rng.normal(size=(8,)).astype(np.float32))
assert np.allclose(Swish(1.0)(xf).numpy(), F.silu(xf).numpy(), atol=1e-6)  # β = 1 is the library's SiLU
print("SwishBeta passes gradcheck in x and β; at β = 1 it equals F.silu")

# %% [markdown]
# Used in a network, $\beta$ learns along with the weights. Fit $y = \sin(3x)$ with a 1-32-32-1 net:

# %%
tge.manual_seed(0)
act1, act2 = Swish(), Swish()
net = nn.Sequential(nn.Linear(1, 32), act1, nn.Linear(32, 32), act2, nn.Linear(32, 1))
xt = np.linspace(-2, 2, 256, dtype=np.float32)[:, None]
inputs, targets = tge.tensor(xt), tge.tensor(np.sin(3 * xt))
opt = tge.optim.Adam(net.parameters(), lr=1e-2)
fit_losses = []
for _ in range(sized(full=600, fast=300)):
    loss = F.mse_loss(net(inputs), targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    fit_losses.append(loss.item())
print(f"loss {fit_losses[0]:.3f} → {fit_losses[-1]:.4f}; β: 1 → {act1.beta.item():.3f}, {act2.beta.item():.3f}")
assert fit_losses[-1] < fit_losses[0] / 20
assert abs(act1.beta.item() - 1) > 0.01 and abs(act2.beta.item() - 1) > 0.01  # the gradient reached β

# %% [markdown]
# ## 4. Your op in the graph
#
# `apply` records a node for every op: `y.grad_fn` is the node that made `y`, and `grad_fn.next_functions`
# points to where the gradient goes next — the nodes that made the inputs, or the leaf tensors themselves.
# `tinygrad_edu.viz.draw_graph` draws it: tensors as boxes (leaves shaded), ops as ovals named after their
# `Function` class, data flowing left to right; `backward()` walks it right to left.

# %%
w = tge.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
b = tge.tensor([0.1], requires_grad=True)
u = tge.tensor([[1.0], [2.0], [-1.0]])
h = my_softplus(w @ u + b)  # (1, 1)
beta_fixed = tge.tensor([1.5])
L = SwishBeta.apply(h, beta_fixed).sum()


def node_names(root):
    """The names of every node reachable from root.grad_fn (a walk over next_functions)."""
    seen, todo, names = set(), [root.grad_fn], []
    while todo:
        node = todo.pop()
        if id(node) in seen or not isinstance(node, Function):
            continue
        seen.add(id(node))
        names.append(node.name)
        todo.extend(node.next_functions)
    return names


print("L.grad_fn =", L.grad_fn, "→", L.grad_fn.next_functions)
print("nodes:", node_names(L))
assert set(node_names(L)) == {"Sum", "SwishBeta", "MySoftplus", "Add", "MatMul"}
assert "MySoftplus" in viz.to_dot(L)
show(viz.draw_graph(L, names={"w": w, "b": b, "u": u, "h": h, "β": beta_fixed, "L": L}), "18_graph.png")

# %% [markdown]
# ## 5. `retain_graph`: backward frees what forward saved
#
# After `backward()` each node drops the arrays it saved (here $x$ for `MySoftplus`): a long training run would
# otherwise keep every step's activations alive. A second `backward()` through the same graph therefore raises.
# `backward(retain_graph=True)` keeps them; the gradients of the two passes **add up** in `.grad`, as they do
# whenever `backward()` is called twice without `zero_grad()`.

# %%
x = tge.tensor([0.0, 1.0, -1.0], requires_grad=True)
L = my_softplus(x).sum()
node = L.grad_fn.next_functions[0]  # the MySoftplus node
L.backward()
print("after backward, the node's saved arrays:", node.saved_tensors)
assert node.saved_tensors == ()
try:
    L.backward()
    raise AssertionError("a second backward should raise")
except RuntimeError as err:
    print("second backward:", err)
    assert "second time" in str(err) and "retain_graph=True" in str(err)

x.grad = None
L = my_softplus(x).sum()
L.backward(retain_graph=True)
first = x.grad.numpy().copy()
L.backward()  # works: the saved arrays were kept
print("grad after one backward:", first, " after two:", x.grad.numpy())
assert np.allclose(x.grad.numpy(), 2 * first)  # accumulated
assert np.allclose(first, 1 / (1 + np.exp(-x.numpy())))  # = σ(x)

# %% [markdown]
# ## 6. `no_grad`: compute without recording
#
# Inside `with tge.no_grad():` (or in a function decorated with `@tge.no_grad()`), `apply` still runs forward
# but records no node: the result has no `grad_fn` and does not require grad. That is what evaluation and
# optimizer updates use: no memory kept for a backward that will never come. `tge.enable_grad()` turns recording
# back on inside such a block.

# %%
with tge.no_grad():
    y = my_softplus(x)
    with tge.enable_grad():
        y_recorded = my_softplus(x)
print("inside no_grad:", y.requires_grad, y.grad_fn, "| inside enable_grad:", y_recorded.grad_fn)
assert not y.requires_grad and y.grad_fn is None
assert y_recorded.requires_grad and y_recorded.grad_fn.name == "MySoftplus"


@tge.no_grad()
def evaluate(v):
    return my_softplus(v).sum()


assert evaluate(x).grad_fn is None and tge.is_grad_enabled()  # the mode is restored after the call

# %% [markdown]
# ## 7. In-place operations and version counters
#
# An in-place op (`x += 1`, `x.mul_(2)`, `x[0] = 5`) changes a tensor's numbers without making a new tensor.
# Every tensor carries a **version counter** that each in-place change bumps; views (slices, `reshape`, `.T`) and
# `x.detach()` share their base's storage and so its counter. `x._version` reads it, as in PyTorch.

# %%
a = tge.zeros(2, 3)
row, flat, detached = a[0], a.reshape(6), a.detach()
versions = [a._version]
a.add_(1)
versions.append(a._version)
a[1, 2] = 7.0
versions.append(a._version)
row.mul_(3)  # through a view: changes a too
versions.append(a._version)
print("versions:", versions, " a =", a.tolist())
assert versions == [0, 1, 2, 3] and row._version == flat._version == detached._version == 3
assert a.tolist() == [[3.0, 3.0, 3.0], [1.0, 1.0, 7.0]]

# %% [markdown]
# Inside the graph an in-place op is fine as long as nothing that was saved is overwritten: `y += 1` records an
# `Add` node and makes it `y`'s new history ("rebasing"). But the sigmoid saves its **output** $y$ (its backward is
# $\mathrm{d}y \cdot y(1-y)$), so changing $y$ in place afterwards would make that backward use the wrong
# numbers. Each node notes the version of every array it saved; before its backward runs, the library checks
# them and refuses with PyTorch's message:

# %%
quote(check_saved_versions)

# %%
x = tge.tensor([0.0, 1.0, 2.0], requires_grad=True)
y = x * 2
y += 1  # fine: Mul saved x, not y
y.sum().backward()
assert y.grad_fn.name == "Add" and np.allclose(x.grad.numpy(), 2.0)

y = x.sigmoid()
y *= 2  # Sigmoid saved y, and this changes it
try:
    y.sum().backward()
    raise AssertionError("backward should refuse the changed y")
except RuntimeError as err:
    print(err)
    assert "modified by an inplace operation" in str(err) and "output 0 of Sigmoid" in str(err)

# %% [markdown]
# Our own `MySoftplus` gets the same protection without a line of extra code: `apply` notes the version of the
# $x$ that forward saved. Changing $x$ in place — even under `no_grad`, as an optimizer step would — before
# backward is refused; working on a `clone()` is the fix. And a leaf that requires grad cannot be changed in
# place while recording at all: its gradient accumulates into it, so it has no history to rebase onto.

# %%
x = tge.tensor([0.0, 1.0, -1.0], requires_grad=True)
L = my_softplus(x).sum()
with tge.no_grad():
    x.add_(10.0)  # x's version: 0 → 1, after MySoftplus saved it
try:
    L.backward()
    raise AssertionError("backward should refuse")
except RuntimeError as err:
    print(err)
    assert "is at version 1; expected version 0" in str(err) and "MySoftplus saved it" in str(err)

x = tge.tensor([0.0, 1.0, -1.0], requires_grad=True)
L = my_softplus(x.clone()).sum()  # the op saved the clone, not x
with tge.no_grad():
    x.add_(10.0)
L.backward()
assert np.allclose(x.grad.numpy(), 1 / (1 + np.exp(-np.array([0.0, 1.0, -1.0]))), atol=1e-6)

try:
    x += 1  # recording is on, and x is a leaf that requires grad
    raise AssertionError("an in-place change of a leaf that requires grad should raise")
except RuntimeError as err:
    print(err)
    assert "leaf Variable that requires grad" in str(err)

# %% [markdown]
# ## Exercises
#
# 1. **A two-input op.** Write `Hypot(a, b)` $= \sqrt{a^2 + b^2}$ as a `Function`, with
#    $\partial y/\partial a = a / y$ and $\partial y/\partial b = b / y$, check it with `gradcheck`, and compare it
#    with the same expression composed from the library's ops.
# 2. **A deliberate lie.** Quantization-aware training rounds in forward but pretends, in backward, that rounding
#    was the identity (the *straight-through estimator*): forward $y = \operatorname{round}(x)$, backward
#    $\mathrm{d}x = \mathrm{d}y$. Write it, show that `gradcheck` rejects it (what is the true derivative?), and
#    that a weight behind it still gets a gradient.
# 3. **Predict the versions.** For `t = tge.ones(4)`, `v = t[2:]`, then `t.mul_(2)`, `v.add_(1)`,
#    `t[0] = 5`, `d = t.detach()`, `d.zero_()`: predict `t._version` and `t.tolist()` before running it.

# %% tags=["solution"] jupyter={"source_hidden": true}
# 1. Hypot: y = sqrt(a² + b²), da = dy · a / y, db = dy · b / y (saving y, the output, saves a square root).


class Hypot(Function):
    """y = √(a² + b²)        da = dy · a / y,   db = dy · b / y"""

    @staticmethod
    def forward(ctx, a, b):
        y = np.sqrt(a * a + b * b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b, y = ctx.saved_tensors
        return unbroadcast(dy * a / y, a.shape), unbroadcast(dy * b / y, b.shape)


a = tge.tensor(rng.normal(size=(3,)) + 2, dtype=tge.float64, requires_grad=True)
bb = tge.tensor(rng.normal(size=(3,)) - 2, dtype=tge.float64, requires_grad=True)
assert tge.gradcheck(Hypot.apply, [a, bb])
Hypot.apply(a, bb).sum().backward()
a2, b2 = (tge.tensor(t.numpy(), requires_grad=True) for t in (a, bb))
(a2 * a2 + b2 * b2).sqrt().sum().backward()  # the same thing composed: Mul, Mul, Add, Sqrt
print("Hypot grads:", a.grad.numpy(), bb.grad.numpy())
assert np.allclose(a.grad.numpy(), a2.grad.numpy()) and np.allclose(bb.grad.numpy(), b2.grad.numpy())
print("composed graph:", node_names((a2 * a2 + b2 * b2).sqrt().sum()), "vs", node_names(Hypot.apply(a, bb).sum()))

# %% tags=["solution"] jupyter={"source_hidden": true}
# 2. The straight-through estimator: round's true derivative is 0 almost everywhere, so gradcheck disagrees.


class RoundSTE(Function):
    """y = round(x)        dx = dy   (a deliberate approximation: the true derivative is 0 almost everywhere)"""

    @staticmethod
    def forward(ctx, x):
        return np.round(x)

    @staticmethod
    def backward(ctx, dy):
        return dy


xq = tge.tensor([0.3, 1.2, -0.7], dtype=tge.float64, requires_grad=True)  # away from the .5 jumps
try:
    tge.gradcheck(RoundSTE.apply, [xq])
    raise AssertionError("gradcheck should reject the straight-through estimator")
except tge.GradcheckError as err:
    print("gradcheck:", err)
    assert "finite differences give 0" in str(err)
wq = tge.tensor([0.26, 0.74], requires_grad=True)
(RoundSTE.apply(wq * 4) * tge.tensor([1.0, -1.0])).sum().backward()
print("gradient reaching the weight through the rounding:", wq.grad.numpy())
assert np.allclose(wq.grad.numpy(), [4.0, -4.0])

# %% tags=["solution"] jupyter={"source_hidden": true}
# 3. Every in-place change of the storage counts once, through whichever alias it is made: 4 changes.
t = tge.ones(4)
v = t[2:]
t.mul_(2)  # [2, 2, 2, 2]          version 1
v.add_(1)  # [2, 2, 3, 3]          version 2 (v is a view of t)
t[0] = 5.0  # [5, 2, 3, 3]         version 3
d = t.detach()
d.zero_()  # [0, 0, 0, 0]          version 4 (detach shares the storage and the counter)
print("t._version =", t._version, " t =", t.tolist())
assert t._version == v._version == d._version == 4 and t.tolist() == [0.0, 0.0, 0.0, 0.0]
